"""`harvester reextract`: run extraction again over archived documents (no network)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store


@app.command("reextract")
def reextract_command(
    document: Annotated[Optional[list[int]], typer.Option("--document", help="Only these document ids (repeatable).")] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Re-extract stored documents from the raw archive (after an extractor upgrade), then link.

    Nothing is fetched again: every document's original bytes are kept in the archive.
    """
    from harvester.progress import Progress

    with open_store(data_dir, db) as store, Progress() as progress:
        task = progress.task("reextract", unit="documents")
        n = store.reextract(document, on_progress=lambda done, total: task.update(done=done, total=total))
        stats = store.link()
    typer.echo(f"re-extracted {n} documents; {stats}")
