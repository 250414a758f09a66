"""Agency identity and incremental linking: agencies.identity_key (normalized_name no longer
unique: the same short name exists in many places), agency_aliases, agency_ambiguities,
documents.linked_at (what `link` has already seen), report_documents.version / rank (revisions
and merge order), report_conflicts.kind.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds `agencies` to drop its UNIQUE: the DROP TABLE of the rebuild must not trip
    over (or cascade through) the rows that reference agencies. `foreign_keys` can only change
    outside a transaction (an upgrade from 0003 starts outside one); `defer_foreign_keys` covers the
    other case: references are checked at commit, when the rebuilt table is in place again."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if not on:
        op.execute("PRAGMA defer_foreign_keys=ON")


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("agencies") as batch:
        batch.drop_constraint("uq_agencies_normalized_name", type_="unique")
        batch.add_column(sa.Column("identity_key", sa.Text(), nullable=True))
        batch.create_unique_constraint("uq_agencies_identity_key", ["identity_key"])
        batch.create_index("ix_agencies_normalized_name", ["normalized_name"])
    _sqlite_foreign_keys(True)
    op.create_table(
        "agency_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name="fk_agency_aliases_agency_id_agencies",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_agency_aliases"),
        sa.UniqueConstraint("agency_id", "normalized", name="uq_agency_aliases_agency_id_normalized"),
    )
    op.create_index("ix_agency_aliases_normalized", "agency_aliases", ["normalized"])
    op.create_table(
        "agency_ambiguities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("printed_name", sa.Text(), nullable=False),
        sa.Column("portal_id", sa.String(length=200), nullable=True),
        sa.Column("candidate_codes", sa.Text(), nullable=False),
        sa.Column("candidate_names", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_agency_ambiguities_document_id_documents",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name="fk_agency_ambiguities_agency_id_agencies",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["portal_id"], ["portals.id"], name="fk_agency_ambiguities_portal_id_portals"),
        sa.PrimaryKeyConstraint("id", name="pk_agency_ambiguities"),
        sa.UniqueConstraint("document_id", name="uq_agency_ambiguities_document_id"),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_documents_linked_at", ["linked_at"])
        batch.create_index("ix_documents_parent_url", ["parent_url"])
    with op.batch_alter_table("report_documents") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rank", sa.Integer(), nullable=True))
    with op.batch_alter_table("report_conflicts") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_conflicts") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("report_documents") as batch:
        batch.drop_column("rank")
        batch.drop_column("version")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_parent_url")
        batch.drop_index("ix_documents_linked_at")
        batch.drop_column("linked_at")
    op.drop_table("agency_ambiguities")
    op.drop_index("ix_agency_aliases_normalized", table_name="agency_aliases")
    op.drop_table("agency_aliases")
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("agencies") as batch:
        batch.drop_index("ix_agencies_normalized_name")
        batch.drop_constraint("uq_agencies_identity_key", type_="unique")
        batch.drop_column("identity_key")
        batch.create_unique_constraint("uq_agencies_normalized_name", ["normalized_name"])
    _sqlite_foreign_keys(True)
