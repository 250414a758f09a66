"""`harvester reports`: list the linked reports (agency, year, template, documents, checks)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Format, OutputFormat, emit

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

    from harvester.config import resolve
    from harvester.db.models import Agency, CheckRow, Document, Report, ReportDocument
    from harvester.store import Store

    settings = resolve(data_dir, db)
    with Store(settings.db_url, settings.data_dir) as store, store.session() as s:
        docs = select(ReportDocument.report_id, func.count().label("n")).group_by(ReportDocument.report_id).subquery()
        failed = (select(CheckRow.document_id, func.count().label("n")).where(CheckRow.ok.is_(False))
                  .group_by(CheckRow.document_id).subquery())
        q = (select(Report.id, Agency.name, Report.year, Report.template, func.coalesce(docs.c.n, 0),
                    func.coalesce(failed.c.n, 0), Document.url)
             .join(Agency, Agency.id == Report.agency_id)
             .outerjoin(docs, docs.c.report_id == Report.id)
             .outerjoin(failed, failed.c.document_id == Report.canonical_document_id)
             .outerjoin(Document, Document.id == Report.canonical_document_id)
             .order_by(Agency.normalized_name, Report.year))
        if agency:
            q = q.where(Agency.name.contains(agency))
        if year:
            q = q.where(Report.year == year)
        rows = [list(r) for r in s.execute(q).all()]
    emit(COLUMNS, rows, fmt, title="reports")
