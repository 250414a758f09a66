"""`harvester ingest PATH...`: store local files (recursively for folders), then link."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Iterator

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Files under `paths` in a stable order (folders recursively, hidden entries skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child
        else:
            yield path


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(
        exists=True, help="Files or folders (searched recursively); a path that does not exist is a usage error.")],
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Store local report files in the database (as file:// URLs), extract them, then link reports.

    The same file ingested twice adds nothing; a file that cannot be read or extracted is
    recorded with its error and the others go on.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console()
    counts = {"files": 0, "new": 0, "already stored": 0, "extraction errors": 0, "unreadable": 0}
    errors: list[tuple[str, str]] = []
    from harvester.progress import Progress

    files = list(iter_files(paths))
    with open_store(data_dir, db) as store, Progress() as progress:
        task = progress.task("ingest", total=len(files), unit="files")
        run_id = store.start_run("ingest")
        for path in files:
            task.advance()
            counts["files"] += 1
            url = path.resolve().as_uri()
            try:
                body = path.read_bytes()
            except OSError as exc:
                counts["unreadable"] += 1
                store.add_document(url, None, fetch_error=f"unreadable file: {exc}", run_id=run_id)
                errors.append((str(path), f"unreadable: {exc}"))
                continue
            result = store.add_document(url, body, run_id=run_id)
            counts["new" if result.created else "already stored"] += 1
            if result.created:
                kind, message = _error_of(store, result.document_id)
                if kind:
                    counts["extraction errors"] += 1
                    errors.append((str(path), f"{kind}: {message}"))
        stats = store.link()
        store.finish_run(run_id, {**counts, "link": stats.as_dict()})

    table = Table(title="ingest")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key, str(value))
    for key in ("reports", "linked", "unlinked", "multi_document_reports", "conflicts"):
        table.add_row(f"link: {key.replace('_', ' ')}", str(getattr(stats, key)))
    console.print(table)
    for path, message in errors:
        console.print(f"[yellow]{path}[/]: {message}", markup=True, highlight=False)


def _error_of(store, document_id: int) -> tuple[str | None, str | None]:
    from harvester.db.models import Document

    with store.session() as s:
        doc = s.get(Document, document_id)
        return (doc.error_kind, doc.error_message) if doc else (None, None)
