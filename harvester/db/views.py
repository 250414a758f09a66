"""SQL views: the export's numbers, queryable in the database itself.

The CSV export (`harvester.export`), `harvester reports`, `harvester coverage` and a SQL or
datasette user read the same views, so they all see the same numbers:

* ``document_rank``: each linked document's publication (``version``, 1 = newest) and ``rank``
  (0 = canonical, then merge order) as `harvester.link` wrote them in ``report_documents``: the
  ranking is computed once, by link, and only read here.
* ``report_cells``: a report's merged numbers, one row per (report, table, row, column): among the
  version-1 documents, the cell of the lowest-rank document that has a value, else the lowest-rank
  document's cell (`harvester.link.merged_cells` in SQL; a test keeps the two equal).
* ``report_values``: the documents a report's numbers come from (``value_documents``).
* ``report_sources``: those, or the canonical document when no document has a value: whose
  document checks speak about the report (``report_documents.source``, written by link).
* ``report_checks``: the checks that speak about a report: document checks of its sources and
  report checks (``scope = 'report'``).
* ``report_summary``: one row per report as in ``reports.csv``: the summary `harvester.link`
  stored on ``reports`` when it last touched the report (`harvester.link.summarize`; a test keeps
  it equal to grouping ``report_checks`` and ``report_values``). Nothing is regrouped when it is
  read, so its first row comes at once on a million reports.
* ``coverage``: agency × year from each agency's first report year to the newest year in the
  database, with its status (`harvester.coverage` adds the registry's expectations). Only
  agencies with reports are expected (parent governments without reports are not); a year
  without a report is ``blocked`` / ``gone`` when a portal of the agency's division
  (``division_code``) is — never by matching names, which repeat across places.

Views are not created by Alembic migrations (SQLite's batch migrations copy and rename tables,
which fails while a view references them): `harvester.db.session.upgrade()` drops every view,
runs the migrations and creates them again. Both steps are idempotent.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

#: name -> SELECT; created in this order, dropped in reverse.
VIEWS: dict[str, str] = {
    # what `harvester.link` wrote: one ranking, computed once (NULL version / rank: linked before
    # revisions were recorded, until the next link — a current reading, as link reads it)
    "document_rank": """
SELECT rd.report_id, rd.document_id, COALESCE(rd.version, 1) AS version, COALESCE(rd.rank, 0) AS rank,
       COUNT(*) OVER (PARTITION BY rd.report_id) AS members
FROM report_documents rd""",
    # one-document reports (most) take their document's cells as they are; only reports of several
    # documents pay for the window. Only version 1 (the current publication) gives values; each cell
    # from the lowest-rank document that has a value, else from the lowest-rank one (`merged_cells`)
    "report_cells": """
SELECT dr.report_id, c."table", c.row_key, c.column_key, c.value, c.value_text, c.raw_text, c.semantic, c.unit,
       c.document_id, c.id AS cell_id
FROM cells c JOIN document_rank dr ON dr.document_id = c.document_id AND dr.members = 1
UNION ALL
SELECT report_id, "table", row_key, column_key, value, value_text, raw_text, semantic, unit, document_id, cell_id
FROM (SELECT dr.report_id, c."table", c.row_key, c.column_key, c.value, c.value_text, c.raw_text, c.semantic,
             c.unit, c.document_id, c.id AS cell_id,
             ROW_NUMBER() OVER (PARTITION BY dr.report_id, c."table", c.row_key, c.column_key ORDER BY
                 CASE WHEN c.value_text IS NULL THEN 1 ELSE 0 END, dr.rank, c.document_id, c.id) AS pick
      FROM cells c JOIN document_rank dr ON dr.document_id = c.document_id AND dr.members > 1
                                          AND dr.version = 1) ranked
WHERE pick = 1""",
    "report_values": """
SELECT DISTINCT report_id, document_id FROM report_cells WHERE value_text IS NOT NULL""",
    # what link stored (`harvester.link.summarize`): whose document checks speak about the report
    "report_sources": """
SELECT report_id, document_id FROM report_documents WHERE source""",
    "report_checks": """
SELECT rs.report_id, ch.id AS check_id, ch.scope, ch.document_id, ch.rule, ch."where", ch.expected, ch.found,
       ch.ok
FROM report_sources rs JOIN checks ch ON ch.document_id = rs.document_id AND ch.scope = 'document'
UNION ALL
SELECT ch.report_id, ch.id, ch.scope, ch.document_id, ch.rule, ch."where", ch.expected, ch.found, ch.ok
FROM checks ch WHERE ch.scope = 'report' AND ch.report_id IS NOT NULL""",
    # one row per report, as `harvester.link.summarize` stored it: nothing regrouped per read
    "report_summary": """
SELECT r.id AS report_id, r.agency_id, a.name AS agency, a.normalized_name, a.division_code, a.level,
       r.year, r.template, d.url AS source_url,
       COALESCE(r.documents, 0) AS documents,
       COALESCE(r.checks, 0) AS checks,
       COALESCE(r.failed_checks, 0) AS failed_checks,
       r.value_documents,
       COALESCE(r.failed_documents, 0) AS failed_documents
FROM reports r
JOIN agencies a ON a.id = r.agency_id
LEFT JOIN documents d ON d.id = r.canonical_document_id""",
    "coverage": """
WITH RECURSIVE bounds AS (SELECT MAX(year) AS last FROM reports),
first_seen AS (SELECT agency_id, MIN(year) AS first FROM reports GROUP BY agency_id),
agency_years AS (
    SELECT f.agency_id, f.first AS year FROM first_seen f
    UNION ALL
    SELECT ay.agency_id, ay.year + 1 FROM agency_years ay, bounds b WHERE ay.year < b.last
),
blocked AS (
    SELECT a.id AS agency_id, MIN(p.status) AS status FROM agencies a
    JOIN portals p ON p.status IN ('blocked', 'gone') AND p.division_code = a.division_code
    GROUP BY a.id
)
SELECT ay.agency_id, a.name AS agency, a.division_code, a.level, ay.year,
       CASE WHEN rs.report_id IS NULL THEN COALESCE(b.status, 'missing')
            WHEN rs.value_documents IS NULL AND rs.failed_documents > 0 THEN 'failed'
            WHEN rs.failed_checks > 0 THEN 'failed_checks'
            ELSE 'found' END AS status,
       rs.report_id, COALESCE(rs.documents, 0) AS documents,
       COALESCE(rs.failed_documents, 0) AS failed_documents,
       COALESCE(rs.failed_checks, 0) AS failed_checks
FROM agency_years ay
JOIN agencies a ON a.id = ay.agency_id
LEFT JOIN blocked b ON b.agency_id = ay.agency_id
LEFT JOIN report_summary rs ON rs.agency_id = ay.agency_id AND rs.year = ay.year""",
}

#: Status values of the ``coverage`` view (the registry adds none: its expectations use the same).
COVERAGE_STATUSES = ("found", "failed_checks", "failed", "blocked", "gone", "missing")


def drop_views(conn: Connection) -> None:
    """Drop every view of the database (ours and any a user added on top of ours)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        names = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'view'"))]
        for name in names:
            conn.execute(text(f'DROP VIEW IF EXISTS "{name}"'))
    else:
        names = [r[0] for r in conn.execute(text(
            "SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()"))]
        for name in names:
            conn.execute(text(f'DROP VIEW IF EXISTS "{name}" CASCADE'))
    for name in reversed(list(VIEWS)):  # views of an unusual schema search path
        conn.execute(text(f'DROP VIEW IF EXISTS "{name}"' + (" CASCADE" if dialect != "sqlite" else "")))


def create_views(conn: Connection) -> None:
    """(Re)create every view; run after the migrations."""
    dialect = conn.dialect.name
    for name in VIEWS:
        conn.execute(text(f'DROP VIEW IF EXISTS "{name}"' + (" CASCADE" if dialect != "sqlite" else "")))
        conn.execute(text(f'CREATE VIEW "{name}" AS {VIEWS[name]}'))
