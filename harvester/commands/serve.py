"""`harvester serve`: browse the database with datasette (optional extra ``[serve]``).

The tables and the views (`harvester.db.views`) get titles, descriptions and column
descriptions from the data dictionary (docs/data-dictionary.toml), the same text as the
export's datapackage.json. datasette reads SQLite: on PostgreSQL, point a SQL client at the
same views instead."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl

MISSING = "harvester serve needs datasette: pip install 'govreports-harvester[serve]' (or make install)"

#: database object -> (the export file describing it, its label column)
DESCRIBED_BY: dict[str, tuple[str, str | None]] = {
    "report_summary": ("reports", "agency"), "report_cells": ("cells", None), "report_checks": ("checks", "rule"),
    "coverage": ("coverage", "agency"), "agencies": ("agencies", "name"), "documents": ("documents", "title"),
    "checks": ("checks", "rule"), "report_conflicts": ("conflicts", None), "cells": ("cells", None),
}
#: database column -> export column, where the names differ
COLUMN_ALIASES = {"row_key": "row", "column_key": "column", "id": None}


def datasette_metadata(database: str) -> dict[str, Any]:
    """datasette metadata (title, descriptions, column descriptions, label columns) from the data dictionary."""
    from harvester.export import dictionary, fields, resource

    d = dictionary()
    tables: dict[str, Any] = {}
    for name, (res_name, label) in DESCRIBED_BY.items():
        res = resource(res_name)
        described = {f["name"]: f["description"] for f in fields(res_name)}
        columns = dict(described)
        for db_col, export_col in COLUMN_ALIASES.items():
            if export_col in described:
                columns[db_col] = described[export_col]
        entry: dict[str, Any] = {"title": res["title"] if name not in d["views"] else f"{res['title']} (view {name})",
                                 "description": d["views"].get(name, res["description"]), "columns": columns}
        if label:
            entry["label_column"] = label
        tables[name] = entry
    return {"title": d["title"], "description": d["description"],
            "databases": {database: {"tables": tables}}}


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8001,
    metadata_out: Annotated[Optional[Path], typer.Option(
        "--write-metadata", help="Only write the datasette metadata JSON to this file and exit.")] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Browse the reports, numbers, checks, views and coverage in datasette (needs the serve extra)."""
    from harvester.config import resolve
    from harvester.store import Store

    settings = resolve(data_dir, db)
    if not settings.db_url.startswith("sqlite:///"):
        typer.echo("error: harvester serve reads a SQLite database (datasette); on PostgreSQL query the same "
                   "views (report_summary, report_cells, report_checks, coverage) with any SQL client", err=True)
        raise typer.Exit(code=2)
    with Store(settings.db_url, settings.data_dir):  # migrate and (re)create the views first
        pass
    db_path = Path(settings.db_url.removeprefix("sqlite:///"))
    metadata = datasette_metadata(db_path.stem)
    if metadata_out:
        metadata_out.write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
        typer.echo(str(metadata_out))
        return
    try:
        from datasette.cli import cli
    except ImportError:
        typer.echo(MISSING, err=True)
        raise typer.Exit(code=1) from None
    meta_path = settings.data_dir / "datasette-metadata.json"
    meta_path.write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo(f"serving {db_path} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    cli.main(["serve", str(db_path), "--metadata", str(meta_path), "--host", host, "--port", str(port)],
             prog_name="harvester serve", standalone_mode=True)
