"""Scrapy item pipeline: hand every fetched document to `harvester.store.Store`.

Items are plain dicts from the spider::

    {"url", "final_url", "status", "content_type", "body" (bytes | None),
     "portal_id", "parent_url", "fetch_error"}

Settings: ``HARVESTER_DB_URL`` and ``HARVESTER_DATA_DIR`` (default: `harvester.config.resolve()`),
``HARVESTER_RUN_ID`` to attach to an existing run (else a "crawl" run is started and finished
here), ``HARVESTER_LINK_ON_CLOSE`` (default True). The archive → extract → store logic lives in
`Store.add_document`; this class only connects, and one bad item never stops a crawl.

Storing runs extraction (OCR of a scan takes seconds), so it happens on one worker thread,
off Scrapy's reactor: downloads go on meanwhile, and one thread keeps writes to SQLite serial.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from harvester.config import resolve
from harvester.store import Store

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.store: Store | None = None
        self.run_id: int | None = None
        self.own_run = False
        self.stats: Counter[str] = Counter()
        self.pool: Any = None  # twisted ThreadPool with one worker, while the spider is open

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StorePipeline":
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        settings = self.crawler.settings
        resolved = resolve(settings.get("HARVESTER_DATA_DIR"), settings.get("HARVESTER_DB_URL"))
        self.store = Store(resolved.db_url, resolved.data_dir)
        run_id = settings.get("HARVESTER_RUN_ID")
        if run_id:
            self.run_id = int(run_id)
        else:
            portals = getattr(self.crawler.spider, "portal_ids", None) or []
            self.run_id = self.store.start_run("crawl", list(portals))
            self.own_run = True
        from twisted.python.threadpool import ThreadPool

        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="harvester-store")
        self.pool.start()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool

        if self.pool is None:
            return self._store_item(item)
        return deferToThreadPool(reactor, self.pool, self._store_item, item)

    def _store_item(self, item: Any) -> Any:
        assert self.store is not None
        try:
            data = dict(item)
            result = self.store.add_document(
                data["url"], data.get("body"), final_url=data.get("final_url"), http_status=data.get("status"),
                media_type=data.get("content_type"), portal_id=data.get("portal_id"), run_id=self.run_id,
                parent_url=data.get("parent_url"), fetch_error=data.get("fetch_error"))
            self.stats["documents_new" if result.created else "documents_known"] += 1
            if data.get("body") is None or data.get("fetch_error"):
                self.stats["fetch_errors"] += 1
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the crawl
            self.stats["store_errors"] += 1
            item["store_error"] = f"{type(exc).__name__}: {exc}"  # counted per portal by harvester.runs
            log.exception("could not store item %r", _describe(item))
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.pool is not None:
            self.pool.stop()  # waits for the item being stored
            self.pool = None
        if self.store is None:
            return
        try:
            stats: dict[str, Any] = dict(self.stats)
            if self.crawler.settings.getbool("HARVESTER_LINK_ON_CLOSE", True):
                stats["link"] = self.store.link().as_dict()
            if self.own_run and self.run_id is not None:
                self.store.finish_run(self.run_id, stats)
        finally:
            self.store.close()


def _describe(item: Any) -> str:
    try:
        return str(dict(item).get("url"))
    except Exception:  # noqa: BLE001
        return repr(item)[:200]
