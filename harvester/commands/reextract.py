"""`harvester reextract`: run extraction again over archived documents (no network)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Workers, open_store


@app.command("reextract")
def reextract_command(
    document: Annotated[Optional[list[int]], typer.Option("--document", help="Only these document ids (repeatable).")] = None,
    all_documents: Annotated[bool, typer.Option(
        "--all", help="Every document, not only those extracted by an older extractor version.")] = False,
    workers: Workers = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Re-extract stored documents from the raw archive after an extractor upgrade, then link.

    By default only documents extracted by an older extractor version (or never) are redone;
    `--all` (or `--document ID`) redoes them whatever their version. Nothing is fetched again:
    every document's original bytes are kept in the archive, checked against their SHA-256.
    """
    from harvester.progress import Progress

    with open_store(data_dir, db) as store, Progress() as progress:
        task = progress.task("reextract", unit="documents")
        stats = store.extract_pending(workers, "all" if all_documents or document else "older", document,
                                      progress=task.advance)
        link = store.link()
    typer.echo(f"re-extracted {stats.extracted} documents ({stats.archive_errors} archive errors); {link}")
    if stats.archive_errors:
        raise typer.Exit(code=1)
