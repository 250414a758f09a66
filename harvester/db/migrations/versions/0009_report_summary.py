"""Each report's summary is stored by `link` instead of regrouped by every read.

``report_summary`` (and through it ``reports.csv``, ``harvester reports`` and coverage) grouped
every report's checks and merged values over the whole corpus before its first row: 11 minutes
at 1,000,000 reports, for one row per report, however few were asked for. `harvester.link`
now writes the summary of each report it touches (`harvester.link.summarize`); this revision
adds the columns and summarizes the reports already linked, with the same function.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

REPORT_COLUMNS = {"documents": sa.Integer(), "checks": sa.Integer(), "failed_checks": sa.Integer(),
                  "failed_documents": sa.Integer(), "value_documents": sa.Text()}


def upgrade() -> None:
    from harvester.agency.store import chunks
    from harvester.link import REPORT_SEGMENT, summarize

    for name, type_ in REPORT_COLUMNS.items():
        op.add_column("reports", sa.Column(name, type_, nullable=True))
    op.add_column("report_documents", sa.Column("source", sa.Boolean(), nullable=True))
    conn = op.get_bind()
    ids = [r for (r,) in conn.execute(sa.text("SELECT id FROM reports ORDER BY id"))]
    for batch in chunks(ids, REPORT_SEGMENT):
        summarize(conn, batch)


def downgrade() -> None:
    with op.batch_alter_table("report_documents") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("reports") as batch:
        for name in reversed(list(REPORT_COLUMNS)):
            batch.drop_column(name)
