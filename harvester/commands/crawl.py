"""`harvester crawl [PORTAL ...]`: harvest registered portals into the database.

    harvester crawl linzi-zfxxgknb --registry my_portals.toml
    harvester crawl --all --db postgresql+psycopg://... --data-dir /srv/harvester
    harvester crawl linzi-zfxxgknb --host-map www.linzi.gov.cn=127.0.0.1:8080   # replay / tunnel

Runs `harvester.spiders.portal.PortalSpider` with `harvester.crawl_settings` and the store
pipeline (documents are archived, extracted and linked as they arrive; the run is
recorded in `crawl_runs`, each portal in `portal_runs` by `harvester.runs.RunRecorder`).
Fetch errors are recorded, not fatal; the exit code is 1 when the crawl itself broke (spider
exceptions, abnormal finish) or the run failed (a portal fetched nothing, or a document could
not be stored). A crawl started after a killed one resumes it (`harvester.incremental`).

When every selected portal host is `--host-map`ped to a loopback address, the
politeness delays are switched off (`crawl_settings.LOCAL_REPLAY`): there is no
remote server to be polite to.

Scale-out (`--redis URL`)
-------------------------
`--redis redis://HOST:6379/0` replaces Scrapy's in-memory scheduler and seen-set with
scrapy-redis (`SCHEDULER = "scrapy_redis.scheduler.Scheduler"`,
`DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"`, `SCHEDULER_PERSIST = True`,
`REDIS_URL`). Start the same command on several machines: they push their start
requests into one shared queue, the shared dupefilter drops the duplicates, and each
process pops requests until the queue is empty. Keys are namespaced by `--redis-key`
(default: today's UTC date), so tonight's run shares one queue and tomorrow's run starts
with an empty seen-set instead of skipping everything as "already seen". All processes
must write to the same database (PostgreSQL) and data directory (shared storage), or to
their own and be merged with `harvester ingest`.
Measured on Scrapy 2.19 + scrapy-redis 0.9.1 + redis 7 (tests/test_crawl.py, two
processes, saved portals, DOWNLOAD_DELAY 0.3 s): both processes exit 0, each took about
half of the requests, every document was fetched exactly once across the two, the
union of their stores is complete. Caveats: scrapy-redis 0.9.1 predates Scrapy's
async `start()` and calls `StatsCollector.inc_value(..., spider=)`, so every run logs
ScrapyDeprecationWarnings; a process whose view of the queue is momentarily empty closes
(it does not wait for requests another process is about to enqueue) — the work is
still done by the others, only the parallelism drops; robots.txt is fetched once per
process; with SCHEDULER_PERSIST the seen-set of a key survives, so rerunning with the
same `--redis-key` fetches nothing (pass a new key to force a re-crawl); an attachment
stored by one process and its page by another are only parent-linked when they share
one database. Frontera / scrapy-cluster are dead; if scrapy-redis breaks on a future
Scrapy, splitting the portal list between machines (`harvester crawl ID...` per
machine) needs no shared queue at all, since portals never share URLs.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
from pathlib import Path
from typing import Annotated, Any, Iterable, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, open_store


def _is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_settings(*, db_url: str, data_dir: str | Path, host_map: dict[str, str], portals: Iterable[Any],
                   redis_url: str | None = None, redis_key: str | None = None,
                   overrides: dict[str, Any] | None = None, log_level: str = "INFO"):
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
    if redis_url:
        settings.setdict(crawl_settings.redis_settings(redis_url), priority="cmdline")
        key = redis_key or _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d")
        settings.set("SCHEDULER_QUEUE_KEY", f"harvester:{key}:%(spider)s:requests", priority="cmdline")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"harvester:{key}:%(spider)s:dupefilter", priority="cmdline")
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
    if stats.get("harvester/run_status") == "failed":  # written by harvester.runs.RunRecorder
        problems.append(f"run {stats.get('harvester/run_id')} failed: see `harvester status`")
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
    redis: Annotated[Optional[str], typer.Option(
        "--redis", help="Share the request queue and seen-set through this Redis URL (scrapy-redis).")] = None,
    redis_key: Annotated[Optional[str], typer.Option(
        "--redis-key", help="Namespace of the shared queue (default: today's UTC date).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Scrapy setting override KEY=VALUE (value parsed as JSON when possible).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
) -> None:
    """Crawl the given portals (or --all) and store every report page and attachment found."""
    from harvester import registry as reg_mod
    from harvester.config import resolve
    from harvester.errors import ConfigError
    from harvester.hostmap import parse_host_map

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
        raise typer.Exit(code=2)
    settings_ = resolve(data_dir, db)
    with open_store(data_dir, db) as store:
        register_portals(store, chosen)
    settings = build_settings(db_url=settings_.db_url, data_dir=settings_.data_dir, host_map=mapping,
                              portals=chosen, redis_url=redis, redis_key=redis_key,
                              overrides={"HARVESTER_PROGRESS": True, **overrides}, log_level=log_level)
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
