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
    paths: Annotated[list[Path], typer.Argument(help="Files to extract (any supported format).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per input (JSON Lines).")] = False,
) -> None:
    """Extract the tables of each file offline (no database, no network).

    Exits non-zero at the end if any input failed; the other inputs still go on.
    """
    from harvester.extract import extract
    from harvester.progress import Progress

    failed = 0
    with Progress() as progress:
        task = progress.task("extract", total=len(paths), unit="files")
        for path in paths:
            failed += _extract_one(path, as_json, extract)
            task.advance()
    if failed:
        raise typer.Exit(code=1)


def _extract_one(path: Path, as_json: bool, extract) -> int:
    """Print one input's result; 1 if it failed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        line = {"source": str(path), "sha256": None, "media_type": None, "title": None, "agency": None,
                "year": None, "template": None, "table2": None, "table3": None, "table4": None,
                "blank_cells": [], "checks": [], "error": {"kind": "unreadable_file", "message": str(exc)}}
        typer.echo(json.dumps(line, ensure_ascii=False) if as_json else f"{path}: error: {exc}")
        return 1
    record = extract(data, source=str(path))
    if as_json:
        typer.echo(json.dumps(record.to_json(), ensure_ascii=False))
    else:
        _print_summary(record)
    return int(record.error is not None)


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
