"""`harvester link`: group stored documents into reports (idempotent)."""
from __future__ import annotations

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl


@app.command("link")
def link_command(data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Link stored documents of the same agency and year into one report and pick its canonical document."""
    from harvester.config import resolve
    from harvester.store import Store

    settings = resolve(data_dir, db)
    with Store(settings.db_url, settings.data_dir) as store:
        stats = store.link()
    for key, value in stats.as_dict().items():
        typer.echo(f"{key}: {value}")
