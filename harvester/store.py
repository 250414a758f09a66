"""The one place where fetched or local files become database rows.

`Store.add_document()` is shared by the crawl pipeline and `harvester ingest`:
archive the raw bytes (content-addressed), skip if the same bytes at the same URL
are already stored, otherwise run `harvester.extract.extract()` and write the
document, its cells, checks and error in one transaction (Core executemany for
the many small rows, one commit per document).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harvester.archive import Archive
from harvester.db.models import (Cell, CheckRow, CrawlRun, Document, ExtractionErrorRow, Portal)
from harvester.db.session import make_engine, session_factory, upgrade
from harvester.extract.record import ExtractionError, ReportRecord

log = logging.getLogger(__name__)

FETCH_ERROR = "fetch"


@dataclass(frozen=True)
class AddResult:
    document_id: int
    created: bool


def _now() -> datetime:
    return datetime.now(timezone.utc)


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
    import hashlib

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
                      start_urls: Iterable[str] | None = None) -> None:
        """Insert the portal, or update the fields given (None leaves a field as it is)."""
        fields = {"name": name, "agency": agency, "level": level, "cms": cms,
                  "start_urls": list(start_urls) if start_urls is not None else None}
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
                     parent_url: str | None = None, fetch_error: str | None = None) -> AddResult:
        """Store one fetched or local file; idempotent on ``(url, sha256)``.

        No body (timeout, connection error) or an HTTP error status stores a document with
        ``error_kind='fetch'``; an error page's body is archived but not extracted.
        """
        if portal_id is not None:
            with self.session() as s:
                known = s.get(Portal, portal_id) is not None
            if not known:
                self.ensure_portal(portal_id)
        failed = body is None or fetch_error is not None or (http_status is not None and http_status >= 400)
        sha = raw_path = None
        if body is not None:
            sha, raw_path = self.archive.put(body)
        existing = self._find(url, sha)
        if existing is not None:
            return AddResult(existing, False)

        doc = dict(url=url, final_url=final_url, http_status=http_status, sha256=sha,
                   size=len(body) if body is not None else None, fetched_at=_now(), raw_path=raw_path,
                   portal_id=portal_id, crawl_run_id=run_id, parent_url=parent_url)
        record: ReportRecord | None = None
        if failed:
            message = fetch_error or (f"HTTP {http_status}" if http_status else "no body")
            doc.update(media_type=media_type, error_kind=FETCH_ERROR, error_message=message)
        else:
            assert body is not None
            record = _run_extract(body, url)
        try:
            with self.session() as s, s.begin():
                doc["parent_document_id"] = self._parent_id(s, parent_url)
                row = Document(**doc)
                s.add(row)
                s.flush()
                if record is not None:
                    self._write_record(s, row, record)
                else:
                    s.execute(insert(ExtractionErrorRow), [dict(document_id=row.id, kind=FETCH_ERROR,
                                                                message=doc["error_message"], at=_now())])
                return AddResult(row.id, True)
        except IntegrityError:
            # Lost a race with another writer storing the same (url, sha256).
            existing = self._find(url, sha)
            if existing is None:
                raise
            return AddResult(existing, False)

    def reextract(self, document_ids: Iterable[int] | None = None,
                  on_progress: Callable[[int, int], None] | None = None) -> int:
        """Re-run extraction on stored documents from the archive (no network).

        Replaces each document's extracted fields, cells, checks and errors; fetch
        failures are left alone. Returns the number of documents re-extracted.
        """
        with self.session() as s:
            q = select(Document.id).where(Document.raw_path.is_not(None),
                                          or_(Document.error_kind.is_(None), Document.error_kind != FETCH_ERROR))
            if document_ids is not None:
                q = q.where(Document.id.in_(list(document_ids)))
            ids = list(s.scalars(q.order_by(Document.id)))
        done = 0
        for i, doc_id in enumerate(ids, 1):
            if on_progress is not None:
                on_progress(i, len(ids))
            with self.session() as s, s.begin():
                row = s.get(Document, doc_id)
                assert row is not None and row.raw_path is not None
                try:
                    body = self.archive.get(row.raw_path)
                except OSError as exc:
                    log.warning("document %s: archive file unreadable: %s", doc_id, exc)
                    continue
                record = _run_extract(body, row.url)
                for model in (Cell, CheckRow, ExtractionErrorRow):
                    s.execute(delete(model).where(model.document_id == doc_id))
                self._write_record(s, row, record)
                done += 1
        return done

    def link(self):
        """Group documents into reports (see `harvester.link`)."""
        from harvester.link import link

        return link(self)

    # ---- helpers ----------------------------------------------------------------------
    def _find(self, url: str, sha: str | None) -> int | None:
        with self.session() as s:
            q = select(Document.id).where(Document.url == url)
            q = q.where(Document.sha256 == sha) if sha is not None else q.where(
                Document.sha256.is_(None), Document.error_kind == FETCH_ERROR)
            return s.scalars(q.order_by(Document.id).limit(1)).first()

    @staticmethod
    def _parent_id(s: Session, parent_url: str | None) -> int | None:
        if not parent_url:
            return None
        q = (select(Document.id).where(or_(Document.url == parent_url, Document.final_url == parent_url))
             .order_by(Document.id.desc()).limit(1))
        return s.scalars(q).first()

    @staticmethod
    def _write_record(s: Session, row: Document, record: ReportRecord) -> None:
        at = _now()
        row.media_type = record.media_type
        row.title = record.title
        row.agency_name = record.agency
        row.year = record.year
        row.template = record.template
        row.publication_date = record.publication_date
        row.agency_level = record.agency_level
        row.report_kind = record.report_kind
        row.pages = record.pages
        row.text = record.text or None
        row.extracted_at = at
        row.error_kind = record.error.kind if record.error else None
        row.error_message = record.error.message if record.error else None
        s.flush()
        cells, seen = [], set()
        for c in record.cells:
            key = (c.table, c.row, c.column)
            if key in seen:  # the first reading of a cell wins; duplicates would break the unique key
                continue
            seen.add(key)
            cells.append(dict(document_id=row.id, table=c.table, row_key=c.row, column_key=c.column,
                              value=_number(c.value), value_text=_text(c.value), raw_text=c.raw,
                              semantic=c.semantic, page=c.page,
                              bbox=list(c.bbox) if c.bbox else None, confidence=c.confidence))
        if cells:
            s.execute(insert(Cell), cells)
        if record.checks:
            s.execute(insert(CheckRow), [dict(document_id=row.id, rule=c.rule, where=c.where,
                                              expected=_text(c.expected), found=_text(c.found), ok=bool(c.ok))
                                         for c in record.checks])
        if record.error:
            s.execute(insert(ExtractionErrorRow), [dict(document_id=row.id, kind=record.error.kind,
                                                        message=record.error.message, at=at)])
