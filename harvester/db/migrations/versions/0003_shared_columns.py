"""Columns several stages share: a cell's unit, an agency's division code / level / parent
government, a check's scope (document, report or series), a portal's division code, registry
status and source.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("unit", sa.String(length=20), nullable=True))
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("division_code", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("level", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_agencies_parent_id_agencies", "agencies", ["parent_id"], ["id"])
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=10), nullable=False, server_default="document"))
        batch.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
        batch.alter_column("document_id", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key("fk_checks_report_id_reports", "reports", ["report_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_foreign_key("fk_checks_agency_id_agencies", "agencies", ["agency_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_index("ix_checks_report_id", ["report_id"])
        batch.create_index("ix_checks_agency_id", ["agency_id"])
    with op.batch_alter_table("portals") as batch:
        batch.add_column(sa.Column("division_code", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portals") as batch:
        batch.drop_column("source")
        batch.drop_column("status")
        batch.drop_column("division_code")
    with op.batch_alter_table("checks") as batch:
        batch.drop_index("ix_checks_agency_id")
        batch.drop_index("ix_checks_report_id")
        batch.drop_constraint("fk_checks_agency_id_agencies", type_="foreignkey")
        batch.drop_constraint("fk_checks_report_id_reports", type_="foreignkey")
        batch.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("agency_id")
        batch.drop_column("report_id")
        batch.drop_column("scope")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_constraint("fk_agencies_parent_id_agencies", type_="foreignkey")
        batch.drop_column("parent_id")
        batch.drop_column("level")
        batch.drop_column("division_code")
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("unit")
