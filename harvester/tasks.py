"""Celery tasks: the harvest's units of work (see `harvester.celery_app`).

Every task takes ``where`` — ``{"db": URL, "data_dir": PATH, "registry": [TOML...],
"host_map": ["HOST=ADDR:PORT", ...], "set": ["KEY=VALUE", ...]}`` — so workers on any machine act on the same shared
database (PostgreSQL) and archive, whatever their own environment says.

* `crawl_portal`: one portal per task, `harvester crawl PORTAL --fetch-only` in a child
  process (a fresh Twisted reactor per crawl; it dies with the worker process), then one
  `extract_batch` task per `EXTRACT_BATCH` documents it left pending.
* `extract_batch`: extract those documents (skipping any already at the current extractor
  version: a redelivered task adds nothing twice), then `link_step` when nothing is pending.
* `link_step`: link under a database-wide lock (one link at a time across machines).
* `export_step`, `nightly` (the beat schedule: queue every registered portal).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Any

from harvester.celery_app import app

log = logging.getLogger(__name__)

#: Documents per extraction task.
EXTRACT_BATCH = 20


class CrawlFailed(RuntimeError):
    """The crawl of one portal exited non-zero (what it stored is kept and extracted)."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _store(where: dict[str, Any]):
    from harvester.store import Store

    return Store(where["db"], where["data_dir"])


@app.task(name="harvester.crawl_portal")
def crawl_portal(portal_id: str, where: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "harvester", "crawl", portal_id, "--fetch-only",
           "--db", where["db"], "--data-dir", where["data_dir"]]
    for path in where.get("registry") or ():
        cmd += ["--registry", path]
    for entry in where.get("host_map") or ():
        cmd += ["--host-map", entry]
    for entry in where.get("set") or ():
        cmd += ["--set", entry]
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_die_with_parent,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    summary = (proc.stdout.strip().splitlines() or [""])[-1]
    log.info("crawl %s exit %s: %s", portal_id, proc.returncode, summary)
    queued = queue_extraction(where, portal_id)
    if proc.returncode != 0:
        raise CrawlFailed(f"crawl of {portal_id} exited {proc.returncode}: {summary} {proc.stderr[-2000:]}")
    return {"portal": portal_id, "summary": summary, "extract_tasks": queued}


def queue_extraction(where: dict[str, Any], portal_id: str | None = None) -> int:
    """Queue the pending documents (of one portal, or all) as extraction batches; link if none."""
    from sqlalchemy import select

    from harvester.db.models import Document

    with _store(where) as store:
        ids = store.documents_to_extract("pending")
        if portal_id is not None and ids:
            with store.session() as s:
                mine = set(s.scalars(select(Document.id).where(Document.portal_id == portal_id)))
            ids = [i for i in ids if i in mine]
    for i in range(0, len(ids), EXTRACT_BATCH):
        extract_batch.delay(ids[i:i + EXTRACT_BATCH], where)
    if not ids:
        link_step.delay(where)
    return (len(ids) + EXTRACT_BATCH - 1) // EXTRACT_BATCH


@app.task(name="harvester.extract_batch")
def extract_batch(ids: list[int], where: dict[str, Any]) -> dict[str, int]:
    with _store(where) as store:
        stats = store.extract_documents(ids, workers=1, force=False)
        if not store.documents_to_extract("pending"):
            link_step.delay(where)
    return stats.as_dict()


@app.task(name="harvester.link_step")
def link_step(where: dict[str, Any]) -> dict[str, int] | None:
    with _store(where) as store, store.exclusive("link"):
        if store.documents_to_extract("pending"):
            return None  # the batch that extracts the last pending documents links
        return store.link().as_dict()


@app.task(name="harvester.export_step")
def export_step(where: dict[str, Any], out_dir: str) -> dict[str, Any]:
    from dataclasses import asdict

    from harvester.export import export

    with _store(where) as store:
        return {k: str(v) for k, v in asdict(export(store, out_dir)).items()}


@app.task(name="harvester.nightly")
def nightly() -> int:
    """The beat schedule's nightly run: every registered portal, on this machine's settings."""
    from harvester import registry as reg_mod
    from harvester.config import resolve

    settings = resolve()  # HARVESTER_DATA_DIR, HARVESTER_DB; the crawl reads HARVESTER_REGISTRY itself
    where = {"db": settings.db_url, "data_dir": str(settings.data_dir), "registry": [], "host_map": []}
    portals = list(reg_mod.load())
    for portal_id in portals:
        crawl_portal.delay(portal_id, where)
    return len(portals)


@app.task(name="harvester.nightly_export")
def nightly_export() -> dict[str, Any]:
    from harvester.config import resolve

    settings = resolve()
    where = {"db": settings.db_url, "data_dir": str(settings.data_dir)}
    return export_step(where, os.environ["HARVESTER_NIGHTLY_EXPORT"])
