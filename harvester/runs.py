"""Run records: one `crawl_runs` row per crawl, one `portal_runs` row per portal in it, and the
change log (`document_changes`), written by the Scrapy extension `RunRecorder` — not by the
store pipeline, which only stores documents.

Errors are typed from the exception class or the HTTP status, as data (`EXCEPTION_KINDS`,
`STATUS_KINDS`), never by parsing free text, with one exception: Scrapy raises a plain
`IgnoreRequest` for a decompression bomb and for a redirect loop, so those two are told apart by
the message Scrapy writes (`IGNORE_MESSAGES`).

A portal's status (`portal_status`):

* ``failed``  — a document could not be stored (store_error), or nothing was fetched at all;
* ``blocked`` — nothing found and the portal answered with blocking statuses (403/412/429/521);
* ``empty``   — list pages fetched, but not a single report page or attachment on them;
* ``ok``      — report pages or attachments found (individual fetch errors are still counted).

A run is ``running`` while its process lives, ``ok`` or ``failed`` when it ends (``failed`` when
the crawl did not finish normally or a portal failed), and ``aborted`` when it was killed: the
next run on the same machine finds the owner pid dead and marks it (`mark_aborted`).
"""
from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, UTC
from importlib import import_module
from typing import Any, Iterable, Sequence

from sqlalchemy import insert, select, update

from harvester.db.models import CrawlRun, Document, DocumentChange, PortalRun

log = logging.getLogger(__name__)

#: Every error kind a run can record, in the order `harvester status` shows them.
ERROR_KINDS = ("timeout", "dns", "connection", "http_4xx", "http_5xx", "blocked", "gone", "too_large",
               "redirect_loop", "decompression_bomb", "store_error", "spider_error", "other")

#: Exception classes (dotted path) -> kind; the first match in this order wins (subclasses first).
EXCEPTION_KINDS: tuple[tuple[str, str], ...] = (
    ("scrapy.exceptions.DownloadTimeoutError", "timeout"),
    ("twisted.internet.error.TimeoutError", "timeout"),
    ("twisted.internet.error.TCPTimedOutError", "timeout"),
    ("twisted.internet.defer.TimeoutError", "timeout"),
    ("scrapy.exceptions.CannotResolveHostError", "dns"),
    ("twisted.internet.error.DNSLookupError", "dns"),
    ("scrapy.exceptions.DownloadCancelledError", "too_large"),
    ("twisted.internet.defer.CancelledError", "too_large"),
    ("scrapy.exceptions.DownloadConnectionRefusedError", "connection"),
    ("scrapy.exceptions.DownloadFailedError", "connection"),
    ("scrapy.exceptions.ResponseDataLossError", "connection"),
    ("twisted.internet.error.ConnectError", "connection"),
    ("twisted.internet.error.ConnectionLost", "connection"),
    ("twisted.internet.error.ConnectionDone", "connection"),
    ("twisted.web._newclient.ResponseNeverReceived", "connection"),
    ("twisted.web._newclient.ResponseFailed", "connection"),
    ("OpenSSL.SSL.Error", "connection"),
)

#: HTTP statuses that mean "the portal refuses this client": 403 Forbidden (IP/WAF bans),
#: 412 (瑞数 Ruishu WAF challenge), 429 Too Many Requests, 521 (加速乐 Jiasule JS challenge).
BLOCKED_STATUSES = frozenset({403, 412, 429, 521})

#: Messages of Scrapy's plain `IgnoreRequest`s that are errors worth recording on the document.
IGNORE_MESSAGES: tuple[tuple[str, str], ...] = (
    ("during decompression", "decompression_bomb"),  # HttpCompressionMiddleware, DOWNLOAD_MAXSIZE
    ("max redirections reached", "redirect_loop"),    # RedirectMiddleware, REDIRECT_MAX_TIMES
)


def _load(path: str) -> type | None:
    module, _, name = path.rpartition(".")
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


_CLASSES: list[tuple[type, str]] | None = None


def _classes() -> list[tuple[type, str]]:
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = [(cls, kind) for path, kind in EXCEPTION_KINDS if (cls := _load(path)) is not None]
    return _CLASSES


def status_kind(status: int | None) -> str | None:
    """The error kind of an HTTP status (None for a success or redirect)."""
    if status is None or status < 400:
        return None
    if status in BLOCKED_STATUSES:
        return "blocked"
    return "http_4xx" if status < 500 else "http_5xx"


def ignore_kind(exc: BaseException) -> str | None:
    """The kind of an `IgnoreRequest` that is an error (bomb, redirect loop); None for robots/offsite."""
    text = str(exc)
    return next((kind for needle, kind in IGNORE_MESSAGES if needle in text), None)


def exception_kind(exc: BaseException) -> str:
    """The error kind of a download exception (``other`` when unknown)."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    if isinstance(exc, HttpError):
        return status_kind(exc.response.status) or "other"
    if isinstance(exc, IgnoreRequest):
        return ignore_kind(exc) or "other"
    for cls, kind in _classes():
        if isinstance(exc, cls):
            return kind
    return "other"


def portal_status(pages: int, found: int, errors: dict[str, int]) -> str:
    if errors.get("store_error"):
        return "failed"
    if found:
        return "ok"
    if errors.get("blocked"):
        return "blocked"
    if pages == 0 or any(errors.values()):
        return "failed"
    return "empty"


# ---------------------------------------------------------------- runs
def _now() -> datetime:
    return datetime.now(UTC)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_aborted(store: Any) -> list[int]:
    """Mark runs of this machine whose owner process is gone and that never finished as
    ``aborted``; returns their ids. Runs of other machines are left alone (their pid means nothing here)."""
    host = socket.gethostname()
    with store.session() as s, s.begin():
        open_runs = s.execute(select(CrawlRun.id, CrawlRun.pid).where(
            CrawlRun.finished_at.is_(None), CrawlRun.host == host, CrawlRun.pid.is_not(None))).all()
        dead = [run_id for run_id, pid in open_runs if pid != os.getpid() and not _pid_alive(pid)]
        if dead:
            s.execute(update(CrawlRun).where(CrawlRun.id.in_(dead)).values(status="aborted", finished_at=_now()))
    for run_id in dead:
        log.warning("run %s was killed before it finished: marked aborted", run_id)
        record_changes(store, run_id)  # what it did store is in the change log all the same
    return dead


def interrupted_runs(store: Any, before: int) -> list[int]:
    """The aborted crawl runs right before run `before` (newest first, up to the last run that
    ended): a crawl that starts after them resumes their work (`harvester.incremental`)."""
    with store.session() as s:
        rows = s.execute(select(CrawlRun.id, CrawlRun.status).where(CrawlRun.id < before, CrawlRun.kind == "crawl")
                         .order_by(CrawlRun.id.desc()).limit(100)).all()
    out = []
    for run_id, status in rows:
        if status != "aborted":
            break
        out.append(run_id)
    return out


def begin_run(store: Any, portals: Sequence[str], kind: str = "crawl") -> int:
    """Start a run owned by this process (after marking killed runs aborted)."""
    mark_aborted(store)
    with store.session() as s, s.begin():
        run = CrawlRun(kind=kind, portals=list(portals), started_at=_now(), status="running",
                       host=socket.gethostname(), pid=os.getpid())
        s.add(run)
        s.flush()
        return run.id


@dataclass
class PortalTally:
    pages: int = 0
    found: int = 0
    errors: Counter = field(default_factory=Counter)
    first: float | None = None
    last: float | None = None

    def touch(self) -> None:
        now = time.time()
        self.first = now if self.first is None else self.first
        self.last = now


def record_changes(store: Any, run_id: int) -> dict[str, Counter]:
    """Write the ``added`` / ``changed`` entries of a run into `document_changes` (once: entries
    already there are kept) and return the counts per portal, ``removed`` included."""
    per_portal: dict[str, Counter] = defaultdict(Counter)
    with store.session() as s, s.begin():
        logged = set(s.scalars(select(DocumentChange.document_id).where(
            DocumentChange.run_id == run_id, DocumentChange.change != "removed")))
        stored = s.execute(select(Document.id, Document.url, Document.portal_id).where(
            Document.crawl_run_id == run_id, Document.sha256.is_not(None), Document.http_status.is_(None)
            | (Document.http_status < 400)).order_by(Document.id)).all()
        rows = []
        for doc_id, url, portal_id in stored:
            previous = s.scalars(select(Document.id).where(
                Document.url == url, Document.id < doc_id, Document.sha256.is_not(None))
                .order_by(Document.id.desc()).limit(1)).first()
            change = "changed" if previous else "added"
            per_portal[portal_id or ""][change] += 1
            if doc_id not in logged:
                rows.append(dict(run_id=run_id, portal_id=portal_id, document_id=doc_id,
                                 previous_document_id=previous, url=url, change=change, at=_now()))
        if rows:
            s.execute(insert(DocumentChange), rows)
        for portal_id in s.scalars(select(DocumentChange.portal_id).where(
                DocumentChange.run_id == run_id, DocumentChange.change == "removed")):
            per_portal[portal_id or ""]["removed"] += 1
    return per_portal


def finish_run(store: Any, run_id: int, tallies: dict[str, PortalTally], *, finish_reason: str | None,
               stats: dict[str, Any] | None = None, portals: Iterable[str] = ()) -> str:
    """Write the portal rows and close the run; returns the run status."""
    changes = record_changes(store, run_id)
    now = _now()
    statuses = {}
    with store.session() as s, s.begin():
        run = s.get(CrawlRun, run_id)
        for portal_id in dict.fromkeys([*portals, *tallies]):
            t = tallies.get(portal_id) or PortalTally()
            c = changes.get(portal_id, Counter())
            errors = {k: v for k, v in t.errors.items() if v}
            status = portal_status(t.pages, t.found, errors)
            statuses[portal_id] = status
            started = datetime.fromtimestamp(t.first, UTC) if t.first else (run.started_at if run else now)
            finished = datetime.fromtimestamp(t.last, UTC) if t.last else now
            values = dict(status=status, pages=t.pages, found=t.found, new=c["added"], changed=c["changed"],
                          unchanged=max(t.found - c["added"] - c["changed"], 0), removed=c["removed"],
                          errors=errors, started_at=started, finished_at=finished,
                          duration_s=round((t.last - t.first), 3) if t.first and t.last else 0.0)
            existing = s.scalars(select(PortalRun).where(PortalRun.run_id == run_id,
                                                         PortalRun.portal_id == portal_id)).first()
            if existing is None:
                s.add(PortalRun(run_id=run_id, portal_id=portal_id, **values))
            else:
                for k, v in values.items():
                    setattr(existing, k, v)
        broke = finish_reason not in (None, "finished")
        run_status = "failed" if broke or "failed" in statuses.values() else "ok"
        if run is not None:
            merged = dict(run.stats or {})
            merged.update(stats or {})
            merged["finish_reason"] = finish_reason
            merged["portal_status"] = statuses
            run.stats = merged
            run.status = run_status
            run.finished_at = now
    return run_status


def record_error_kinds(store: Any, kinds: dict[str, str]) -> None:
    """Write the typed kind onto the fetch-error documents of these URLs (``documents.fetch_error_kind``)."""
    if not kinds:
        return
    with store.session() as s, s.begin():
        for url, kind in kinds.items():
            s.execute(update(Document).where(Document.url == url, Document.error_kind == "fetch",
                                             Document.fetch_error_kind.is_(None)).values(fetch_error_kind=kind))


# ---------------------------------------------------------------- the Scrapy extension
class RunRecorder:
    """Counts pages, documents and typed errors per portal from Scrapy's signals and writes the
    run records when the spider closes (after the store pipeline has stored every item).

    Settings: ``HARVESTER_RUNS_ENABLED`` (default True), ``HARVESTER_RUN_ID`` (a run started by
    the caller with `begin_run`; otherwise one is started here and put into the settings, so the
    store pipeline and the incremental middleware attach their rows to it).
    """

    def __init__(self, crawler: Any, store: Any, run_id: int, own_run: bool) -> None:
        self.crawler = crawler
        self.store = store
        self.run_id = run_id
        self.own_run = own_run
        self.tallies: dict[str, PortalTally] = defaultdict(PortalTally)
        self.error_kinds: dict[str, str] = {}  # url -> typed kind, written onto the error documents
        self.status: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> "RunRecorder":
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        from harvester.config import resolve
        from harvester.store import Store

        settings = crawler.settings
        if not settings.getbool("HARVESTER_RUNS_ENABLED", True):
            raise NotConfigured("HARVESTER_RUNS_ENABLED is off")
        resolved = resolve(settings.get("HARVESTER_DATA_DIR"), settings.get("HARVESTER_DB_URL"))
        store = Store(resolved.db_url, resolved.data_dir)
        run_id = settings.getint("HARVESTER_RUN_ID") or None
        own = run_id is None
        if run_id is None:
            run_id = begin_run(store, [])
            settings.set("HARVESTER_RUN_ID", run_id, priority="cmdline")  # settings freeze after extensions
        if not settings.getlist("HARVESTER_RESUME_RUNS"):
            settings.set("HARVESTER_RESUME_RUNS", interrupted_runs(store, run_id), priority="cmdline")
        ext = cls(crawler, store, run_id, own)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _tally(self, meta: dict | None) -> PortalTally | None:
        portal = (meta or {}).get("portal_id")
        return self.tallies[portal] if portal else None

    def spider_opened(self, spider: Any) -> None:
        portals = list(getattr(spider, "portal_ids", []) or [])
        with self.store.session() as s, s.begin():
            s.execute(update(CrawlRun).where(CrawlRun.id == self.run_id).values(portals=portals))

    def request_scheduled(self, request: Any, spider: Any) -> None:
        if t := self._tally(request.meta):
            t.touch()

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        if (t := self._tally(request.meta)) is not None:
            t.touch()
            if response.status < 400:
                t.pages += 1

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        data = dict(item)
        t = self.tallies[data.get("portal_id") or ""]
        t.touch()
        if data.get("store_error"):
            t.errors["store_error"] += 1
        elif data.get("block_kind"):  # a defence or a dead stub (harvester.blocked): `blocked` / `gone`
            t.errors[data["block_kind"]] += 1
        elif data.get("fetch_error") or data.get("body") is None:
            kind = data.get("fetch_error_kind") or status_kind(data.get("status")) or "other"
            t.errors[kind] += 1
            if data.get("url"):
                self.error_kinds[data["url"]] = kind
        else:
            t.found += 1

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        t = self._tally(getattr(response, "meta", None) if response is not None else None)
        (t or self.tallies[""]).errors["spider_error"] += 1

    def request_dropped(self, request: Any, spider: Any) -> None:
        """A redirect back to a URL of its own chain (A → B → A) is dropped by the seen-set before
        RedirectMiddleware counts to REDIRECT_MAX_TIMES: record it as the redirect loop it is."""
        chain = request.meta.get("redirect_urls") or []
        if request.url not in chain:
            return  # an ordinary duplicate
        portal = request.meta.get("portal_id")
        t = self.tallies[portal or ""]
        t.touch()
        t.errors["redirect_loop"] += 1
        message = "redirect_loop: " + " -> ".join([*chain, request.url])
        try:
            self.store.add_document(chain[0], None, fetch_error=message, portal_id=portal, run_id=self.run_id,
                                    parent_url=request.meta.get("parent_url"))
            self.error_kinds[chain[0]] = "redirect_loop"
        except Exception:  # noqa: BLE001 - recording must never stop the crawl
            log.exception("could not record the redirect loop of %s", chain[0])

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        keep = {k: v for k, v in stats.items() if k.startswith(("harvester/", "downloader/request_count",
                                                                 "downloader/response_count", "item_scraped"))}
        unattributed = self.tallies.pop("", None)
        if unattributed is not None and (unattributed.errors or unattributed.found):
            log.warning("items without a portal id: %s", dict(unattributed.errors) or unattributed.found)
        try:
            record_error_kinds(self.store, self.error_kinds)
            # with a shared queue (scrapy-redis) another process may have crawled a portal entirely:
            # only the portals this process worked on get a row from it
            shared = "scrapy_redis" in str(self.crawler.settings.get("SCHEDULER"))
            portals = [] if shared else getattr(spider, "portal_ids", []) or []
            tallies = {p: t for p, t in self.tallies.items()
                       if not shared or t.pages or t.found or any(t.errors.values())}  # scheduling is not work
            self.status = finish_run(self.store, self.run_id, tallies, finish_reason=reason,
                                     stats=keep, portals=portals)
            if self.crawler.stats:
                self.crawler.stats.set_value("harvester/run_status", self.status)
                self.crawler.stats.set_value("harvester/run_id", self.run_id)
        finally:
            self.store.close()
