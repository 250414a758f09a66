"""`harvester nightly`: crawl → extract → link → export, under a lock, with a one-screen summary
and an exit code a scheduler can alert on.

    harvester nightly --all --data-dir /srv/harvester --db postgresql+psycopg://...   # the timer's job
    harvester nightly --all --since 2024-01-01        # everything published since then
    harvester nightly --all --backfill                # the whole history (first run, or a repair)

Steps: **crawl** the portals (incremental: conditional requests, see `harvester.incremental`;
`--full` fetches everything again), **extract** what the crawl stored without extracting (the
crawl extracts as it stores today, so this step normally has nothing to do), **link** documents
into reports, **export** the CSV files to ``--out`` (default ``DATA_DIR/export``).

Window (which reports are followed; list pages are always paged to the end, because portals do
not reliably list by date):

* default — reports *for* the two previous years (run in 2027: 2025 and 2026). Reports for year Y
  are published in January–March of Y+1 and revised later that year or the next;
* ``--since DATE`` — reports for ``DATE.year - 1`` and later (a report published on or after DATE
  is for the previous year at the earliest);
* ``--backfill`` — every year.

A link whose year cannot be read from its text is always followed; a portal's registry ``years``
still applies (the window is intersected with it).

Lock: ``DATA_DIR/nightly.lock`` holds ``pid host started``. A second run while the first is alive
exits 1 at once; a lock left by a dead process on this machine (killed, machine rebooted) is taken
over. A crawl run left open by a killed run is marked ``aborted`` when the next run starts.

Exit code: 0 when every step ran and every portal's status is ``ok``; 1 when a step failed, the
crawl broke, any portal is ``failed``, ``blocked`` or ``empty``, or the lock is held; 2 usage.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import socket
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from harvester.cli import app
from harvester.commands.options import CliError, DataDir, DbUrl, open_store


# ---------------------------------------------------------------- window
def window_years(today: _dt.date, *, since: _dt.date | None = None, backfill: bool = False) -> set[int] | None:
    """Report years a run follows (None: every year). See the module docstring."""
    if backfill:
        return None
    first = since.year - 1 if since is not None else today.year - 2
    return set(range(first, today.year + 1)) if since is not None else {today.year - 2, today.year - 1}


def apply_window(portals: list, years: set[int] | None) -> list:
    """The portals with their registry ``years`` narrowed to the window."""
    if years is None:
        return list(portals)
    out = []
    for p in portals:
        allowed = sorted(years if p.years is None else years & set(p.years))
        # an empty intersection still must not mean "every year": keep an impossible year
        out.append(dataclasses.replace(p, years=tuple(allowed) or (2000,)))
    return out


# ---------------------------------------------------------------- lock
class LockHeld(CliError):
    pass


class NightlyLock:
    """A pid file in the data directory; a stale one (dead pid on this host) is taken over."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "nightly.lock"
        self.held = False

    def _read(self) -> tuple[int, str, str] | None:
        try:
            pid, host, started = self.path.read_text(encoding="utf-8").split(maxsplit=2)
            return int(pid), host, started.strip()
        except (OSError, ValueError):
            return None

    def acquire(self) -> "NightlyLock":
        from harvester.runs import _pid_alive

        content = f"{os.getpid()} {socket.gethostname()} {_dt.datetime.now(_dt.UTC).isoformat()}\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._read()
                if owner is not None:
                    pid, host, started = owner
                    if host != socket.gethostname() or _pid_alive(pid):
                        raise LockHeld(f"another nightly run holds {self.path} (pid {pid} on {host}, "
                                       f"started {started}); not starting a second one") from None
                    typer.echo(f"taking over the stale lock of dead pid {pid} (started {started})", err=True)
                self.path.unlink(missing_ok=True)  # stale or unreadable: take it over
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(content)
            self.held = True
            return self
        raise LockHeld(f"could not take {self.path}: another run is taking it at the same time")

    def release(self) -> None:
        if self.held:
            owner = self._read()
            if owner and owner[0] == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "NightlyLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# ---------------------------------------------------------------- summary
def summarize(store: Any, run_id: int | None) -> dict[str, Any]:
    """Figures of one run from the database: portal statuses, changes, errors by kind."""
    from collections import Counter

    from sqlalchemy import select

    from harvester.db.models import CrawlRun, Portal, PortalRun

    out: dict[str, Any] = {"run_id": run_id, "status": None, "portals": Counter(), "changes": Counter(),
                           "errors": Counter(), "not_ok": []}
    if run_id is None:
        return out
    with store.session() as s:
        run = s.get(CrawlRun, run_id)
        out["status"] = run.status if run else None
        for pr, agency in s.execute(select(PortalRun, Portal.agency).join(Portal, Portal.id == PortalRun.portal_id)
                                    .where(PortalRun.run_id == run_id).order_by(PortalRun.portal_id)).all():
            out["portals"][pr.status] += 1
            out["changes"].update(new=pr.new, changed=pr.changed, unchanged=pr.unchanged, removed=pr.removed,
                                  found=pr.found, pages=pr.pages)
            out["errors"].update(pr.errors or {})
            if pr.status != "ok":
                out["not_ok"].append((pr.portal_id, agency, pr.status, pr.errors or {}))
    return out


def print_summary(figures: dict[str, Any], steps: dict[str, str], elapsed: float, problems: list[str]) -> None:
    from harvester.commands.status import format_errors

    p, c = figures["portals"], figures["changes"]
    typer.echo(f"nightly run {figures['run_id']}: {figures['status'] or 'no crawl'} in {elapsed:.0f} s")
    typer.echo("portals: " + ", ".join(f"{k} {p[k]}" for k in ("ok", "empty", "blocked", "failed")))
    typer.echo(f"documents: {c['found']} found, {c['new']} new, {c['changed']} changed, "
               f"{c['unchanged']} unchanged, {c['removed']} removed; {c['pages']} pages fetched")
    typer.echo("errors: " + (format_errors(dict(figures["errors"])) or "none"))
    for step, result in steps.items():
        typer.echo(f"{step}: {result}")
    shown = figures["not_ok"][:10]
    for portal_id, agency, status, errors in shown:
        typer.echo(f"  {status:8} {portal_id} {agency or ''} {format_errors(errors)}".rstrip())
    if len(figures["not_ok"]) > len(shown):
        typer.echo(f"  ... {len(figures['not_ok']) - len(shown)} more: harvester status failing")
    typer.echo("result: " + ("FAILED: " + "; ".join(problems) if problems else "ok"))


# ---------------------------------------------------------------- the command
@app.command("nightly")
def nightly_command(
    portals: Annotated[Optional[list[str]], typer.Argument(help="Portal ids (default with --all: every one).")] = None,
    all_portals: Annotated[bool, typer.Option("--all", help="Every registered portal.")] = False,
    registry: Annotated[Optional[list[Path]], typer.Option(
        "--registry", help="Extra registry TOML file (repeatable); also $HARVESTER_REGISTRY.")] = None,
    host_map: Annotated[Optional[list[str]], typer.Option(
        "--host-map", help="HOST=ADDR:PORT: connect to ADDR:PORT for HOST, URLs unchanged (repeatable).")] = None,
    since: Annotated[Optional[_dt.datetime], typer.Option(
        "--since", formats=["%Y-%m-%d"], help="Follow reports published since DATE (reports for DATE's year - 1 on).")] = None,
    backfill: Annotated[bool, typer.Option("--backfill", help="Follow reports of every year.")] = False,
    full: Annotated[bool, typer.Option("--full", help="No conditional requests: fetch every document again.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Export folder (default DATA_DIR/export).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Scrapy setting override KEY=VALUE (value parsed as JSON when possible).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "WARNING",
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Crawl, extract, link and export in one locked run; exit 1 if anything or any portal failed."""
    from harvester import registry as reg_mod
    from harvester.commands.crawl import _parse_set, build_settings, crawl_failed, register_portals, run_crawl
    from harvester.config import resolve
    from harvester.errors import ConfigError
    from harvester.hostmap import parse_host_map

    if since is not None and backfill:
        raise ConfigError("give --since or --backfill, not both")
    reg = reg_mod.load(registry or ())
    if all_portals and portals:
        raise ConfigError("give portal ids or --all, not both")
    chosen = list(reg.values()) if all_portals else reg.select(portals or ())
    if not chosen:
        raise ConfigError(f"no portal given: name portal ids or use --all (registered: {', '.join(reg) or 'none'})")
    mapping = parse_host_map(host_map or [])
    overrides = _parse_set(set_ or [])
    years = window_years(_dt.date.today(), since=since.date() if since else None, backfill=backfill)
    chosen = apply_window(chosen, years)
    settings_ = resolve(data_dir, db)
    started = time.monotonic()
    problems: list[str] = []
    steps: dict[str, str] = {}
    with NightlyLock(settings_.data_dir):
        from harvester.runs import begin_run, interrupted_runs

        with open_store(data_dir, db) as store:
            register_portals(store, chosen)
            run_id = begin_run(store, [p.id for p in chosen])
            resume = interrupted_runs(store, run_id)
        crawl_settings = build_settings(
            db_url=settings_.db_url, data_dir=settings_.data_dir, host_map=mapping, portals=chosen,
            overrides={"HARVESTER_RUN_ID": run_id, "HARVESTER_LINK_ON_CLOSE": False, "HARVESTER_PROGRESS": True,
                       "HARVESTER_RESUME_RUNS": resume,
                       "HARVESTER_CONDITIONAL": not full, **overrides},
            log_level=log_level)
        stats = run_crawl(chosen, crawl_settings)
        problems += crawl_failed(stats)
        steps["crawl"] = (f"{stats.get('downloader/request_count', 0)} requests, "
                          f"{stats.get('harvester/not_modified', 0)} not modified, "
                          f"{stats.get('harvester/volatile_only', 0)} unchanged apart from volatile parts; "
                          f"window: {'every year' if years is None else ', '.join(map(str, sorted(years)))}")
        from harvester.progress import Progress

        with open_store(data_dir, db) as store, Progress() as progress:
            task = progress.task("nightly: extract, link, export", total=3, unit="steps")
            steps["extract"] = _step(problems, "extract", lambda: _extract_pending(store))
            task.advance(note="extract done")
            steps["link"] = _step(problems, "link", lambda: ", ".join(
                f"{k} {v}" for k, v in store.link().as_dict().items()))
            task.advance(note="link done")
            target = out or settings_.data_dir / "export"
            steps["export"] = _step(problems, "export", lambda: _export(store, target))
            task.advance(note="export done")
            figures = summarize(store, run_id)
    if figures["status"] != "ok" and not any(p.startswith("run ") for p in problems):
        problems.append(f"run status {figures['status']}")
    if figures["not_ok"]:
        problems.append(f"{len(figures['not_ok'])} portal(s) not ok")
    print_summary(figures, steps, time.monotonic() - started, problems)
    if problems:
        raise typer.Exit(code=1)


def _step(problems: list[str], name: str, action) -> str:
    try:
        return str(action())
    except Exception as exc:  # noqa: BLE001 - a failed step is reported and fails the run, the others go on
        problems.append(f"{name} failed: {type(exc).__name__}: {exc}")
        return f"FAILED ({type(exc).__name__}: {exc})"


def _extract_pending(store: Any) -> str:
    """Documents stored without extraction (a separate extract stage); the crawl extracts as it stores."""
    pending = getattr(store, "extract_pending", None)
    if pending is None:
        return "done during the crawl"
    return f"{pending()} documents extracted"


def _export(store: Any, target: Path) -> str:
    from harvester.export import export

    result = export(store, target)
    return f"{target}: " + ", ".join(f"{name} {rows}" for name, rows in result.files.items())
