"""Tell PostgreSQL how many distinct ids the big tables hold (as a fraction of their rows).

ANALYZE samples whole pages, and a document's cells fill whole pages: at 1,000,000 reports
(200 million cells) the sample saw each sampled document's cells several times and guessed
35,165 documents instead of 1,000,000. 500 document ids then looked like 3.5 million cells, so
`link` read every batch of cells by a parallel scan of the whole table (20 s a batch, where the
index takes 0.1 s: about eleven hours for a first link instead of minutes). The same happens to
``checks``. ``n_distinct`` as a negative number is a fraction of the table's rows, so it stays
right as the corpus grows; the fractions are the bench corpus's (`bench/scale.py`: ~200 cells a
document; per check row 0.0118 documents, 0.0118 reports, 0.0020 agencies), and only their order
of magnitude matters to the planner. SQLite keeps no such statistics: nothing to do there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: (table, column, n_distinct): negative = distinct values as a fraction of the table's rows
ID_STATISTICS = (
    ("cells", "document_id", -0.005),
    ("checks", "document_id", -0.01),
    ("checks", "report_id", -0.01),
    ("checks", "agency_id", -0.002),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, n_distinct in ID_STATISTICS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET (n_distinct = {n_distinct})")
    for table in sorted({t for t, _, _ in ID_STATISTICS}):  # the planner sees it now, not at the next autovacuum
        columns = ", ".join(c for t, c, _ in ID_STATISTICS if t == table)
        op.execute(f"ANALYZE {table} ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, _ in ID_STATISTICS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} RESET (n_distinct)")
