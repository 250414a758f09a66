"""`harvester status`: the last runs, the failing portals and each portal's last success.

Read from `crawl_runs` and `portal_runs` (written by `harvester.runs.RunRecorder`). A portal is
*failing* when its latest run's status is not ``ok`` (``empty``, ``blocked`` or ``failed``);
``last_success`` is when it last finished ``ok``. Errors are shown by typed kind
(`harvester.runs.ERROR_KINDS`)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Format, OutputFormat, emit, open_store

RUN_COLUMNS = ["run_id", "kind", "status", "started_at", "finished_at", "duration_s", "portals", "ok", "empty",
               "blocked", "failed"]
PORTAL_COLUMNS = ["portal_id", "agency", "status", "last_run", "pages", "found", "new", "changed", "unchanged",
                  "removed", "errors", "duration_s", "last_success"]


class Show(str, Enum):
    all = "all"
    runs = "runs"
    portals = "portals"
    failing = "failing"


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def format_errors(errors: dict[str, int] | None) -> str:
    from harvester.runs import ERROR_KINDS

    errors = errors or {}
    order = [k for k in ERROR_KINDS if errors.get(k)] + sorted(k for k in errors if k not in ERROR_KINDS)
    return " ".join(f"{k}={errors[k]}" for k in order)


def run_rows(s, limit: int) -> list[list[Any]]:
    from collections import Counter

    from sqlalchemy import select

    from harvester.db.models import CrawlRun, PortalRun

    runs = s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).all()
    rows = []
    for r in runs:
        per = Counter(s.scalars(select(PortalRun.status).where(PortalRun.run_id == r.id)))
        duration = round((r.finished_at - r.started_at).total_seconds(), 1) if r.finished_at and r.started_at else None
        rows.append([r.id, r.kind, r.status or ("finished" if r.finished_at else "running"), _iso(r.started_at),
                     _iso(r.finished_at), duration, len(r.portals or []), per["ok"], per["empty"], per["blocked"],
                     per["failed"]])
    return rows


def portal_rows(s, only_failing: bool = False) -> list[list[Any]]:
    from sqlalchemy import func, select

    from harvester.db.models import Portal, PortalRun

    latest = select(PortalRun.portal_id, func.max(PortalRun.run_id).label("run_id")).group_by(
        PortalRun.portal_id).subquery()
    last_ok = select(PortalRun.portal_id, func.max(PortalRun.finished_at).label("at")).where(
        PortalRun.status == "ok").group_by(PortalRun.portal_id).subquery()
    q = (select(Portal.id, Portal.agency, Portal.name, PortalRun, last_ok.c.at)
         .outerjoin(latest, latest.c.portal_id == Portal.id)
         .outerjoin(PortalRun, (PortalRun.portal_id == Portal.id) & (PortalRun.run_id == latest.c.run_id))
         .outerjoin(last_ok, last_ok.c.portal_id == Portal.id)
         .order_by(Portal.id))
    rows = []
    for pid, agency, name, pr, ok_at in s.execute(q).all():
        if pr is None:
            row = [pid, agency or name, "never run", None, None, None, None, None, None, None, "", None, None]
        else:
            row = [pid, agency or name, pr.status, pr.run_id, pr.pages, pr.found, pr.new, pr.changed, pr.unchanged,
                   pr.removed, format_errors(pr.errors), pr.duration_s, _iso(ok_at)]
        if only_failing and row[2] == "ok":
            continue
        rows.append(row)
    rank = {"failed": 0, "blocked": 1, "empty": 2, "never run": 3, "ok": 4}
    return sorted(rows, key=lambda r: (rank.get(r[2], 5), r[0]))


@app.command("status")
def status_command(
    show: Annotated[Show, typer.Argument(help="What to show: all (tables), runs, portals, failing.")] = Show.all,
    runs: Annotated[int, typer.Option("--runs", help="How many recent runs to list.")] = 10,
    fmt: OutputFormat = Format.table,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Show the last runs, the failing portals (latest run not ok) and each portal's last success."""
    if fmt is not Format.table and show is Show.all:
        show = Show.portals  # one kind of row per machine-readable output
    with open_store(data_dir, db, read_only=True) as store, store.session() as s:
        if show in (Show.all, Show.runs):
            emit(RUN_COLUMNS, run_rows(s, runs), fmt, title="last runs")
        if show is Show.all:
            failing = portal_rows(s, only_failing=True)
            if failing:
                emit(PORTAL_COLUMNS, failing, fmt, title="failing portals (latest run not ok)")
            emit(PORTAL_COLUMNS, portal_rows(s), fmt, title="portals: latest run and last success")
        elif show is Show.portals:
            emit(PORTAL_COLUMNS, portal_rows(s), fmt, title="portals: latest run and last success")
        elif show is Show.failing:
            emit(PORTAL_COLUMNS, portal_rows(s, only_failing=True), fmt, title="failing portals")
