"""Extraction as its own stage: the version of the extractor that produced each document's
cells (NULL = pending: archived, not extracted yet).

Documents extracted before this migration get version 0, so `harvester reextract` (which redoes
every document older than the current `harvester.extract.EXTRACTOR_VERSION`) picks them up, while
`harvester extract-pending` does not extract them a second time.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("extractor_version", sa.Integer(), nullable=True))
        batch.create_index("ix_documents_extractor_version", ["extractor_version"])
    op.execute("UPDATE documents SET extractor_version = 0 WHERE extracted_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_extractor_version")
        batch.drop_column("extractor_version")
