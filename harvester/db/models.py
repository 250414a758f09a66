"""The database schema as SQLAlchemy 2.x ORM models.

Provenance rules the schema encodes:

* A *document* is one fetched (or ingested) file: unique on ``(url, sha256)``, so the
  same bytes at the same URL are stored once, while a changed file at the same URL
  is a new document. A fetch that failed (no body) is a document with ``sha256`` NULL
  and ``error_kind = 'fetch'``.
* Cells and checks belong to the document they were read from. A *report* (one
  agency, one year) groups documents through ``report_documents``; its numbers are
  those of its ``canonical_document_id``.
* ``report_conflicts`` lists cells on which a document of a report disagrees with the
  report's merged value (written by ``harvester.link``), older publications included.
* Agencies (``harvester.agency``) have a stable id, a GB/T 2260 division code, level and parent
  government; ``agency_aliases`` keeps every printed name, ``agency_ambiguities`` every name
  that could not be told apart.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Portal(Base):
    __tablename__ = "portals"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(Text)
    agency: Mapped[Optional[str]] = mapped_column(Text)
    level: Mapped[Optional[str]] = mapped_column(String(50))
    cms: Mapped[Optional[str]] = mapped_column(String(100))
    start_urls: Mapped[Optional[list[str]]] = mapped_column(JSON)
    division_code: Mapped[Optional[str]] = mapped_column(String(12))  # GB/T 2260
    status: Mapped[Optional[str]] = mapped_column(String(20))  # unverified | verified | blocked | gone
    source: Mapped[Optional[str]] = mapped_column(Text)  # where the registry entry came from


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "crawl" | "ingest"
    portals: Mapped[Optional[list[str]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    stats: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[Optional[str]] = mapped_column(String(20))  # running | ok | failed | aborted
    host: Mapped[Optional[str]] = mapped_column(String(255))  # machine and process that run it:
    pid: Mapped[Optional[int]] = mapped_column(Integer)  # a dead owner means the run was killed


class Agency(Base):
    """One government or department in one division (`harvester.agency`). ``id`` is stable: it is
    never re-keyed, whatever names arrive later; ``identity_key`` is what resolution maps a printed
    name to (``370305:人民政府办公室``, or ``name:<normalized name>`` when no division could be told);
    ``name`` is the most complete form printed so far."""

    __tablename__ = "agencies"
    __table_args__ = (Index("ix_agencies_normalized_name", "normalized_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    normalized_name: Mapped[str] = mapped_column(Text)
    division_code: Mapped[Optional[str]] = mapped_column(String(12))  # GB/T 2260 code of its government
    level: Mapped[Optional[str]] = mapped_column(String(20))  # national | province | city | county | ...
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agencies.id"))  # parent government
    identity_key: Mapped[Optional[str]] = mapped_column(Text, unique=True)  # NULL only for pre-0004 rows


class AgencyAlias(Base):
    """Every name an agency was printed or known under. ``source``: ``document`` (printed in a
    report), ``division`` (built from the division dataset for a parent government)."""

    __tablename__ = "agency_aliases"
    __table_args__ = (UniqueConstraint("agency_id", "normalized"), Index("ix_agency_aliases_normalized", "normalized"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))


class AgencyAmbiguity(Base):
    """A document whose printed agency name fits several divisions (朝阳区… with no portal to tell
    北京 from 长春): filed under an agency of that bare name (``agency_id``), never merged by guess.
    ``candidate_codes`` / ``candidate_names``: the divisions it could mean, ``;``-separated."""

    __tablename__ = "agency_ambiguities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    printed_name: Mapped[str] = mapped_column(Text)
    portal_id: Mapped[Optional[str]] = mapped_column(ForeignKey("portals.id"))
    candidate_codes: Mapped[str] = mapped_column(Text)
    candidate_names: Mapped[str] = mapped_column(Text)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("url", "sha256"),
        Index("ix_documents_sha256", "sha256"),
        Index("ix_documents_final_url", "final_url"),
        Index("ix_documents_agency_name_year", "agency_name", "year"),
        Index("ix_documents_parent_document_id", "parent_document_id"),
        Index("ix_documents_linked_at", "linked_at"),
        Index("ix_documents_parent_url", "parent_url"),
        Index("ix_documents_extractor_version", "extractor_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[Optional[str]] = mapped_column(Text)
    http_status: Mapped[Optional[int]] = mapped_column(Integer)
    media_type: Mapped[Optional[str]] = mapped_column(String(200))
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    size: Mapped[Optional[int]] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raw_path: Mapped[Optional[str]] = mapped_column(Text)  # relative to the data directory
    portal_id: Mapped[Optional[str]] = mapped_column(ForeignKey("portals.id"))
    crawl_run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("crawl_runs.id"))
    parent_url: Mapped[Optional[str]] = mapped_column(Text)
    parent_document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("documents.id"))
    title: Mapped[Optional[str]] = mapped_column(Text)
    agency_name: Mapped[Optional[str]] = mapped_column(Text)
    year: Mapped[Optional[int]] = mapped_column(Integer)
    template: Mapped[Optional[str]] = mapped_column(String(10))
    publication_date: Mapped[Optional[str]] = mapped_column(String(10))  # ISO date as printed
    agency_level: Mapped[Optional[str]] = mapped_column(String(20))  # as the agency name shows it
    report_kind: Mapped[Optional[str]] = mapped_column(String(20))  # standard | pre2019_prose | no_tables
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    text: Mapped[Optional[str]] = mapped_column(Text)
    extracted_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    #: `harvester.extract.EXTRACTOR_VERSION` that produced the cells; NULL = pending extraction
    #: (0 = extracted before versions were recorded)
    extractor_version: Mapped[Optional[int]] = mapped_column(Integer)
    error_kind: Mapped[Optional[str]] = mapped_column(String(50))
    error_message: Mapped[Optional[str]] = mapped_column(Text)
    linked_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))  # NULL: `link` has not seen it
    etag: Mapped[Optional[str]] = mapped_column(Text)  # HTTP validators as served, for conditional requests
    last_modified: Mapped[Optional[str]] = mapped_column(Text)
    fetch_error_kind: Mapped[Optional[str]] = mapped_column(String(40))  # harvester.runs.ERROR_KINDS
    removed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))  # gone from the portal


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    template: Mapped[Optional[str]] = mapped_column(String(10))
    canonical_document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("documents.id"))
    # what `harvester.link` summarized when it last touched the report (`harvester.link.summarize`):
    # read by ``report_summary`` / ``reports.csv`` / coverage one row per report, never regrouped
    documents: Mapped[Optional[int]] = mapped_column(Integer)  # report_documents rows
    checks: Mapped[Optional[int]] = mapped_column(Integer)  # checks that speak about it (``report_checks``)
    failed_checks: Mapped[Optional[int]] = mapped_column(Integer)
    failed_documents: Mapped[Optional[int]] = mapped_column(Integer)  # its documents with an error
    value_documents: Mapped[Optional[str]] = mapped_column(Text)  # ids of the documents giving values, ';'


class ReportDocument(Base):
    """Which report a document belongs to (a document belongs to at most one). ``version``: 1 for
    the newest publication of the report, 2 for the one before … (`harvester.link` says how
    publications are ordered); ``rank``: 0 for the canonical document, then the order in which the
    report's merged numbers take values (only version 1 documents give values). ``source``: the
    document's checks speak about the report (it gives values, or it is the canonical document of
    a report without values) — the ``report_sources`` view."""

    __tablename__ = "report_documents"
    __table_args__ = (Index("ix_report_documents_report_id", "report_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    version: Mapped[Optional[int]] = mapped_column(Integer)
    rank: Mapped[Optional[int]] = mapped_column(Integer)
    source: Mapped[Optional[bool]] = mapped_column(Boolean)


class Cell(Base):
    """One table cell in long form. ``value`` is numeric (NULL when unknown or not a
    number, e.g. table2 procurement ``total_amount``); ``value_text`` is the record's
    value rendered exactly (``27``, ``75.3``, ``251000元``); ``raw_text`` is what was printed."""

    __tablename__ = "cells"
    __table_args__ = (UniqueConstraint("document_id", "table", "row_key", "column_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    table: Mapped[str] = mapped_column(String(20))
    row_key: Mapped[str] = mapped_column(String(100))
    column_key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Optional[float]] = mapped_column(Float)
    value_text: Mapped[Optional[str]] = mapped_column(Text)
    raw_text: Mapped[Optional[str]] = mapped_column(Text)
    semantic: Mapped[str] = mapped_column(String(20))  # number | zero | blank | unreadable
    unit: Mapped[Optional[str]] = mapped_column(String(20))  # printed unit kept apart (万元, 元, 件 ...)
    page: Mapped[Optional[int]] = mapped_column(Integer)
    bbox: Mapped[Optional[list]] = mapped_column(JSON)  # [x0, top, x1, bottom] in PDF points (PDF, OCR)
    confidence: Mapped[Optional[float]] = mapped_column(Float)  # OCR only


class CheckRow(Base):
    """One evaluated rule. ``scope`` says what it was evaluated on: ``document`` (one file's
    tables and prose; ``document_id`` set), ``report`` (a report's merged numbers; ``report_id``)
    or ``series`` (one agency across years; ``agency_id``, ``where`` names the years)."""

    __tablename__ = "checks"
    __table_args__ = (Index("ix_checks_document_id", "document_id"), Index("ix_checks_report_id", "report_id"),
                      Index("ix_checks_agency_id", "agency_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(10), default="document", server_default="document")
    report_id: Mapped[Optional[int]] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(100))
    where: Mapped[Optional[str]] = mapped_column(Text)
    expected: Mapped[Optional[str]] = mapped_column(Text)
    found: Mapped[Optional[str]] = mapped_column(Text)
    ok: Mapped[bool] = mapped_column(Boolean)


class ExtractionErrorRow(Base):
    __tablename__ = "extraction_errors"
    __table_args__ = (Index("ix_extraction_errors_document_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[Optional[str]] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportConflict(Base):
    """A cell on which one of a report's documents disagrees with the report's merged (exported)
    value, ``canonical_value``. ``kind``: ``revision`` when the document is an older publication
    (version > 1), ``reading`` when it is another reading of the current one (HTML vs PDF vs picture)."""

    __tablename__ = "report_conflicts"
    __table_args__ = (Index("ix_report_conflicts_report_id", "report_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    table: Mapped[str] = mapped_column(String(20))
    row_key: Mapped[str] = mapped_column(String(100))
    column_key: Mapped[str] = mapped_column(String(100))
    canonical_value: Mapped[Optional[str]] = mapped_column(Text)
    other_value: Mapped[Optional[str]] = mapped_column(Text)
    kind: Mapped[Optional[str]] = mapped_column(String(20))  # revision | reading


class FetchBlock(Base):
    """A response that is not a document: a JavaScript challenge, a WAF page, a cookie redirect
    loop, a JavaScript shell, a soft-404 stub (rules: `harvester.blocked.RULES`). Its body is in
    the archive as evidence; it is never a document and never counts as "0 reports"."""

    __tablename__ = "fetch_blocks"
    __table_args__ = (UniqueConstraint("crawl_run_id", "url", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    portal_id: Mapped[Optional[str]] = mapped_column(ForeignKey("portals.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[Optional[str]] = mapped_column(Text)
    http_status: Mapped[Optional[int]] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(40))  # RULES name, e.g. "js-challenge"
    kind: Mapped[str] = mapped_column(String(10))  # "blocked" | "gone"
    reason: Mapped[str] = mapped_column(Text)
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    raw_path: Mapped[Optional[str]] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PortalRun(Base):
    """One portal in one crawl run (written by `harvester.runs.RunRecorder`). ``found`` counts
    the report pages and attachments seen; ``new`` / ``changed`` / ``unchanged`` split them;
    ``errors`` maps a typed error kind to its count; ``status`` is ok | empty | blocked | failed."""

    __tablename__ = "portal_runs"
    __table_args__ = (UniqueConstraint("run_id", "portal_id"), Index("ix_portal_runs_portal_id", "portal_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    portal_id: Mapped[str] = mapped_column(ForeignKey("portals.id"))
    status: Mapped[str] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer)
    found: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    errors: Mapped[Optional[dict[str, int]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[Optional[float]] = mapped_column(Float)


class DocumentChange(Base):
    """The change log: a document ``added`` (a URL never stored before), ``changed`` (a new
    version of a stored URL; ``previous_document_id`` is the version it replaces) or ``removed``
    (the portal answered 404/410 or sent the URL back to its folder) in a run."""

    __tablename__ = "document_changes"
    __table_args__ = (Index("ix_document_changes_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    portal_id: Mapped[Optional[str]] = mapped_column(ForeignKey("portals.id"))
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    previous_document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    change: Mapped[str] = mapped_column(String(10))  # added | changed | removed
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
