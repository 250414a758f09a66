"""`harvester reports`: list the linked reports (agency, year, template, documents, checks).

Rows come from the ``report_summary`` view, the same as ``reports.csv``: `checks_failed`
counts the failed checks of the documents the report's merged numbers come from and its
report checks. Streams: rows are printed as they are read (except the table format, which
needs them all to size its columns)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.export import Levels, Regions
from harvester.commands.options import DataDir, DbUrl, Format, OutputFormat, emit, open_store

COLUMNS = ["report_id", "agency", "year", "template", "documents", "checks_failed", "source_url"]


@app.command("reports")
def reports_command(
    agency: Annotated[Optional[list[str]], typer.Option(
        help="Only agencies whose name contains this, or this agency id (repeatable).")] = None,
    year: Annotated[Optional[list[int]], typer.Option(help="Only this reporting year (repeatable).")] = None,
    level: Levels = None,
    region: Regions = None,
    fmt: OutputFormat = Format.table,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """List the linked reports with their number of documents and failed checks."""
    from harvester.commands.export import make_filters
    from harvester.export import report_rows

    with open_store(data_dir, db, read_only=True) as store, store.engine.connect() as conn:
        emit(COLUMNS, report_rows(conn, make_filters(year, level, region, agency)), fmt, title="reports")
