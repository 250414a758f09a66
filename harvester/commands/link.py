"""`harvester link`: group stored documents into reports (idempotent, incremental)."""
from __future__ import annotations

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store


@app.command("link")
def link_command(data_dir: DataDir = None, db: DbUrl = None,
                 all_documents: bool = typer.Option(False, "--all",
                                                    help="Re-link every document, not only those "
                                                         "stored or re-extracted since the last link.")) -> None:
    """Link stored documents of the same agency and year into one report (agency identity, revisions,
    merge order, conflicts, series checks); only documents new or re-extracted since the last link."""
    with open_store(data_dir, db) as store:
        stats = store.link(full=all_documents)
    for key, value in stats.as_dict().items():
        typer.echo(f"{key}: {value}")
