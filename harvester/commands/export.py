"""`harvester export --out DIR [--bom]`: CSV files of the linked reports."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write reports.csv, cells.csv, table2-4.csv into.")],
    bom: Annotated[bool, typer.Option("--bom", help="Write UTF-8 with a byte-order mark (for Excel).")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Export reports, their cells (long form) and tables 2-4 (wide) as CSV."""
    from harvester.export import export

    from harvester.progress import Progress

    with open_store(data_dir, db, read_only=True) as store, Progress() as progress:
        task = progress.task("export", unit="files")
        result = export(store, out, bom=bom)
        task.update(done=len(result.files), total=len(result.files))
    for name, rows in result.files.items():
        typer.echo(f"{out / name}: {rows} rows")
