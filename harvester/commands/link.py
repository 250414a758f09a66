"""`harvester link`: group stored documents into reports (idempotent)."""
from __future__ import annotations

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store


@app.command("link")
def link_command(data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Link stored documents of the same agency and year into one report and pick its canonical document."""
    with open_store(data_dir, db) as store:
        stats = store.link()
    for key, value in stats.as_dict().items():
        typer.echo(f"{key}: {value}")
