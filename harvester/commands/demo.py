"""`harvester demo`: the nightly job end to end on bundled, offline data.

Starts the replay server on the saved portals bundled in `harvester/demo/portals/`
(derived TRS, Hanweb and generic 年报 columns, see their README.md) on 127.0.0.1,
crawls them with the real Scrapy stack through `--host-map` (URLs stay the portals'
real ones), stores and extracts into SQLite under the data directory, links
documents into reports, exports CSV to `<data dir>/export` and prints a summary.
No network access is needed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl

DEMO_ROOT = Path(__file__).resolve().parents[1] / "demo" / "portals"


@app.command("demo")
def demo_command(
    data_dir: DataDir = None,
    db: DbUrl = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Scrapy log level.")] = "WARNING",
    root: Annotated[Optional[Path], typer.Option("--portals", help="Saved-portal tree to replay "
                                                 "(default: the bundled one).")] = None,
) -> None:
    """Crawl the bundled saved portals offline, link, export CSV and print a summary."""
    from harvester import registry as reg_mod
    from harvester.commands.crawl import build_settings, crawl_failed, register_portals, run_crawl, summary_line
    from harvester.config import resolve
    from harvester.demo.server import ReplayServer
    from harvester.export import export
    from harvester.store import Store

    root = root or DEMO_ROOT
    reg = reg_mod.load([root / "registry.toml"], include_default=False, use_env=False)
    portals = list(reg.values())
    settings_ = resolve(data_dir, db)
    with Store(settings_.db_url, settings_.data_dir) as store:
        register_portals(store, portals)
    with ReplayServer(root) as srv:
        typer.echo(f"replaying {len(portals)} saved portals from {root} on {srv.address}")
        from harvester.hostmap import parse_host_map
        settings = build_settings(db_url=settings_.db_url, data_dir=settings_.data_dir,
                                  host_map=parse_host_map(srv.host_map()), portals=portals, log_level=log_level)
        stats = run_crawl(portals, settings)
    typer.echo(summary_line(stats))
    out = settings_.data_dir / "export"
    with Store(settings_.db_url, settings_.data_dir) as store:
        link_stats = store.link()
        result = export(store, out)
        _print_summary(store)
    typer.echo(f"linked: {link_stats.reports} reports from {link_stats.linked} documents "
               f"({link_stats.multi_document_reports} with several documents)")
    typer.echo(f"database: {settings_.db_url}")
    typer.echo(f"archive:  {settings_.data_dir / 'archive'}")
    for name, rows in result.files.items():
        typer.echo(f"export:   {out / name} ({rows} rows)")
    problems = crawl_failed(stats)
    if problems:
        typer.echo("crawl problems: " + "; ".join(problems), err=True)
        raise typer.Exit(code=1)


def _print_summary(store) -> None:
    from sqlalchemy import func, select

    from harvester.db.models import Agency, CheckRow, Document, Report, ReportDocument

    with store.session() as s:
        rows = s.execute(select(Report.id, Agency.name, Report.year, Report.template, Report.canonical_document_id)
                         .join(Agency, Agency.id == Report.agency_id)
                         .order_by(Agency.name, Report.year)).all()
        typer.echo("")
        typer.echo(f"{_pad('agency', 34)}{'year':>6}  {'template':<9}{'docs':>5}  checks")
        for rid, agency, year, template, canonical in rows:
            ndocs = s.scalar(select(func.count()).select_from(ReportDocument).where(ReportDocument.report_id == rid))
            checks = s.execute(select(CheckRow.ok, func.count()).where(CheckRow.document_id == canonical)
                               .group_by(CheckRow.ok)).all() if canonical else []
            by = {bool(ok): n for ok, n in checks}
            status = ("no checks" if not by else
                      f"{by.get(True, 0)} passed" + (f", {by[False]} FAILED" if by.get(False) else ", all ok"))
            typer.echo(f"{_pad(agency, 34)}{year:>6}  {template or '-':<9}{ndocs:>5}  {status}")
        total = s.scalar(select(func.count()).select_from(Document))
        fetch_err = s.scalar(select(func.count()).select_from(Document).where(Document.error_kind == "fetch"))
        other_err = s.scalar(select(func.count()).select_from(Document).where(
            Document.error_kind.is_not(None), Document.error_kind != "fetch"))
        typer.echo("")
        typer.echo(f"documents: {total} stored, {fetch_err} fetch errors, {other_err} extraction errors")
        for url, msg in s.execute(select(Document.url, Document.error_message)
                                  .where(Document.error_kind == "fetch")).all():
            typer.echo(f"  fetch error: {msg}: {url[:110]}")


def _pad(text: str, width: int) -> str:
    """Left-justify counting CJK characters as two columns."""
    import unicodedata

    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - cols)
