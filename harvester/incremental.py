"""Incremental crawling: conditional requests, unchanged pages, disappeared documents.

`IncrementalMiddleware` (a downloader middleware, order 50: it sees a request after every other
middleware prepared it and a response after redirects, meta refreshes, retries and decompression):

* **Conditional requests.** When the spider opens, the latest stored version of every URL of the
  crawled portals is loaded (one query: ETag, Last-Modified, archive path). A report page,
  attachment or table picture that has a stored version is requested with ``If-None-Match`` /
  ``If-Modified-Since``. List pages are always fetched in full (that is where new reports appear).
* **304 Not Modified** → the stored bytes are read from the archive and handed to the spider as the
  response (flag ``not_modified``), so it still follows the page's attachments — conditionally too —
  and the store pipeline finds the same ``(url, sha256)``: nothing is stored, nothing downloaded.
  Counted in ``harvester/not_modified``.
* **Unchanged apart from volatile parts** (view counters, session ids, CSRF tokens — see
  `harvester.volatile`) → the stored bytes replace the fetched ones (``harvester/volatile_only``).
* **Disappeared** → a stored URL answering 404/410, or redirected (HTTP or ``<meta refresh>``) to a
  folder above it (portals send deleted articles back to their column), is marked removed:
  ``documents.removed_at`` set on its versions (never deleted) and a ``removed`` entry in
  ``document_changes``; the request ends with `DocumentRemoved` (an `IgnoreRequest`), so no error
  document is stored for it.
* **Resume.** When the crawl runs right before this one were killed (``aborted``, see
  `harvester.runs.interrupted_runs`; setting ``HARVESTER_RESUME_RUNS``), a document they stored is
  not requested at all: its archived bytes are handed to the spider (flag ``resumed``), which
  follows its attachments as if it had fetched it. List pages are walked again (they are the
  frontier); everything else continues where the killed run stopped, and the result is the
  document set an uninterrupted crawl stores. Scrapy's JOBDIR is not used for this: it writes its
  queue index only on a graceful stop, so after SIGKILL it cannot be trusted, while the database
  and the archive are written atomically per document.
* **Validators** of a fetched document are written onto its row (``documents.etag`` /
  ``documents.last_modified`` of the row with that URL and SHA-256) as soon as the store pipeline
  has stored it (signal ``item_scraped``), so even a run killed a second later leaves them.

Settings: ``HARVESTER_INCREMENTAL`` (default True: the middleware is on), ``HARVESTER_CONDITIONAL``
(default True; ``harvester nightly --full`` turns it off: every document is downloaded in full,
and still compared with its stored version, so unchanged pages add nothing).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from sqlalchemy import insert, select, update

from harvester.db.models import Document, DocumentChange
from harvester.volatile import content_hash, is_html

log = logging.getLogger(__name__)

#: request kinds (``meta["kind"]`` set by the spider) that are documents, not navigation
DOCUMENT_KINDS = frozenset({"detail", "attachment", "image", "document"})
GONE_STATUSES = frozenset({404, 410})


class DocumentRemoved(IgnoreRequest):
    """A stored document the portal no longer serves (recorded as removed, not as an error)."""


@dataclass(frozen=True)
class Stored:
    document_id: int
    sha256: str
    raw_path: str
    media_type: str | None
    etag: str | None
    last_modified: str | None
    portal_id: str | None
    run_id: int | None = None


def is_parent_folder(original: str, target: str) -> bool:
    """True when `target` is a folder (or its index page) above `original` on the same host."""
    a, b = urlsplit(original), urlsplit(target)
    if a.netloc.lower() != b.netloc.lower():
        return False
    folder = b.path
    last = folder.rsplit("/", 1)[-1]
    if last.lower().startswith(("index.", "default.")):
        folder = folder[: -len(last)]
    if not folder.endswith("/"):
        folder += "/"
    return a.path != b.path and a.path.startswith(folder)


def _now() -> datetime:
    return datetime.now(UTC)


class IncrementalMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.store: Any = None
        self.known: dict[str, Stored] = {}
        self.cms: dict[str, str] = {}
        self.conditional = True
        self.resume_runs: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> "IncrementalMiddleware":
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("HARVESTER_INCREMENTAL", True):
            raise NotConfigured("HARVESTER_INCREMENTAL is off")
        mw = cls(crawler)
        mw.conditional = crawler.settings.getbool("HARVESTER_CONDITIONAL", True)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    # ------------------------------------------------------------------ lifecycle
    def spider_opened(self, spider: Any) -> None:
        from harvester.config import resolve
        from harvester.store import Store

        settings = self.crawler.settings
        resolved = resolve(settings.get("HARVESTER_DATA_DIR"), settings.get("HARVESTER_DB_URL"))
        self.store = Store(resolved.db_url, resolved.data_dir)
        portals = list(getattr(spider, "portal_ids", []) or [])
        self.cms = {pid: p.cms for pid, p in (getattr(spider, "portals", {}) or {}).items()}
        self.known = load_stored(self.store, portals)
        self.resume_runs = {int(r) for r in settings.getlist("HARVESTER_RESUME_RUNS")}
        if self.resume_runs:
            log.info("resuming the killed run(s) %s: %d documents they stored are not fetched again",
                     sorted(self.resume_runs), sum(k.run_id in self.resume_runs for k in self.known.values()))
        log.info("incremental: %d stored documents of %d portals can be requested conditionally",
                 len(self.known), len(portals))

    def spider_closed(self, spider: Any) -> None:
        if self.store is not None:
            self.store.close()

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        """Write the validators of a document just stored (its own response, fetched from the portal)."""
        data = dict(item)
        if data.get("block_kind") == "gone":  # a stub (meta refresh, soft-404) where a stored document was
            stored = self.known.get(data.get("url") or "")
            if stored is not None and self.store is not None:
                self._mark_removed(data["url"], stored, data.get("status"), data.get("final_url"))
                self.crawler.stats.inc_value("harvester/removed")
            return
        body = data.get("body")
        if not body or data.get("fetch_error") or response is None or self.store is None:
            return
        if response.url != data.get("final_url") or set(response.flags) & {"not_modified", "resumed", "volatile_only"}:
            return
        etag, modified = response.headers.get(b"ETag"), response.headers.get(b"Last-Modified")
        if etag or modified:
            save_validators(self.store, {(data["url"], hashlib.sha256(body).hexdigest()):
                                         (_header(etag), _header(modified))})

    # ------------------------------------------------------------------ requests
    def process_request(self, request: Any, spider: Any = None) -> None:
        if request.meta.get("kind") not in DOCUMENT_KINDS or request.method != "GET":
            return None
        stored = self.known.get(request.url)
        if stored is not None and stored.run_id in self.resume_runs:
            self.crawler.stats.inc_value("harvester/resumed")
            return self._from_archive(request, stored, None, "resumed")
        if stored is None or not self.conditional:
            return None
        if stored.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = stored.etag
        if stored.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = stored.last_modified
        return None

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        if request.meta.get("kind") not in DOCUMENT_KINDS:
            return response
        stats = self.crawler.stats
        original = (request.meta.get("redirect_urls") or [request.url])[0]
        stored = self.known.get(original)
        if stored is not None and (response.status in GONE_STATUSES or (
                request.meta.get("redirect_urls") and is_parent_folder(original, response.url))):
            self._mark_removed(original, stored, response.status, response.url)
            stats.inc_value("harvester/removed")
            raise DocumentRemoved(f"removed from the portal: {original} "
                                  f"(HTTP {response.status} at {response.url})")
        if response.status == 304 and stored is not None:
            stats.inc_value("harvester/not_modified")
            return self._from_archive(request, stored, response, "not_modified")
        if response.status >= 300:
            return response
        body = response.body
        if stored is not None and hashlib.sha256(body).hexdigest() != stored.sha256:
            content_type = _header(response.headers.get(b"Content-Type"))
            if is_html(body, content_type) and self._same_content(body, content_type, stored):
                stats.inc_value("harvester/volatile_only")
                return self._from_archive(request, stored, response, "volatile_only")
        return response

    # ------------------------------------------------------------------ helpers
    def _same_content(self, body: bytes, content_type: str | None, stored: Stored) -> bool:
        try:
            old = self.store.archive.get(stored.raw_path)
        except OSError:
            return False
        cms = self.cms.get(stored.portal_id or "")
        return content_hash(body, content_type, cms) == content_hash(old, stored.media_type, cms)

    def _from_archive(self, request: Any, stored: Stored, response: Any, flag: str) -> Any:
        from scrapy.http import Headers
        from scrapy.responsetypes import responsetypes

        try:
            body = self.store.archive.get(stored.raw_path)
        except OSError as exc:  # archive file lost: fetch again in full, without validators
            log.warning("archive file of document %s unreadable (%s): refetching %s", stored.document_id, exc,
                        request.url)
            self.known.pop(request.url, None)
            retry = request.replace(dont_filter=True)
            for name in (b"If-None-Match", b"If-Modified-Since"):
                retry.headers.pop(name, None)
            return retry
        headers = Headers({b"Content-Type": stored.media_type or "application/octet-stream"})
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        flags = [*(response.flags if response is not None else []), flag]
        return cls(url=request.url, status=200, headers=headers, body=body, request=request, flags=flags)

    def _mark_removed(self, url: str, stored: Stored, status: int | None, final_url: str | None) -> None:
        run_id = self.crawler.settings.getint("HARVESTER_RUN_ID") or None
        log.info("document removed from the portal: %s (HTTP %s at %s)", url, status, final_url)
        with self.store.session() as s, s.begin():
            s.execute(update(Document).where(Document.url == url, Document.removed_at.is_(None))
                      .values(removed_at=_now()))
            if run_id is not None:
                s.execute(insert(DocumentChange), [dict(
                    run_id=run_id, portal_id=stored.portal_id, document_id=stored.document_id,
                    previous_document_id=None, url=url, change="removed", at=_now())])
        self.known.pop(url, None)


def load_stored(store: Any, portals: list[str]) -> dict[str, Stored]:
    """The latest stored, not removed, successfully fetched version of each URL of `portals`."""
    q = (select(Document.id, Document.url, Document.sha256, Document.raw_path, Document.media_type,
                Document.etag, Document.last_modified, Document.portal_id, Document.crawl_run_id)
         .where(Document.sha256.is_not(None), Document.raw_path.is_not(None), Document.removed_at.is_(None),
                Document.http_status.is_(None) | (Document.http_status < 400))
         .order_by(Document.id))
    if portals:
        q = q.where(Document.portal_id.in_(portals))
    known: dict[str, Stored] = {}
    with store.session() as s:
        for row in s.execute(q):
            known[row.url] = Stored(row.id, row.sha256, row.raw_path, row.media_type, row.etag,
                                    row.last_modified, row.portal_id, row.crawl_run_id)
    return known


def save_validators(store: Any, validators: dict[tuple[str, str], tuple[str | None, str | None]]) -> int:
    if not validators:
        return 0
    with store.session() as s, s.begin():
        for (url, sha), (etag, modified) in validators.items():
            s.execute(update(Document).where(Document.url == url, Document.sha256 == sha)
                      .values(etag=etag, last_modified=modified))
    return len(validators)


def _header(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None
