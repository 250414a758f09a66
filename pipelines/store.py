"""Scrapy item pipeline: hand fetched documents to `harvester.store.Store`, in batches.

Items are plain dicts from the spider::

    {"url", "final_url", "status", "content_type", "body" (bytes | None),
     "portal_id", "parent_url", "fetch_error"}

The crawl only *stores*: each document's bytes are archived and its row written, pending
extraction, `HARVESTER_STORE_BATCH` items (or `HARVESTER_STORE_BATCH_BYTES`, or whatever
arrived within `HARVESTER_STORE_BATCH_WAIT` seconds) per transaction, with one archive sync per
batch instead of a commit and an fsync per document. Writes run on one thread off Scrapy's
reactor; an item's Deferred fires once its batch is committed.

When the spider closes: `HARVESTER_EXTRACT_ON_CLOSE` (default True) runs the extraction stage
over the pending documents on `HARVESTER_EXTRACT_WORKERS` processes (default: every core), and
`HARVESTER_LINK_ON_CLOSE` (default True) links — so one `harvester crawl` still does everything.
A distributed run (Celery) turns both off and queues those stages as tasks of their own.

Other settings: ``HARVESTER_DB_URL`` and ``HARVESTER_DATA_DIR`` (default:
`harvester.config.resolve()`), ``HARVESTER_RUN_ID`` to attach to an existing run (else a
"crawl" run is started and finished here). One bad item never stops a crawl; a full disk does:
the spider closes with reason ``disk_full`` and ``harvester/documents_not_stored`` counts what
was lost, so the crawl exits non-zero.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from harvester.archive import is_disk_full
from harvester.config import resolve
from harvester.store import Fetched, Store

log = logging.getLogger(__name__)

NOT_STORED = "harvester/documents_not_stored"


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.batch_size = settings.getint("HARVESTER_STORE_BATCH", 50)
        self.batch_bytes = settings.getint("HARVESTER_STORE_BATCH_BYTES", 64 * 1024 * 1024)
        self.batch_wait = settings.getfloat("HARVESTER_STORE_BATCH_WAIT", 0.5)
        self.store: Store | None = None
        self.run_id: int | None = None
        self.own_run = False
        self.stats: Counter[str] = Counter()
        self.pool: Any = None  # twisted ThreadPool with one worker, while the spider is open
        self.buffer: list[tuple[Any, Any]] = []  # (item, its own Deferred, or None when the batch waiter serves)
        self.buffered_bytes = 0
        self.timer: Any = None
        self.waiter: Any = None  # what the items of the batch being filled await
        self.disk_full = False

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

    async def process_item(self, item: Any) -> Any:
        """Buffer the item; it is returned (and `item_scraped` fires) once its batch is committed.

        Every item of a batch awaits one shared waiter (an asyncio future under Scrapy's asyncio
        reactor, else one Deferred per item), so a batch costs the reactor one callback, not one
        Deferred-to-future bridge per item.
        """
        from twisted.internet import defer, reactor

        if self.pool is None:
            self._store_batch([item])
            return item
        if self.waiter is None:
            self.waiter = _new_waiter()
        waiter = self.waiter
        own: Any = None if waiter is not _NO_LOOP else defer.Deferred()
        self.buffer.append((item, own))
        self.buffered_bytes += len(dict(item).get("body") or b"")
        if len(self.buffer) >= self.batch_size or self.buffered_bytes >= self.batch_bytes:
            self._flush()
        elif self.timer is None:
            self.timer = reactor.callLater(self.batch_wait, self._flush)
        if own is not None:
            from scrapy.utils.defer import maybe_deferred_to_future

            await maybe_deferred_to_future(own)
        else:
            await waiter
        return item

    def _flush(self) -> Any:
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool

        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        batch, self.buffer, self.buffered_bytes = self.buffer, [], 0
        waiter, self.waiter = self.waiter, None
        if not batch:
            return None
        done = deferToThreadPool(reactor, self.pool, self._store_batch, [item for item, _ in batch])

        def fire(_: Any) -> None:
            _release(waiter, batch)
            if self.disk_full:
                self._close_for_disk_full()

        done.addBoth(fire)
        return done

    def _store_batch(self, items: list[Any]) -> None:
        """Store a batch (on the store thread); never raises."""
        assert self.store is not None
        if self.disk_full:
            self._count_not_stored(len(items))
            return
        fetched = []
        for item in items:
            if "block_rule" in item:  # a blocked / gone response: never a document
                self._store_block(item)
                continue
            try:
                fetched.append(_fetched(item))
            except Exception as exc:  # noqa: BLE001 - a malformed item is counted, the others go on
                self.stats["store_errors"] += 1
                self._count_not_stored(1)
                _mark_store_error([item], exc)
                log.exception("could not store item %r: malformed", _describe(item))
        if not fetched:
            return
        try:
            results = self.store.add_documents(fetched, run_id=self.run_id)
        except Exception as exc:  # noqa: BLE001
            if is_disk_full(exc):
                self.disk_full = True
                log.error("disk full: %d documents not stored (%s)", len(fetched), exc)
                self._count_not_stored(len(fetched))
                _mark_store_error(items, exc)
                return
            if len(fetched) > 1:  # find the bad one, store the rest
                for one in items:
                    self._store_batch([one])
                return
            self.stats["store_errors"] += 1
            self._count_not_stored(len(fetched))
            _mark_store_error(items, exc)
            log.exception("could not store item %r", _describe(items[0]) if items else None)
            return
        for f, result in zip(fetched, results):
            self.stats["documents_new" if result.created else "documents_known"] += 1
            if f.failed:
                self.stats["fetch_errors"] += 1

    def _count_not_stored(self, n: int) -> None:
        self.stats["documents_not_stored"] += n
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(NOT_STORED, n)

    def _close_for_disk_full(self) -> None:
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and getattr(engine, "running", False) and not getattr(self, "_closing", False):
            self._closing = True
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="disk_full"))

    def _store_block(self, item: Any) -> Any:
        """A blocked / gone response (`harvester.blocked`): a `fetch_blocks` row, never a document."""
        from harvester.blocked import record_block

        try:
            record_block(self.store, self.run_id, dict(item))
            self.stats[f"{item['block_kind']}_pages"] += 1
        except Exception:  # noqa: BLE001 - one bad record must not stop the crawl
            self.stats["store_errors"] += 1
            log.exception("could not record block %r", _describe(item))
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.pool is not None:
            if self.buffer:
                self.pool.callInThread(self._store_batch, [item for item, _ in self.buffer])
                _release(self.waiter, self.buffer)
                self.buffer, self.waiter = [], None
            self.pool.stop()  # waits for the batches being stored
            self.pool = None
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.store is None:
            return
        settings = self.crawler.settings
        try:
            stats: dict[str, Any] = dict(self.stats)
            if not self.disk_full and settings.getbool("HARVESTER_EXTRACT_ON_CLOSE", True):
                workers = settings.getint("HARVESTER_EXTRACT_WORKERS", 0) or None
                stats["extract"] = self.store.extract_pending(workers).as_dict()
            if not self.disk_full and settings.getbool("HARVESTER_LINK_ON_CLOSE", True):
                stats["link"] = self.store.link().as_dict()
            if self.own_run and self.run_id is not None:
                self.store.finish_run(self.run_id, stats)
        finally:
            self.store.close()


_NO_LOOP = object()  # not under the asyncio reactor: each item awaits its own Deferred


def _new_waiter() -> Any:
    import asyncio

    from scrapy.utils.asyncio import is_asyncio_available

    return asyncio.get_running_loop().create_future() if is_asyncio_available() else _NO_LOOP


def _release(waiter: Any, batch: list[tuple[Any, Any]]) -> None:
    """Let the items of a stored batch go on (on the reactor thread)."""
    if waiter is not None and waiter is not _NO_LOOP and not waiter.done():
        waiter.set_result(None)
    for item, d in batch:
        if d is not None:
            d.callback(item)


def _fetched(item: Any) -> Fetched:
    data = dict(item)
    return Fetched(data["url"], data.get("body"), final_url=data.get("final_url"), http_status=data.get("status"),
                   media_type=data.get("content_type"), portal_id=data.get("portal_id"),
                   parent_url=data.get("parent_url"), fetch_error=data.get("fetch_error"))


def _describe(item: Any) -> str:
    try:
        return str(dict(item).get("url"))
    except Exception:  # noqa: BLE001
        return repr(item)[:200]


def _mark_store_error(items: list[Any], exc: BaseException) -> None:
    """Say on each item why it was not stored (counted per portal by `harvester.runs`)."""
    for item in items:
        try:
            item["store_error"] = f"{type(exc).__name__}: {exc}"
        except (TypeError, KeyError):  # an item type without that field
            pass
