"""`harvester reports`: list the linked reports (agency, year, template, documents, checks).

`checks_failed` counts the failed checks of the documents the report's merged numbers come
from (`harvester.link.merged_cells`, the same view as the export)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Format, OutputFormat, emit, open_store

COLUMNS = ["report_id", "agency", "year", "template", "documents", "checks_failed", "source_url"]


@app.command("reports")
def reports_command(
    agency: Annotated[Optional[str], typer.Option(help="Only agencies whose name contains this.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Only this reporting year.")] = None,
    fmt: OutputFormat = Format.table,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """List the linked reports with their number of documents and failed checks."""
    from sqlalchemy import func, select

    from harvester.db.models import Agency, Document, Report, ReportDocument
    from harvester.export import report_checks, value_documents
    from harvester.link import merged_cells

    with open_store(data_dir, db, read_only=True) as store, store.session() as s:
        docs = select(ReportDocument.report_id, func.count().label("n")).group_by(ReportDocument.report_id).subquery()
        q = (select(Report.id, Agency.name, Report.year, Report.template, func.coalesce(docs.c.n, 0),
                    Report.canonical_document_id, Document.url)
             .join(Agency, Agency.id == Report.agency_id)
             .outerjoin(docs, docs.c.report_id == Report.id)
             .outerjoin(Document, Document.id == Report.canonical_document_id)
             .order_by(Agency.normalized_name, Report.year))
        if agency:
            q = q.where(Agency.name.contains(agency))
        if year:
            q = q.where(Report.year == year)
        rows = [list(r) for r in s.execute(q).all()]
        checks = report_checks(s, value_documents(merged_cells(s)), {r[0]: r[5] for r in rows})
        for r in rows:
            r[5] = sum(not ok for ok in checks.get(r[0], []))
    emit(COLUMNS, rows, fmt, title="reports")
