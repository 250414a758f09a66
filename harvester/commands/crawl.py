"""`harvester crawl [PORTAL ...]`: harvest registered portals into the database.

    harvester crawl linzi-zfxxgknb --registry my_portals.toml
    harvester crawl --all --db postgresql+psycopg://... --data-dir /srv/harvester
    harvester crawl linzi-zfxxgknb --host-map www.linzi.gov.cn=127.0.0.1:8080   # replay / tunnel

Runs `harvester.spiders.portal.PortalSpider` with `harvester.crawl_settings` and the store
pipeline (documents are archived, extracted and linked as they arrive; the run is
recorded in `crawl_runs`). Fetch errors are recorded, not fatal; the exit code is 1
only when the crawl itself broke (spider exceptions, logged errors, abnormal finish).

When every selected portal host is `--host-map`ped to a loopback address, the
politeness delays are switched off (`crawl_settings.LOCAL_REPLAY`): there is no
remote server to be polite to.

Stages: the crawl archives each document and records it *pending*; at the end the
extraction stage (`extract-pending`, every core) and `link` run, unless `--fetch-only`
(a Celery crawl task, or a backfill that extracts elsewhere).

Scale-out: `harvester worker` / `harvester enqueue` (Celery with a Redis broker, one portal
crawl per task; see `harvester/tasks.py` and README "Scaling out"). scrapy-redis was removed:
0.9.1 predates Scrapy's async `start()`, warns on every run and stops a process early when
it sees the shared queue momentarily empty.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Iterable, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl


def _is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_settings(*, db_url: str, data_dir: str | Path, host_map: dict[str, str], portals: Iterable[Any],
                   overrides: dict[str, Any] | None = None, log_level: str = "INFO", fetch_only: bool = False):
    """Scrapy `Settings` for one crawl (also used by `harvester demo` and the tests)."""
    from scrapy.settings import Settings

    from harvester import crawl_settings

    settings = Settings()
    settings.setmodule(crawl_settings, priority="project")
    hosts = {h for p in portals for h in p.hosts}
    if host_map and hosts and all(h in host_map and _is_loopback(host_map[h]) for h in hosts):
        settings.setdict(crawl_settings.LOCAL_REPLAY, priority="cmdline")
    settings.set("HARVESTER_HOST_MAP", [f"{h}={a}" for h, a in host_map.items()], priority="cmdline")
    settings.set("HARVESTER_DB_URL", db_url, priority="cmdline")
    settings.set("HARVESTER_DATA_DIR", str(data_dir), priority="cmdline")
    settings.set("LOG_LEVEL", log_level.upper(), priority="cmdline")
    if fetch_only:
        settings.set("HARVESTER_EXTRACT_ON_CLOSE", False, priority="cmdline")
        settings.set("HARVESTER_LINK_ON_CLOSE", False, priority="cmdline")
    for k, v in (overrides or {}).items():
        settings.set(k, v, priority="cmdline")
    return settings


def run_crawl(portals: list, settings) -> dict[str, Any]:
    """Run PortalSpider over `portals` in this process (blocks; once per process). Returns Scrapy stats."""
    from scrapy.crawler import CrawlerProcess

    from harvester.spiders.portal import PortalSpider

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PortalSpider)
    process.crawl(crawler, portals=portals)
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}


def register_portals(store, portals: Iterable[Any]) -> None:
    for p in portals:
        store.ensure_portal(p.id, name=p.name, agency=p.agency, level=p.level, cms=p.cms,
                            start_urls=list(p.start_urls))


def crawl_failed(stats: dict[str, Any]) -> list[str]:
    problems = []
    if stats.get("finish_reason") != "finished":
        problems.append(f"finish_reason={stats.get('finish_reason')!r}")
    if stats.get("spider_exceptions/count") or any(k.startswith("spider_exceptions/") for k in stats):
        problems.append("spider exceptions")
    if stats.get("harvester/documents_not_stored"):
        problems.append(f"{stats['harvester/documents_not_stored']} documents not stored")
    return problems


def _parse_set(values: list[str]) -> dict[str, Any]:
    import json

    out = {}
    for v in values:
        key, sep, raw = v.partition("=")
        if not sep or not key:
            from harvester.errors import ConfigError
            raise ConfigError(f"--set value {v!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


@app.command("crawl")
def crawl_command(
    portals: Annotated[Optional[list[str]], typer.Argument(help="Portal ids from the registry.")] = None,
    all_portals: Annotated[bool, typer.Option("--all", help="Crawl every registered portal.")] = False,
    registry: Annotated[Optional[list[Path]], typer.Option(
        "--registry", help="Extra registry TOML file (repeatable); also $HARVESTER_REGISTRY.")] = None,
    host_map: Annotated[Optional[list[str]], typer.Option(
        "--host-map", help="HOST=ADDR:PORT: connect to ADDR:PORT for HOST, URLs unchanged (repeatable).")] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
    fetch_only: Annotated[bool, typer.Option(
        "--fetch-only", help="Only archive and record documents (run extract-pending and link later).")] = False,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Scrapy setting override KEY=VALUE (value parsed as JSON when possible).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
) -> None:
    """Crawl the given portals (or --all) and store every report page and attachment found."""
    from harvester import registry as reg_mod
    from harvester.config import resolve
    from harvester.errors import ConfigError
    from harvester.hostmap import parse_host_map
    from harvester.store import Store

    try:
        reg = reg_mod.load(registry or ())
        if all_portals and portals:
            raise ConfigError("give portal ids or --all, not both")
        chosen = list(reg.values()) if all_portals else reg.select(portals or ())
        if not chosen:
            raise ConfigError("no portal given: name portal ids or use --all "
                              f"(registered: {', '.join(reg) or 'none'})")
        mapping = parse_host_map(host_map or [])
        overrides = _parse_set(set_ or [])
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    settings_ = resolve(data_dir, db)
    with Store(settings_.db_url, settings_.data_dir) as store:
        register_portals(store, chosen)
    settings = build_settings(db_url=settings_.db_url, data_dir=settings_.data_dir, host_map=mapping,
                              portals=chosen, overrides=overrides, log_level=log_level,
                              fetch_only=fetch_only)
    stats = run_crawl(chosen, settings)
    typer.echo(summary_line(stats))
    problems = crawl_failed(stats)
    if problems:
        typer.echo("crawl problems: " + "; ".join(problems), err=True)
        raise typer.Exit(code=1)


def summary_line(stats: dict[str, Any]) -> str:
    g = stats.get
    return (f"crawl finished ({g('finish_reason')}): {g('harvester/detail_items', 0)} report pages, "
            f"{g('harvester/attachment_items', 0)} attachments (of which {g('harvester/image_items', 0)} table "
            f"pictures), {g('harvester/fetch_errors', 0)} fetch errors, "
            f"{g('harvester/offsite_skipped', 0)} off-site links skipped, "
            f"{g('harvester/robots_forbidden', 0)} refused by robots.txt, "
            f"{g('downloader/request_count', 0)} requests")
