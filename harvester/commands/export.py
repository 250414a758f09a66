"""`harvester export --out DIR [--bom] [--gzip] [--year N] [--level L] [--region R] [--agency A]`: the data package."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store

Years = Annotated[Optional[list[int]], typer.Option("--year", help="Only this reporting year (repeatable).")]
Levels = Annotated[Optional[list[str]], typer.Option(
    "--level", help="Only agencies of this level: national, province, city, county, district, township, "
                    "department (repeatable).")]
Regions = Annotated[Optional[list[str]], typer.Option(
    "--region", help="Only this region: a GB/T 2260 code or prefix (37, 3703, 370305) or a place name in the "
                     "agency's or its parents' names (山东省, 淄博市). Repeatable.")]
Agencies = Annotated[Optional[list[str]], typer.Option(
    "--agency", help="Only this agency: its id, or text its name contains (repeatable).")]


def make_filters(year: list[int] | None, level: list[str] | None, region: list[str] | None,
                 agency: list[str] | None):
    from harvester.export import Filters

    return Filters(tuple(year or ()), tuple(level or ()), tuple(region or ()), tuple(agency or ()))


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the CSV files and datapackage.json into.")],
    bom: Annotated[bool, typer.Option("--bom", help="Write UTF-8 with a byte-order mark (for Excel).")] = False,
    gzip: Annotated[bool, typer.Option(
        "--gzip", help="Write every CSV gzip-compressed (NAME.csv.gz; pandas, R and frictionless read it as is): "
                       "a national cells.csv of tens of GB shrinks about tenfold.")] = False,
    year: Years = None,
    level: Levels = None,
    region: Regions = None,
    agency: Agencies = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Export the data package: reports, cells (long) and tables 2-4 (wide), agencies, documents, checks and
    their glossary, conflicts, coverage, codebook, and datapackage.json describing them (Frictionless)."""
    from harvester.export import export

    from harvester.progress import Progress

    with open_store(data_dir, db, read_only=True) as store, Progress() as progress:
        task = progress.task("export", unit="files")
        result = export(store, out, bom=bom, gzip=gzip, filters=make_filters(year, level, region, agency))
        task.update(done=len(result.files), total=len(result.files))
    for name, rows in result.files.items():
        typer.echo(f"{out / name}: {rows} rows")
    typer.echo(f"{out / 'datapackage.json'}: data package descriptor")
