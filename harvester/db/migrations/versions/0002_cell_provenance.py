"""Cell provenance (bounding box, OCR confidence), the agency's administrative level, the report kind.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("bbox", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("agency_level", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("report_kind", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("report_kind")
        batch.drop_column("agency_level")
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("confidence")
        batch.drop_column("bbox")
