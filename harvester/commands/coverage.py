"""`harvester coverage`: expected agency × year against found / missing / blocked / failed / failed checks.

Expectations come from the agencies' history (the ``coverage`` view) and from registry portals
that list ``years`` (the bundled registry, $HARVESTER_REGISTRY and ``--registry`` files; off with
``--no-registry``). See `harvester.coverage`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.export import Agencies, Levels, Regions, Years
from harvester.commands.options import DataDir, DbUrl, Format, OutputFormat, emit


@app.command("coverage")
def coverage_command(
    year: Years = None,
    level: Levels = None,
    region: Regions = None,
    agency: Agencies = None,
    registry: Annotated[Optional[list[Path]], typer.Option(
        "--registry", help="Extra registry TOML file (repeatable); also $HARVESTER_REGISTRY.")] = None,
    use_registry: Annotated[bool, typer.Option(
        "--registry-years/--no-registry", help="Expect each registry portal's `years` (default) or only the "
                                               "agencies' history.")] = True,
    heatmap: Annotated[Optional[Path], typer.Option("--heatmap", help="Write a heatmap PNG here.")] = None,
    html_out: Annotated[Optional[Path], typer.Option(
        "--html", help="Write one self-contained HTML report (heatmap inlined, tables) here.")] = None,
    by: Annotated[str, typer.Option("--by", help="Heatmap rows: agency (status colours) or region "
                                                 "(share found per division-code prefix).")] = "agency",
    fmt: OutputFormat = Format.table,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Which reports were expected (agency × year) and which were found, missing, blocked or failed."""
    from harvester import registry as reg_mod
    from harvester.commands.export import make_filters
    from harvester.config import resolve
    from harvester.coverage import COLUMNS, coverage, heatmap_png, html_report
    from harvester.errors import ConfigError
    from harvester.store import Store

    if by not in ("agency", "region"):
        typer.echo(f"error: --by {by!r}: expected agency or region", err=True)
        raise typer.Exit(code=2)
    try:
        portals = list(reg_mod.load(registry or ()).values()) if use_registry else []
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    settings = resolve(data_dir, db)
    with Store(settings.db_url, settings.data_dir) as store, store.engine.connect() as conn:
        rows = coverage(conn, portals, make_filters(year, level, region, agency))
    emit(COLUMNS, [list(r.__dict__.values()) for r in rows], fmt, title="coverage")
    if heatmap or html_out:
        png = heatmap_png(rows, by=by)
        if heatmap:
            heatmap.parent.mkdir(parents=True, exist_ok=True)
            heatmap.write_bytes(png)
            typer.echo(f"{heatmap}: heatmap", err=True)
        if html_out:
            html_out.parent.mkdir(parents=True, exist_ok=True)
            html_out.write_text(html_report(rows, png), encoding="utf-8")
            typer.echo(f"{html_out}: HTML report", err=True)
