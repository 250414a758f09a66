"""`harvester extract PATH... [--json]`: offline extraction of local files."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from harvester.cli import app


@app.command("extract")
def extract_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to extract (any supported format).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per input (JSON Lines).")] = False,
) -> None:
    """Extract the tables of each file offline (no database, no network).

    Folders are searched recursively. FIFOs and devices are never read, files over the size
    limit are refused from their size, symlinks out of a folder given are not followed, and
    unreadable folders are named. Exits non-zero at the end if any input failed; the other
    inputs still go on.
    """
    from harvester.extract import extract
    from harvester.extract.settings import DEFAULT
    from harvester.localfiles import LocalFile, RefusedFile, read_limited, walk
    from harvester.progress import Progress

    def refused(path: Path, kind: str, message: str) -> None:
        line = {"source": str(path), "sha256": None, "media_type": None, "title": None, "agency": None,
                "year": None, "template": None, "table2": None, "table3": None, "table4": None,
                "blank_cells": [], "checks": [], "error": {"kind": kind, "message": message}}
        typer.echo(json.dumps(line, ensure_ascii=False) if as_json else f"{path}: error [{kind}] {message}")

    failed = 0
    entries = list(walk(paths, DEFAULT.max_bytes))  # paths and kinds only: the total for the progress display
    with Progress() as progress:
        task = progress.task("extract", total=len(entries), unit="files")
        for entry in entries:
            task.advance()
            path = entry.path
            if not isinstance(entry, LocalFile):
                failed += 1
                refused(path, entry.kind, entry.message)
                continue
            try:
                data = read_limited(path, DEFAULT.max_bytes)
            except RefusedFile as exc:
                failed += 1
                refused(path, exc.kind, str(exc))
                continue
            except OSError as exc:
                failed += 1
                refused(path, "unreadable_file", str(exc))
                continue
            record = extract(data, source=str(path))
            failed += record.error is not None
            if as_json:
                typer.echo(json.dumps(record.to_json(), ensure_ascii=False))
            else:
                _print_summary(record)
    if failed:
        raise typer.Exit(code=1)


def _print_summary(record) -> None:
    if record.error:
        typer.echo(f"{record.source}: error [{record.error.kind}] {record.error.message}")
        return
    bad = [c for c in record.checks if not c.ok]
    typer.echo(
        f"{record.source}: {record.agency or '?'} {record.year or '?'} template={record.template or '-'} "
        f"cells={len(record.cells)} blank={len(record.blank_cells)} checks={len(record.checks)} failed={len(bad)}"
    )
    for c in bad:
        typer.echo(f"  check {c.rule} @ {c.where}: expected {c.expected}, found {c.found}", file=sys.stdout)
