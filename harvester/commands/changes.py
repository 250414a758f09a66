"""`harvester changes [--run N]`: the change log of a crawl run — documents added (a URL never
stored before), changed (a new version of a stored URL) and removed (gone from the portal)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Format, OutputFormat, emit, open_store

COLUMNS = ["run_id", "portal_id", "change", "url", "document_id", "previous_document_id", "agency", "year", "at"]


@app.command("changes")
def changes_command(
    run: Annotated[Optional[int], typer.Option("--run", help="Run id (default: the latest crawl run).")] = None,
    portal: Annotated[Optional[str], typer.Option("--portal", help="Only this portal.")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Every run, oldest first.")] = False,
    fmt: OutputFormat = Format.table,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """List the documents added, changed and removed in a run (default: the latest crawl)."""
    from sqlalchemy import func, select

    from harvester.commands.options import CliError
    from harvester.db.models import CrawlRun, Document, DocumentChange

    with open_store(data_dir, db, read_only=True) as store, store.session() as s:
        if run is None and not all_runs:
            run = s.scalar(select(func.max(CrawlRun.id)).where(CrawlRun.kind == "crawl"))
            if run is None:
                raise CliError("no crawl run yet")
        elif run is not None and s.get(CrawlRun, run) is None:
            raise CliError(f"no run {run}", code=2)
        q = (select(DocumentChange.run_id, DocumentChange.portal_id, DocumentChange.change, DocumentChange.url,
                    DocumentChange.document_id, DocumentChange.previous_document_id, Document.agency_name,
                    Document.year, DocumentChange.at)
             .outerjoin(Document, Document.id == DocumentChange.document_id)
             .order_by(DocumentChange.run_id, DocumentChange.portal_id, DocumentChange.change, DocumentChange.url))
        if run is not None:
            q = q.where(DocumentChange.run_id == run)
        if portal:
            q = q.where(DocumentChange.portal_id == portal)
        rows = [[*r[:-1], r[-1].isoformat(timespec="seconds") if r[-1] else None] for r in s.execute(q).all()]
    emit(COLUMNS, rows, fmt, title=f"changes in run {run}" if run is not None else "changes")
