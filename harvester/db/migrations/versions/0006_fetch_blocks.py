"""fetch_blocks: responses recorded as blocked or gone (challenge, WAF, cookie loop, JS shell,
soft-404), with the body archived as evidence.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fetch_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("portal_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("raw_path", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawl_runs.id"], name="fk_fetch_blocks_crawl_run_id_crawl_runs"),
        sa.ForeignKeyConstraint(["portal_id"], ["portals.id"], name="fk_fetch_blocks_portal_id_portals"),
        sa.PrimaryKeyConstraint("id", name="pk_fetch_blocks"),
        sa.UniqueConstraint("crawl_run_id", "url", "reason", name="uq_fetch_blocks_crawl_run_id_url_reason"),
    )
    op.create_index("ix_fetch_blocks_crawl_run_id", "fetch_blocks", ["crawl_run_id"])
    op.create_index("ix_fetch_blocks_portal_id", "fetch_blocks", ["portal_id"])


def downgrade() -> None:
    op.drop_index("ix_fetch_blocks_portal_id", table_name="fetch_blocks")
    op.drop_index("ix_fetch_blocks_crawl_run_id", table_name="fetch_blocks")
    op.drop_table("fetch_blocks")
