"""Nightly runs: a crawl run's status and owner process, per-portal run records, the change
log, and on documents the HTTP validators (ETag / Last-Modified), the typed fetch error and
the time a document was seen to disappear.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("etag", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_modified", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fetch_error_kind", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "portal_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name="fk_portal_runs_run_id_crawl_runs",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["portal_id"], ["portals.id"], name="fk_portal_runs_portal_id_portals"),
        sa.PrimaryKeyConstraint("id", name="pk_portal_runs"),
        sa.UniqueConstraint("run_id", "portal_id", name="uq_portal_runs_run_id_portal_id"),
    )
    op.create_index("ix_portal_runs_portal_id", "portal_runs", ["portal_id"])
    op.create_table(
        "document_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.String(length=200), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("previous_document_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name="fk_document_changes_run_id_crawl_runs",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["portal_id"], ["portals.id"], name="fk_document_changes_portal_id_portals"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_document_changes_document_id_documents",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["previous_document_id"], ["documents.id"],
                                name="fk_document_changes_previous_document_id_documents", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_document_changes"),
    )
    op.create_index("ix_document_changes_run_id", "document_changes", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_document_changes_run_id", table_name="document_changes")
    op.drop_table("document_changes")
    op.drop_index("ix_portal_runs_portal_id", table_name="portal_runs")
    op.drop_table("portal_runs")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("fetch_error_kind")
        batch.drop_column("last_modified")
        batch.drop_column("etag")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
        batch.drop_column("status")
