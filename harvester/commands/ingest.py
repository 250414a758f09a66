"""`harvester ingest PATH...`: store local files (recursively for folders), extract, then link.

Reading is defensive (`harvester.localfiles`): FIFOs and devices are never opened for a
blocking read, files over the extraction size limit are refused from their size before any
byte is read, symlinks leading out of the folder given are not followed, unreadable folders
are named, and files are copied into the archive in chunks while hashing (flat memory).
One bad path never stops the others; a full disk stops the run with exit code 1 and the
count of files not stored.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Workers, open_store


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(
        exists=True, help="Files or folders (searched recursively); a path that does not exist is a usage error.")],
    data_dir: DataDir = None,
    db: DbUrl = None,
    workers: Workers = None,
    store_only: Annotated[bool, typer.Option(
        "--store-only", help="Only archive and record the files (run extract-pending and link later).")] = False,
) -> None:
    """Store local report files in the database (as file:// URLs), extract them, then link reports.

    The same file ingested twice adds nothing; a file that cannot be read or extracted is
    recorded with its error and the others go on.
    """
    from rich.console import Console
    from rich.table import Table

    from harvester.archive import is_disk_full
    from harvester.extract.settings import DEFAULT
    from harvester.localfiles import TOO_LARGE, UNREADABLE, LocalFile, RefusedFile, open_regular, walk
    from harvester.progress import Progress

    console = Console()
    counts = {"files": 0, "new": 0, "already stored": 0, "extraction errors": 0, "unreadable": 0,
              "skipped": 0, "not stored (disk full)": 0}
    errors: list[tuple[str, str]] = []
    new_ids: list[int] = []
    disk_full: str | None = None
    limit = DEFAULT.max_bytes
    entries = list(walk(paths, limit))  # paths and kinds only: the total for the progress display
    with open_store(data_dir, db) as store, Progress() as progress:
        task = progress.task("ingest", total=len(entries), unit="files")
        run_id = store.start_run("ingest")
        for entry in entries:
            task.advance()
            if disk_full is not None:
                counts["not stored (disk full)"] += isinstance(entry, LocalFile)
                continue
            if not isinstance(entry, LocalFile):
                url = entry.path.absolute().as_uri()
                if entry.kind in (TOO_LARGE, UNREADABLE):  # a file that is there but cannot be taken
                    counts["files"] += 1
                    counts["unreadable"] += 1
                    store.add_document(url, None, fetch_error=f"{entry.kind}: {entry.message}", run_id=run_id)
                else:
                    counts["skipped"] += 1
                errors.append((str(entry.path), f"{entry.kind}: {entry.message}"))
                continue
            counts["files"] += 1
            url = entry.path.resolve().as_uri()
            try:
                with open_regular(entry.path, limit) as fh:
                    result = store.add_stream(url, fh, run_id=run_id, max_bytes=limit)
            except RefusedFile as exc:
                counts["unreadable"] += 1
                store.add_document(url, None, fetch_error=f"{exc.kind}: {exc}", run_id=run_id)
                errors.append((str(entry.path), f"{exc.kind}: {exc}"))
                continue
            except OSError as exc:
                if is_disk_full(exc):
                    disk_full = str(exc)
                    counts["not stored (disk full)"] += 1
                    continue
                counts["unreadable"] += 1
                store.add_document(url, None, fetch_error=f"unreadable file: {exc}", run_id=run_id)
                errors.append((str(entry.path), f"unreadable: {exc}"))
                continue
            counts["new" if result.created else "already stored"] += 1
            if result.created:
                new_ids.append(result.document_id)
        stats = None
        if disk_full is None and not store_only:
            store.extract_pending(workers, "pending", new_ids)
            for doc_id in new_ids:
                kind, message, path = _error_of(store, doc_id)
                if kind:
                    counts["extraction errors"] += 1
                    errors.append((path, f"{kind}: {message}"))
            stats = store.link()
        store.finish_run(run_id, {**counts, **({"link": stats.as_dict()} if stats else {}),
                                  **({"disk_full": disk_full} if disk_full else {})})

    table = Table(title="ingest")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key, str(value))
    if stats is not None:
        for key in ("reports", "linked", "unlinked", "multi_document_reports", "conflicts"):
            table.add_row(f"link: {key.replace('_', ' ')}", str(getattr(stats, key)))
    console.print(table)
    for path, message in errors:
        console.print(f"[yellow]{path}[/]: {message}", markup=True, highlight=False)
    if disk_full is not None:
        typer.echo(f"error: disk full, {counts['not stored (disk full)']} files not stored: {disk_full}", err=True)
        raise typer.Exit(code=1)


def _error_of(store, document_id: int) -> tuple[str | None, str | None, str]:
    from harvester.db.models import Document

    with store.session() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            return None, None, str(document_id)
        from urllib.parse import unquote

        path = unquote(doc.url.removeprefix("file://"))
        return doc.error_kind, doc.error_message, path

