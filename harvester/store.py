"""The one place where fetched or local files become database rows.

Two stages, each re-runnable on its own:

* **store** (`Store.add_documents`, used by the crawl pipeline in batches and by
  `harvester ingest`): archive the raw bytes (content-addressed), skip if the same bytes
  at the same URL are already stored, otherwise write the document row, *pending*
  (``extractor_version`` NULL), many documents per transaction.
* **extract** (`Store.extract_pending`, `harvester extract-pending --workers N`): read the
  bytes back from the archive (checked against their SHA-256), run
  `harvester.extract.extract()` in a pool of processes, and write each document's fields,
  cells, checks and error (Core executemany for the many small rows), recording
  `EXTRACTOR_VERSION`, so `reextract` can redo only what an older extractor produced.

`Store.add_document()` (one file, extracted at once) is the two stages back to back.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Sequence

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harvester.archive import Archive, ArchiveCorrupt
from harvester.db.models import (Cell, CheckRow, CrawlRun, Document, ExtractionErrorRow, Portal)
from harvester.db.queries import FETCH_ERROR, newest_pages
from harvester.db.session import make_engine, session_factory, upgrade
from harvester.extract.record import ExtractionError, ReportRecord
from harvester.extract.version import EXTRACTOR_VERSION

log = logging.getLogger(__name__)

#: Errors reading a document's bytes back from the archive (recorded; earlier cells are kept).
ARCHIVE_ERRORS = ("archive_corrupt", "archive_missing")
EXTRACT_MODES = ("pending", "older", "all")
#: Documents whose extraction results are written per transaction.
WRITE_BATCH = 20
#: Ids per `IN (...)` list (PostgreSQL refuses more than 65,535 parameters in one statement).
IN_CHUNK = 1000


@dataclass(frozen=True)
class AddResult:
    document_id: int
    created: bool


@dataclass(frozen=True)
class Fetched:
    """One fetched (or read) file on its way into the store."""

    url: str
    body: bytes | None
    final_url: str | None = None
    http_status: int | None = None
    media_type: str | None = None
    portal_id: str | None = None
    parent_url: str | None = None
    fetch_error: str | None = None

    @property
    def failed(self) -> bool:
        return (self.body is None or self.fetch_error is not None
                or (self.http_status is not None and self.http_status >= 400))

    @property
    def failure_message(self) -> str:
        return self.fetch_error or (f"HTTP {self.http_status}" if self.http_status else "no body")


@dataclass
class ExtractStats:
    extracted: int = 0
    skipped: int = 0  # already at the current version (another worker did it)
    archive_errors: int = 0  # bytes missing or not matching their SHA-256
    errors: int = 0  # documents extracted with an extraction error recorded

    def add(self, outcome: str) -> None:
        if outcome == "extracted":
            self.extracted += 1
        elif outcome == "skipped":
            self.skipped += 1
        elif outcome == "archive_error":
            self.archive_errors += 1

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _now() -> datetime:
    return datetime.now(UTC)


def _text(value: Any) -> str | None:
    """A record value rendered exactly as the record holds it (``27``, ``75.3``, ``251000元``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _run_extract(body: bytes, source: str) -> ReportRecord:
    """`extract()` promises never to raise; this guard keeps a broken extractor
    install (or a bug) from stopping a crawl: the document is stored with the error."""
    try:
        from harvester.extract import extract

        return extract(body, source=source)
    except Exception as exc:  # noqa: BLE001 - recorded on the document, never raised
        from harvester.extract.sniff import sniff

        try:
            media = sniff(body, source)
        except Exception:  # noqa: BLE001
            media = "application/octet-stream"
        record = ReportRecord(source=source, sha256=hashlib.sha256(body).hexdigest(), media_type=media)
        record.error = ExtractionError("extract_failed", f"{type(exc).__name__}: {exc}")
        return record


class Store:
    """Database + archive for one data directory. Creating it upgrades the schema."""

    def __init__(self, db_url: str, data_dir: str | Path, *, auto_upgrade: bool = True) -> None:
        self.db_url = db_url
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.archive = Archive(self.data_dir)
        self.engine = make_engine(db_url)
        if auto_upgrade:
            upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        self._known_portals: set[str] = set()

    @classmethod
    def from_settings(cls, settings) -> "Store":
        return cls(settings.db_url, settings.data_dir)

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named `name` shared by every process on this database (PostgreSQL:
        an advisory lock; SQLite: a lock file beside the archive): one link at a time."""
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(f"harvester:{name}".encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
                try:
                    yield
                finally:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
                    conn.commit()
            return
        import fcntl

        with open(self.data_dir / f".{name}.lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ---- runs and portals -------------------------------------------------------------
    def start_run(self, kind: str, portals: Sequence[str] | None = None) -> int:
        if kind not in ("crawl", "ingest"):
            raise ValueError(f"run kind must be 'crawl' or 'ingest', not {kind!r}")
        with self.session() as s, s.begin():
            run = CrawlRun(kind=kind, portals=list(portals or []), started_at=_now())
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, stats: dict[str, Any] | None = None) -> None:
        with self.session() as s, s.begin():
            s.execute(update(CrawlRun).where(CrawlRun.id == run_id)
                      .values(finished_at=_now(), stats=dict(stats or {})))

    def ensure_portal(self, portal_id: str, *, name: str | None = None, agency: str | None = None,
                      level: str | None = None, cms: str | None = None,
                      start_urls: Iterable[str] | None = None, division_code: str | None = None,
                      status: str | None = None, source: str | None = None) -> None:
        """Insert the portal, or update the fields given (None leaves a field as it is).
        ``division_code`` (GB/T 2260) is the context `harvester.agency` resolves agency names with."""
        fields = {"name": name, "agency": agency, "level": level, "cms": cms,
                  "start_urls": list(start_urls) if start_urls is not None else None,
                  "division_code": division_code, "status": status, "source": source}
        given = {k: v for k, v in fields.items() if v is not None}
        for attempt in range(2):
            try:
                with self.session() as s, s.begin():
                    portal = s.get(Portal, portal_id)
                    if portal is None:
                        s.add(Portal(id=portal_id, **given))
                    else:
                        for key, value in given.items():
                            setattr(portal, key, value)
                return
            except IntegrityError:  # another writer inserted it first: update instead
                if attempt:
                    raise

    # ---- documents --------------------------------------------------------------------
    def add_document(self, url: str, body: bytes | None, *, final_url: str | None = None,
                     http_status: int | None = None, media_type: str | None = None,
                     portal_id: str | None = None, run_id: int | None = None,
                     parent_url: str | None = None, fetch_error: str | None = None,
                     extract: bool = True) -> AddResult:
        """Store one fetched or local file; idempotent on ``(url, sha256)``.

        No body (timeout, connection error) or an HTTP error status stores a document with
        ``error_kind='fetch'``; an error page's body is archived but not extracted. With
        ``extract=False`` the document stays pending for `extract_pending()`.
        """
        fetched = Fetched(url, body, final_url=final_url, http_status=http_status, media_type=media_type,
                          portal_id=portal_id, parent_url=parent_url, fetch_error=fetch_error)
        result = self.add_documents([fetched], run_id=run_id, durable=True)[0]
        if extract and result.created and not fetched.failed:
            self.extract_documents([result.document_id], workers=1)
        return result

    def add_documents(self, items: Sequence["Fetched"], *, run_id: int | None = None,
                      durable: bool = False) -> list[AddResult]:
        """Archive a batch of fetched files and write their document rows, pending extraction,
        in one transaction (the crawl pipeline's unit of work).

        The archive files are written without a per-file fsync and made durable by one
        `Archive.sync()` before the rows that point at them are committed. Disk-full errors
        propagate (the caller counts the batch as not stored and fails the run); a lost race
        with another writer on ``(url, sha256)`` falls back to storing the batch one by one.
        """
        archived: list[tuple[Fetched, str | None, str | None]] = []
        for item in items:
            sha = raw_path = None
            if item.body is not None:
                sha, raw_path = self.archive.put(item.body, durable=durable)
            archived.append((item, sha, raw_path))
        self.archive.sync()
        self._ensure_portals({item.portal_id for item in items if item.portal_id})
        try:
            with self.session() as s, s.begin():
                return self._insert_documents(s, archived, run_id)
        except IntegrityError:
            if len(archived) == 1:
                existing = self._find(items[0].url, archived[0][1])
                if existing is None:
                    raise
                return [AddResult(existing, False)]
            return [self.add_documents([item], run_id=run_id, durable=True)[0] for item in items]

    def add_stream(self, url: str, fh: BinaryIO, *, run_id: int | None = None,
                   max_bytes: int | None = None) -> AddResult:
        """Store an open local file, pending extraction: copied into the archive in chunks and
        hashed on the way (flat memory whatever its size). Idempotent on ``(url, sha256)``."""
        sha, raw_path, size = self.archive.put_stream(fh, max_bytes=max_bytes)
        item = Fetched(url, None)
        try:
            with self.session() as s, s.begin():
                return self._insert_documents(s, [(item, sha, raw_path)], run_id, sizes={url: size})[0]
        except IntegrityError:
            existing = self._find(url, sha)
            if existing is None:
                raise
            return AddResult(existing, False)

    def _insert_documents(self, s: Session, archived: list[tuple["Fetched", str | None, str | None]],
                          run_id: int | None, sizes: dict[str, int] | None = None) -> list[AddResult]:
        """Write the rows of a batch: one lookup of the known ``(url, sha256)``, one of the parent
        pages, one multi-row INSERT … RETURNING and one for the fetch errors (not a flush and a
        query per document)."""
        urls = list({item.url for item, _, _ in archived})
        known: dict[tuple[str, str | None], int] = {}
        for i in range(0, len(urls), IN_CHUNK):
            rows = s.execute(select(Document.id, Document.url, Document.sha256, Document.error_kind)
                             .where(Document.url.in_(urls[i:i + IN_CHUNK])).order_by(Document.id.desc()))
            for doc_id, url, sha, kind in rows:
                if sha is not None or kind == FETCH_ERROR:
                    known.setdefault((url, sha), doc_id)
        parents = newest_pages(s, (item.parent_url for item, _, _ in archived if item.parent_url))
        now = _now()
        rows_to_insert: list[dict[str, Any]] = []
        # per archived item: (a known document id, False) or (the index of the row that gets one, True),
        # and whether the item created its document
        slots: list[tuple[int, bool, bool]] = []
        pending: dict[tuple[str, str | None], int] = {}  # new in this batch -> row index
        batch_parent: dict[int, int] = {}  # row index -> row index of its parent, stored earlier in this batch
        new_urls: dict[str, int] = {}  # URL / final URL of a row of this batch -> its (latest) row index
        for item, sha, raw_path in archived:
            key = (item.url, sha)
            if key in known:
                slots.append((known[key], False, False))
                continue
            if key in pending:
                slots.append((pending[key], True, False))
                continue
            failed = sha is None or item.failed and item.body is not None  # a streamed file has no body
            index = len(rows_to_insert)
            row = dict(url=item.url, final_url=item.final_url, http_status=item.http_status, sha256=sha,
                       size=len(item.body) if item.body is not None else (sizes or {}).get(item.url),
                       fetched_at=now, raw_path=raw_path, portal_id=item.portal_id, crawl_run_id=run_id,
                       parent_url=item.parent_url, parent_document_id=parents.get(item.parent_url or ""),
                       media_type=item.media_type,
                       error_kind=FETCH_ERROR if failed else None,
                       error_message=item.failure_message if failed else None)
            if item.parent_url and item.parent_url in new_urls:
                batch_parent[index] = new_urls[item.parent_url]
            rows_to_insert.append(row)
            pending[key] = index
            slots.append((index, True, True))
            for u in (item.url, item.final_url):
                if u:
                    new_urls[u] = index
        ids: list[int] = []
        if rows_to_insert:
            ids = list(s.scalars(insert(Document).returning(Document.id, sort_by_parameter_order=True),
                                 rows_to_insert))
            for index, parent_index in batch_parent.items():
                s.execute(update(Document).where(Document.id == ids[index])
                          .values(parent_document_id=ids[parent_index]))
            errors = [dict(document_id=ids[i], kind=FETCH_ERROR, message=row["error_message"], at=now)
                      for i, row in enumerate(rows_to_insert) if row["error_kind"] == FETCH_ERROR]
            if errors:
                s.execute(insert(ExtractionErrorRow), errors)
        return [AddResult(ids[n] if is_row else n, created) for n, is_row, created in slots]

    def _ensure_portals(self, portal_ids: set[str]) -> None:
        for portal_id in portal_ids - self._known_portals:
            with self.session() as s:
                known = s.get(Portal, portal_id) is not None
            if not known:
                self.ensure_portal(portal_id)
            self._known_portals.add(portal_id)

    # ---- the extraction stage ---------------------------------------------------------
    def documents_to_extract(self, mode: str = "pending", document_ids: Iterable[int] | None = None) -> list[int]:
        """Ids of archived, fetched-fine documents to extract, in id order.

        ``pending``: never extracted; ``older``: extracted by an older extractor version (or never);
        ``all``: every one.
        """
        if mode not in EXTRACT_MODES:
            raise ValueError(f"extraction mode must be one of {EXTRACT_MODES}, not {mode!r}")
        q = select(Document.id).where(Document.raw_path.is_not(None),
                                      or_(Document.error_kind.is_(None), Document.error_kind != FETCH_ERROR))
        if mode == "pending":
            q = q.where(Document.extractor_version.is_(None))
        elif mode == "older":
            q = q.where(or_(Document.extractor_version.is_(None), Document.extractor_version < EXTRACTOR_VERSION))
        wanted = None if document_ids is None else set(document_ids)
        with self.session() as s:
            ids = list(s.scalars(q.order_by(Document.id)))
        return ids if wanted is None else [i for i in ids if i in wanted]

    def extract_pending(self, workers: int | None = None, mode: str = "pending",
                        document_ids: Iterable[int] | None = None,
                        progress: Callable[[int], None] | None = None) -> ExtractStats:
        """Extract the documents `mode` selects (see `documents_to_extract`) on `workers` processes."""
        ids = self.documents_to_extract(mode, document_ids)
        return self.extract_documents(ids, workers=workers, force=mode == "all", progress=progress)

    def extract_documents(self, ids: Sequence[int], *, workers: int | None = None, force: bool = True,
                          progress: Callable[[int], None] | None = None) -> ExtractStats:
        """Extract the given documents from the archive and replace their cells, checks and errors.

        Extraction runs in a pool of `workers` processes (default: every core; 1 = in this
        process); this process writes the results, `WRITE_BATCH` documents per transaction. A
        document already at the current extractor version when its result is written is left
        alone unless `force` (so a redelivered task or a second worker adds nothing twice).
        """
        stats = ExtractStats()
        if not ids:
            return stats
        with self.session() as s:
            jobs = []
            for i in range(0, len(ids), IN_CHUNK):
                q = select(Document.id, Document.raw_path, Document.url).where(
                    Document.id.in_(list(ids[i:i + IN_CHUNK])), Document.raw_path.is_not(None))
                if not force:  # done meanwhile by another worker, or by this task before a redelivery
                    q = q.where(or_(Document.extractor_version.is_(None),
                                    Document.extractor_version < EXTRACTOR_VERSION))
                jobs += [tuple(row) for row in s.execute(q)]
        stats.skipped = len(ids) - len(jobs)
        jobs.sort()
        workers = default_workers() if workers is None else max(1, workers)
        pending: list[tuple[int, ReportRecord]] = []

        def write() -> None:
            with self.session() as s, s.begin():
                for doc_id, record in pending:
                    stats.add(self._save_extraction(s, doc_id, record, force))
            if progress:
                progress(len(pending))
            pending.clear()

        for doc_id, record in _map_extract(str(self.data_dir), jobs, workers):
            pending.append((doc_id, record))
            if len(pending) >= WRITE_BATCH:
                write()
        if pending:
            write()
        return stats

    def reextract(self, document_ids: Iterable[int] | None = None, *, all_documents: bool = True,
                  workers: int | None = 1) -> int:
        """Re-run extraction on stored documents from the archive (no network).

        Replaces each document's extracted fields, cells, checks and errors; fetch failures are
        left alone. ``all_documents=False`` redoes only documents extracted by an older extractor
        version (or never). Returns the number of documents re-extracted.
        """
        mode = "all" if all_documents else "older"
        return self.extract_pending(workers, mode, document_ids).extracted

    def _save_extraction(self, s: Session, doc_id: int, record: ReportRecord, force: bool) -> str:
        row = s.execute(select(Document).where(Document.id == doc_id).with_for_update()).scalar_one_or_none()
        if row is None:
            return "gone"
        if not force and row.extractor_version is not None and row.extractor_version >= EXTRACTOR_VERSION:
            return "skipped"
        if record.error is not None and record.error.kind in ARCHIVE_ERRORS:
            # The bytes could not be read back intact: say so, keep whatever was extracted before.
            row.error_kind, row.error_message = record.error.kind, record.error.message
            row.extracted_at, row.extractor_version, row.linked_at = _now(), EXTRACTOR_VERSION, None
            s.execute(insert(ExtractionErrorRow), [dict(document_id=doc_id, kind=record.error.kind,
                                                        message=record.error.message, at=_now())])
            return "archive_error"
        for model in (Cell, CheckRow, ExtractionErrorRow):
            s.execute(delete(model).where(model.document_id == doc_id))
        self._write_record(s, row, record)
        return "extracted"

    def link(self, *, full: bool = False):
        """Group the documents not linked yet (all with `full`) into reports (see `harvester.link`)."""
        from harvester.link import link

        return link(self, full=full)

    # ---- helpers ----------------------------------------------------------------------
    def _find(self, url: str, sha: str | None) -> int | None:
        with self.session() as s:
            q = select(Document.id).where(Document.url == url)
            q = q.where(Document.sha256 == sha) if sha is not None else q.where(
                Document.sha256.is_(None), Document.error_kind == FETCH_ERROR)
            return s.scalars(q.order_by(Document.id).limit(1)).first()

    @staticmethod
    def _write_record(s: Session, row: Document, record: ReportRecord) -> None:
        at = _now()
        for name, value in document_fields(record, at).items():
            setattr(row, name, value)
        s.flush()
        cells = cell_rows(row.id, record)
        if cells:
            s.execute(insert(Cell), cells)
        if record.checks:
            s.execute(insert(CheckRow), check_rows(row.id, record))
        if record.error:
            s.execute(insert(ExtractionErrorRow), [dict(document_id=row.id, kind=record.error.kind,
                                                        message=record.error.message, at=at)])


def document_fields(record: ReportRecord, at: datetime) -> dict[str, Any]:
    """The ``documents`` columns an extraction fills (`at`: when). ``linked_at`` goes back to NULL:
    the new reading waits for `link` (one index lookup finds it)."""
    return dict(media_type=record.media_type, title=record.title, agency_name=record.agency, year=record.year,
                template=record.template, publication_date=record.publication_date,
                agency_level=record.agency_level, report_kind=record.report_kind, pages=record.pages,
                text=record.text or None, extracted_at=at, extractor_version=EXTRACTOR_VERSION, linked_at=None,
                error_kind=record.error.kind if record.error else None,
                error_message=record.error.message if record.error else None)


def cell_rows(document_id: int, record: ReportRecord) -> list[dict[str, Any]]:
    """The ``cells`` rows of an extracted record (the first reading of a cell wins: a duplicate
    would break the unique key)."""
    rows, seen = [], set()
    for c in record.cells:
        key = (c.table, c.row, c.column)
        if key in seen:
            continue
        seen.add(key)
        rows.append(dict(document_id=document_id, table=c.table, row_key=c.row, column_key=c.column,
                         value=_number(c.value if c.number is None else c.number),
                         value_text=_text(c.value), raw_text=c.raw, unit=c.unit,
                         semantic=c.semantic, page=c.page,
                         bbox=list(c.bbox) if c.bbox else None, confidence=c.confidence))
    return rows


def check_rows(document_id: int, record: ReportRecord) -> list[dict[str, Any]]:
    """The ``checks`` rows of an extracted record."""
    return [dict(document_id=document_id, rule=c.rule, where=c.where, expected=_text(c.expected),
                 found=_text(c.found), ok=bool(c.ok)) for c in record.checks]


def _extract_job(data_dir: str, doc_id: int, raw_path: str, url: str) -> tuple[int, ReportRecord]:
    """Read one document back from the archive (checked) and extract it; never raises."""
    try:
        body = Archive(data_dir).get(raw_path)
    except ArchiveCorrupt as exc:
        return doc_id, _archive_error("archive_corrupt", str(exc), url)
    except OSError as exc:
        return doc_id, _archive_error("archive_missing", f"archive file unreadable: {exc}", url)
    return doc_id, _run_extract(body, url)


def _extract_chunk(data_dir: str, jobs: list[tuple[int, str, str]]) -> list[tuple[int, ReportRecord]]:
    return [_extract_job(data_dir, *job) for job in jobs]


def _archive_error(kind: str, message: str, url: str) -> ReportRecord:
    record = ReportRecord(source=url, sha256="", media_type="application/octet-stream")
    record.error = ExtractionError(kind, message)
    return record


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: a worker does not outlive a killed crawl. Orphaned workers keep
    each other's end of the result pipe open and wait on its lock forever (seen after a SIGKILL
    of `harvester crawl`), so Linux is asked to kill them with their parent."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request
        os._exit(1)


def _map_extract(data_dir: str, jobs: list[Any], workers: int) -> Iterator[tuple[int, ReportRecord]]:
    """Extraction results in job order; with several workers, a process pool keeps at most
    two chunks per worker in flight (memory stays flat however many documents are pending)."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _extract_job(data_dir, *job)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    chunk = 2
    chunks = [jobs[i:i + chunk] for i in range(0, len(jobs), chunk)]
    # fork: a spawned or forkserver child would re-import the caller's __main__ (a user's crawl
    # script without a main guard would crawl again); the children only run `_extract_chunk`.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context,
                             initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
        queue: deque[Any] = deque()
        it = iter(chunks)
        for part in it:
            queue.append(pool.submit(_extract_chunk, data_dir, part))
            if len(queue) >= 2 * workers:
                break
        while queue:
            done = queue.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                queue.append(pool.submit(_extract_chunk, data_dir, nxt))
            yield from done
