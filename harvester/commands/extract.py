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

    failed = 0
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            failed += 1
            line = {"source": str(path), "sha256": None, "media_type": None, "title": None, "agency": None,
                    "year": None, "template": None, "table2": None, "table3": None, "table4": None,
                    "blank_cells": [], "checks": [], "error": {"kind": "unreadable_file", "message": str(exc)}}
            typer.echo(json.dumps(line, ensure_ascii=False) if as_json else f"{path}: error: {exc}")
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
