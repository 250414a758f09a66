"""`harvester crawl [PORTAL ...]`: harvest registered portals into the database.

    harvester crawl linzi-zfxxgknb --registry my_portals.toml
    harvester crawl --all --db postgresql+psycopg://... --data-dir /srv/harvester
    harvester crawl linzi-zfxxgknb --host-map www.linzi.gov.cn=127.0.0.1:8080   # replay / tunnel

Runs `harvester.spiders.portal.PortalSpider` with `harvester.crawl_settings` and the store
pipeline (documents are archived, extracted and linked as they arrive; the run is
recorded in `crawl_runs`, each portal in `portal_runs` by `harvester.runs.RunRecorder`).

A crawl says what happened to each portal (`portal_outcomes`): `ok` (reports found), `empty`
(0 reports), `blocked` (a challenge / WAF / cookie loop / JS shell answered; `partly blocked`
when reports were found too), `gone` (0 reports, its column a soft-404 / stub), `robots`
(0 reports, robots.txt refused), `failed` (its column could not be fetched). The summary names
every portal that is not `ok`, and the exit code is 1 when one of them is not declared in its
entry's `expect = [...]` (or when the crawl itself broke: spider exceptions, abnormal finish).
The database's `portals.status` becomes `verified` (reports found), `blocked` or `gone`.

`--all` crawls the portals of the `--registry` files (and $HARVESTER_REGISTRY) when any are
given, and the bundled registry only with `--with-bundled`; without user files it crawls the
bundled registry. Portal ids named on the command line resolve against all loaded files.
A crawl started after a killed one resumes it (`harvester.incremental`).

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
from dataclasses import dataclass
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
    from harvester.db.models import Portal as PortalRow

    portals = list(portals)
    for p in portals:
        store.ensure_portal(p.id, name=p.name, agency=p.agency, level=p.level, cms=p.cms,
                            start_urls=list(p.start_urls), division_code=p.division_code,
                            source=p.source)
    with store.session() as s, s.begin():  # a new portal starts with its registry status
        for p in portals:
            row = s.get(PortalRow, p.id)
            if row.status is None:
                row.status = p.status


@dataclass(frozen=True)
class Outcome:
    portal_id: str
    outcome: str          # ok | empty | blocked | partly blocked | gone | robots | failed
    reports: int
    detail: str           # the rules that matched, list errors
    expected: bool        # declared in the entry's `expect`

    @property
    def problem(self) -> bool:
        return self.outcome != "ok" and not self.expected


def portal_outcomes(portals: Iterable[Any], stats: dict[str, Any]) -> list[Outcome]:
    """What happened to each portal, from the spider's per-portal stats (`harvester/portal/<id>/…`)."""
    out = []
    for p in portals:
        pre = f"harvester/portal/{p.id}/"
        g = lambda key, pre=pre: int(stats.get(pre + key, 0))  # noqa: E731
        rules = sorted((k[len(pre):].split("/", 1)[1], v) for k, v in stats.items()
                       if k.startswith(pre + "blocked/") or k.startswith(pre + "gone/"))
        detail = ", ".join(f"{name} ×{n}" for name, n in rules)
        reports, blocked = g("reports"), g("blocked")
        if blocked:
            outcome = "blocked" if reports == 0 else "partly blocked"
        elif reports == 0 and g("gone"):
            outcome = "gone"
        elif reports == 0 and g("robots"):
            outcome, detail = "robots", f"{g('robots')} requests refused by robots.txt"
        elif reports == 0 and g("list_errors") and not g("lists"):
            outcome, detail = "failed", (detail + ", " if detail else "") + f"{g('list_errors')} list page errors"
        elif reports == 0:
            outcome = "empty"
        else:
            outcome = "ok"
        key = "blocked" if outcome == "partly blocked" else outcome
        out.append(Outcome(p.id, outcome, reports, detail, key in p.expect))
    return out


def update_statuses(store, outcomes: Iterable[Outcome]) -> None:
    """`verified` for a portal whose crawl found reports, `blocked` / `gone` for a blocked / gone one."""
    from harvester.db.models import Portal as PortalRow

    with store.session() as s, s.begin():
        for o in outcomes:
            status = {"ok": "verified", "blocked": "blocked", "gone": "gone"}.get(o.outcome)
            row = s.get(PortalRow, o.portal_id)
            if status and row is not None:
                row.status = status


def outcome_lines(outcomes: Iterable[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        if o.outcome == "ok":
            continue
        note = " (expected)" if o.expected else ""
        lines.append(f"  {o.outcome}{note}: {o.portal_id} — {o.reports} reports" + (f"; {o.detail}" if o.detail else ""))
    return lines


def crawl_failed(stats: dict[str, Any]) -> list[str]:
    problems = []
    if stats.get("finish_reason") != "finished":
        problems.append(f"finish_reason={stats.get('finish_reason')!r}")
    if stats.get("spider_exceptions/count") or any(k.startswith("spider_exceptions/") for k in stats):
        problems.append("spider exceptions")
    if stats.get("harvester/documents_not_stored"):
        problems.append(f"{stats['harvester/documents_not_stored']} documents not stored")
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
    all_portals: Annotated[bool, typer.Option(
        "--all", help="Crawl every portal of the --registry files (the bundled registry when none given).")] = False,
    with_bundled: Annotated[bool, typer.Option(
        "--with-bundled", help="With --all and --registry: crawl the bundled portals too.")] = False,
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

    try:
        reg = reg_mod.load(registry or ())
        if all_portals and portals:
            raise ConfigError("give portal ids or --all, not both")
        chosen = reg.for_all(with_bundled=with_bundled) if all_portals else reg.select(portals or ())
        if not chosen:
            raise ConfigError("no portal given: name portal ids or use --all "
                              f"(registered: {', '.join(reg) or 'none'})")
        mapping = parse_host_map(host_map or [])
        overrides = _parse_set(set_ or [])
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    settings_ = resolve(data_dir, db)
    with open_store(data_dir, db) as store:
        register_portals(store, chosen)
    settings = build_settings(db_url=settings_.db_url, data_dir=settings_.data_dir, host_map=mapping,
                              portals=chosen, overrides={"HARVESTER_PROGRESS": True, **overrides},
                              log_level=log_level, fetch_only=fetch_only)
    stats = run_crawl(chosen, settings)
    outcomes = portal_outcomes(chosen, stats)
    with open_store(data_dir, db) as store:
        update_statuses(store, outcomes)
    typer.echo(summary_line(stats))
    for line in outcome_lines(outcomes):
        typer.echo(line)
    problems = crawl_failed(stats)
    bad = [o.portal_id for o in outcomes if o.problem]
    if bad:
        problems.append(f"{len(bad)} portal(s) not ok: {', '.join(bad)}")
    if problems:
        typer.echo("crawl problems: " + "; ".join(problems), err=True)
        raise typer.Exit(code=1)


def summary_line(stats: dict[str, Any]) -> str:
    g = stats.get
    return (f"crawl finished ({g('finish_reason')}): {g('harvester/detail_items', 0)} report pages, "
            f"{g('harvester/attachment_items', 0)} attachments (of which {g('harvester/image_items', 0)} table "
            f"pictures), {g('harvester/fetch_errors', 0)} fetch errors, {g('harvester/blocked', 0)} blocked and "
            f"{g('harvester/gone', 0)} gone pages, "
            f"{g('harvester/offsite_skipped', 0)} off-site links skipped, "
            f"{g('harvester/robots_forbidden', 0)} refused by robots.txt, "
            f"{g('downloader/request_count', 0)} requests")
