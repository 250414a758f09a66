"""`harvester portals list|check|discover`: read the registry, try one portal, find a new one.

    harvester portals list --province 广东 --cms gkmlpt --status unverified
    harvester portals list --roots --status blocked          # the 817 roots awaiting discovery
    harvester portals check km-zfxxgkndbgzt                  # fetch the column, print what a crawl would find
    harvester portals discover https://www.km.gov.cn/ --write my_portals.toml

`check` runs the real spider with `dry_run` (list pages only, nothing stored) and exits 1 when
the portal is blocked or lists no report. `discover` walks at most `--budget` pages from a root
(or its 政府信息公开 page) to the 年报 column(s) (harvester/discover.py), prints the registry
entry, and with `--write FILE` appends it to FILE (validated against the loaded registries first).
Agency, level, province and division code come from the matching root of `harvester/roots.toml`
when there is one, else from `--agency/--level/--division-code` (the page title for the agency).
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from harvester.cli import app
from harvester.commands.options import Format, OutputFormat, emit

portals_app = typer.Typer(help="List, check and discover portals of the registry.", no_args_is_help=True)
app.add_typer(portals_app, name="portals")

Registry = Annotated[Optional[list[Path]], typer.Option(
    "--registry", help="Extra registry TOML file (repeatable); also $HARVESTER_REGISTRY.")]
HostMap = Annotated[Optional[list[str]], typer.Option(
    "--host-map", help="HOST=ADDR:PORT: connect to ADDR:PORT for HOST, URLs unchanged (repeatable).")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def _load(registry: list[Path] | None):
    from harvester import registry as reg_mod
    from harvester.errors import ConfigError

    try:
        return reg_mod.load(registry or ())
    except ConfigError as exc:
        _fail(str(exc))


@portals_app.command("list")
def list_command(
    province: Annotated[Optional[str], typer.Option("--province", help="Province as printed (广东, 北京 …).")] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="province, city-department, county …")] = None,
    cms: Annotated[Optional[str], typer.Option("--cms", help="CMS family (trs, hanweb, gkmlpt …).")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="unverified | verified | blocked | gone")] = None,
    roots: Annotated[bool, typer.Option("--roots", help="List the portal roots awaiting discovery instead.")] = False,
    registry: Registry = None,
    fmt: OutputFormat = Format.table,
) -> None:
    """List registered portals (or roots), filtered."""
    from harvester import registry as reg_mod

    if roots:
        rows = [[r.url, r.agency, r.level, r.province, r.division_code, r.status]
                for r in reg_mod.load_roots()
                if (province is None or r.province == province) and (level is None or r.level == level)
                and (status is None or r.status == status)]
        emit(["url", "agency", "level", "province", "division_code", "status"], rows, fmt,
             title=f"{len(rows)} roots")
        return
    reg = _load(registry)
    rows = [[p.id, p.agency, p.level, p.province, p.division_code, p.cms, p.status,
             (p.start_urls or p.report_urls)[0]]
            for p in reg.values()
            if (province is None or p.province == province) and (level is None or p.level == level)
            and (cms is None or p.cms == cms) and (status is None or p.status == status)]
    emit(["id", "agency", "level", "province", "division_code", "cms", "status", "url"], rows, fmt,
         title=f"{len(rows)} portals")


@portals_app.command("check")
def check_command(
    portal_id: Annotated[str, typer.Argument(help="Portal id.")],
    registry: Registry = None,
    host_map: HostMap = None,
    fmt: OutputFormat = Format.table,
) -> None:
    """Fetch a portal's column pages and print the reports a crawl would fetch (stores nothing)."""
    from harvester.commands.crawl import build_settings, outcome_lines, portal_outcomes
    from harvester.errors import ConfigError
    from harvester.hostmap import parse_host_map

    reg = _load(registry)
    try:
        (portal,) = reg.select([portal_id])
        mapping = parse_host_map(host_map or [])
    except ConfigError as exc:
        _fail(str(exc))
    settings = build_settings(db_url="sqlite://", data_dir=Path("."), host_map=mapping, portals=[portal],
                              overrides={"ITEM_PIPELINES": {}}, log_level="WARNING")
    items, stats = _dry_run(portal, settings)
    found = [i for i in items if "found" in i]
    blocks = [i for i in items if "block_rule" in i]
    emit(["year", "kind", "title", "url"], [[i["year"], i["kind"], i["title"], i["found"]] for i in found], fmt,
         title=f"{portal.id}: {len(found)} reports a crawl would fetch")
    for b in blocks:
        typer.echo(f"{b['block_kind']}: {b['url']} ({b['block_rule']}, HTTP {b['status']})", err=True)
    (outcome,) = portal_outcomes([portal], stats)
    for line in outcome_lines([outcome]):
        typer.echo(line, err=True)
    if outcome.problem:
        raise typer.Exit(code=1)


def _dry_run(portal, settings) -> tuple[list[dict], dict[str, Any]]:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from harvester.spiders.portal import PortalSpider

    items: list[dict] = []
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PortalSpider)
    crawler.signals.connect(lambda item, **_: items.append(dict(item)), signal=signals.item_scraped, weak=False)
    process.crawl(crawler, portals=[portal], dry_run=True)
    process.start()
    return items, dict(crawler.stats.get_stats()) if crawler.stats else {}


def entry_toml(entry: dict[str, Any]) -> str:
    """One `[[portal]]` table (values as TOML basic strings / arrays)."""
    def value(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)
    return "\n[[portal]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in entry.items() if v is not None)


@portals_app.command("discover")
def discover_command(
    url: Annotated[str, typer.Argument(help="A portal's home page or its 政府信息公开 page.")],
    budget: Annotated[int, typer.Option("--budget", min=1, help="Most pages fetched.")] = 30,
    write: Annotated[Optional[Path], typer.Option("--write", help="Append the entry to this registry file.")] = None,
    agency: Annotated[Optional[str], typer.Option("--agency", help="Agency name (default: roots.toml, else the page title).")] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="Level (default: roots.toml).")] = None,
    division_code: Annotated[Optional[str], typer.Option("--division-code")] = None,
    portal_id: Annotated[Optional[str], typer.Option("--id", help="Entry id (default: host + column).")] = None,
    registry: Registry = None,
    host_map: HostMap = None,
) -> None:
    """Find the 年报 column(s) from a portal's root and print (or --write) its registry entry."""
    from harvester import registry as reg_mod
    from harvester.discover import discover, http_fetcher
    from harvester.errors import ConfigError
    from harvester.hostmap import parse_host_map
    from harvester.spiders.links import host_of

    try:
        mapping = parse_host_map(host_map or [])
    except ConfigError as exc:
        _fail(str(exc))
    result = discover(url, http_fetcher(mapping), budget)
    typer.echo(f"fetched {len(result.pages)} pages (budget {budget})", err=True)
    if result.blocked:
        _fail(f"{url}: {result.blocked}; no column found", code=1)
    if not result.columns:
        _fail(f"{url}: no 年报 column found within {budget} pages", code=1)
    for col in result.columns:
        shows = f"{len(col.reports)} reports on its first page" if col.listing else "no list seen on its page"
        typer.echo(f"column {col.url} [{col.cms}] {col.text} ({shows})", err=True)
        for sub in col.sub_columns:
            typer.echo(f"  sub-column {sub.url} {sub.text}", err=True)
            for sub2 in sub.sub_columns:
                typer.echo(f"    sub-column {sub2.url} {sub2.text}", err=True)
    root = next((r for r in reg_mod.load_roots() if host_of(r.url) == host_of(url)), None)
    title = (result.title or "").split("_")[-1].split("-")[-1].strip() or None
    agency = agency or (root.agency if root else None) or title
    level = level or (root.level if root else None)
    if not agency or not level:
        _fail("give --agency and --level (no matching root in harvester/roots.toml)")
    first = result.columns[0]
    entry = {
        "id": portal_id or reg_mod.suggest_id(first.url), "name": f"{agency} 政府信息公开工作年度报告",
        "agency": agency, "level": level, "cms": first.cms, "start_urls": result.column_urls,
        "root_url": url, "division_code": division_code or (root.division_code if root else None),
        "province": root.province if root else None, "status": "unverified",
        "source": f"harvester portals discover {url} ({_dt.date.today().isoformat()})",
    }
    text = entry_toml(entry)
    try:
        (portal,) = reg_mod.parse_toml(text, "<discovered>")
        if write is not None:
            reg = reg_mod.load([*(registry or ()), *([write] if write.exists() else [])])
            if portal.id in reg:
                raise ConfigError(f"{write}: portal field 'id' = {portal.id!r}: already registered "
                                  f"(in {reg[portal.id].file}); give --id")
    except ConfigError as exc:
        _fail(str(exc))
    typer.echo(text.lstrip("\n"), nl=False)
    if write is not None:
        with write.open("a", encoding="utf-8") as fh:
            fh.write(text)
        typer.echo(f"added {portal.id} to {write}", err=True)
