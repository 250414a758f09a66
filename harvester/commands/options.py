"""Options shared by every command that touches the database or data directory."""
from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from typing import Annotated, Any, Iterable, Optional

import typer

DataDir = Annotated[Optional[str], typer.Option("--data-dir", envvar="HARVESTER_DATA_DIR",
                                                 help="Data directory (archive, SQLite file). Default ./data")]
DbUrl = Annotated[Optional[str], typer.Option("--db", envvar="HARVESTER_DB",
                                               help="SQLAlchemy database URL. Default: SQLite file in the data directory")]

Workers = Annotated[Optional[int], typer.Option("--workers", "-w", min=1,
                                                help="Extraction processes. Default: every core")]


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


#: The one output option every listing command shares.
OutputFormat = Annotated[Format, typer.Option("--format", "-f", help="Output: a table for reading, or json/csv/tsv.")]


def emit(columns: list[str], rows: Iterable[list[Any]], fmt: Format, title: str | None = None) -> None:
    """Print rows in the chosen format (JSON Lines for json). json, csv and tsv stream the rows."""
    if fmt is Format.json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(columns, row)), ensure_ascii=False))
    elif fmt in (Format.csv, Format.tsv):
        writer = csv.writer(sys.stdout, delimiter="," if fmt is Format.csv else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console().print(table)
