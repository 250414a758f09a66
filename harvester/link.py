"""Group documents into reports: one agency, one year, one report — incrementally.

**Agency.** A document's printed agency name is resolved to an agency identity with the context
of the portal it came from (`harvester.agency`): name variants of one agency are one agency,
the same short name in two places is two, and a bare name that fits several places is filed
under its own name and recorded in ``agency_ambiguities``. An attachment that printed no agency
or year of its own inherits the missing field from its parent document (the page it was linked
from, `documents.parent_document_id`, resolved from `parent_url` here when the parent was
stored after the attachment).

**Incremental.** `link()` works only on the documents it has not seen since they were last
extracted (``documents.linked_at`` NULL: an extraction clears it), their attachments, the
reports they leave or join and the series of those reports' agencies; every id list goes to
the database in chunks of `CHUNK` (never one parameter per document in one query). Agencies
and reports are created with ``INSERT … ON CONFLICT DO NOTHING`` and one run at a time holds
the link lock (a PostgreSQL advisory lock; SQLite's write lock taken first), so concurrent
runs wait instead of failing on a unique constraint. Report ids therefore survive re-runs and
new name variants. ``link(full=True)`` (``harvester link --all``) re-links every document.

**Revisions.** A report's documents are grouped into publications (``report_documents.version``):
ordered by effective publication date (the document's, else its parent's; a document with no
date counts as older than one with a date), then — for documents fetched again at the same URL
with other bytes — by fetch time, newest first. An attachment belongs to its page's
publication. Version 1 is the current publication: only its documents give the report its
numbers; older versions are kept, and every cell on which any document of the report disagrees
with the report's merged value is a row of ``report_conflicts`` (``kind`` ``revision`` for an
older publication, ``reading`` for another reading of the current one).

**Merged numbers.** Within version 1, documents are ranked (``report_documents.rank``; the
canonical document is rank 0) by most non-null cells, then most passed checks, then PDF over
HTML, then lowest id; each (table, row, column) comes from the highest-ranked document that has
a value for it (`merged_cells`), so a page with table 2 and a picture with table 3 make one
complete report.

**Checks.** The template arithmetic is re-run on every touched report's merged numbers
(``checks.scope = 'report'``), and the series checks of every touched agency are recomputed
(``scope = 'series'``, `harvester.agency.series`). Fetch failures are never linked.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from operator import itemgetter
from itertools import groupby
from types import SimpleNamespace
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, UTC
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, case, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from harvester.agency import Identity, normalize_name, resolve
from harvester.agency.store import CHUNK, chunks, ensure_agencies, insert_ignore, record_ambiguities
from harvester.db.models import (Cell, CheckRow, Document, Portal, Report, ReportConflict, ReportDocument)
from harvester.db.queries import FETCH_ERROR, newest_pages

if TYPE_CHECKING:
    from harvester.store import Store

PDF = "application/pdf"
#: the advisory lock id that serializes link runs on PostgreSQL ("link" in ASCII)
LINK_LOCK = 0x6C696E6B
#: pending documents linked together, then touched reports refreshed together: what one run
#: holds in memory, however many documents are pending
SEGMENT = 20_000
REPORT_SEGMENT = 5_000
#: a run touching this many reports refreshes PostgreSQL's statistics of the report tables it filled
ANALYZE_AFTER = 20_000


def normalize_agency(name: str | None) -> str | None:
    """NFKC, all whitespace removed (kept for callers; identity is `harvester.agency.resolve`)."""
    return normalize_name(name)


@dataclass
class LinkStats:
    documents: int = 0  # documents with content considered in this run
    linked: int = 0  # of those, documents belonging to a report
    unlinked: int = 0  # no agency or no year, even after inheriting from the parent
    ambiguous: int = 0  # filed under a bare agency name that fits several places
    reports: int = 0  # reports in the database after the run
    reports_touched: int = 0  # reports whose documents changed in this run
    reports_created: int = 0
    reports_removed: int = 0
    multi_document_reports: int = 0  # among the touched reports
    conflicts: int = 0  # among the touched reports
    parents_resolved: int = 0
    report_checks: int = 0  # template arithmetic on the touched reports' merged numbers
    report_checks_failed: int = 0
    series_checks: int = 0  # over the touched agencies' years
    series_failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Doc:
    id: int
    url: str
    final_url: str | None
    parent_url: str | None
    parent_id: int | None
    agency: str | None
    year: int | None
    portal_id: str | None
    error_kind: str | None
    publication_date: str | None = None
    fetched_at: datetime | None = None
    media_type: str | None = None
    template: str | None = None
    children: list[int] = field(default_factory=list)


_DOC_COLUMNS = (Document.id, Document.url, Document.final_url, Document.parent_url, Document.parent_document_id,
                Document.agency_name, Document.year, Document.portal_id, Document.error_kind,
                Document.publication_date, Document.fetched_at, Document.media_type, Document.template)


def _load(s: Session, ids: Iterable[int], into: dict[int, _Doc]) -> None:
    for batch in chunks(sorted(set(ids) - set(into))):
        for r in s.execute(select(*_DOC_COLUMNS).where(Document.id.in_(batch))):
            into[r[0]] = _Doc(*r)


def _now() -> datetime:
    return datetime.now(UTC)


def link(target: "Store | Session", *, full: bool = False) -> LinkStats:
    """Link the documents not linked since their last extraction (all of them with `full`).
    With a `Store` the work is committed; with a `Session` the caller owns the transaction."""
    if isinstance(target, Session):
        return _link(target, full)
    with target.session() as s, s.begin():
        return _link(s, full)


def _serialize(s: Session) -> None:
    """One link run at a time: the second waits for the first to commit."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LINK_LOCK})
    else:  # any write statement takes SQLite's write lock (waiting up to the busy timeout)
        s.execute(update(Report).where(text("0 = 1")).values(template=None))


def _pending(s: Session, full: bool) -> list[int]:
    if full:
        s.execute(update(Document).values(linked_at=None))
    # an extraction clears linked_at (`harvester.store.document_fields`): one index lookup
    return list(s.scalars(select(Document.id).where(Document.linked_at.is_(None)).order_by(Document.id)))


def _link(s: Session, full: bool) -> LinkStats:
    """Pending documents a segment at a time (identity, report membership), then the reports
    they touched a segment at a time (versions, ranks, checks), then the agencies' series:
    memory follows the segment, not the corpus (`link --all`, or a night after `reextract`,
    has every document pending)."""
    started = _now()
    _serialize(s)
    stats = LinkStats()
    done: set[int] = set()  # documents linked in this run (a child of a page may sit in a later segment)
    touched: set[int] = set()
    for segment in chunks(_pending(s, full), SEGMENT):
        touched |= _link_documents(s, [d for d in segment if d not in done], done, stats)
    stats.reports_touched = len(touched)
    if len(touched) >= ANALYZE_AFTER:
        analyze_report_tables(s)
    agencies: set[int] = set()
    for batch in chunks(sorted(touched), REPORT_SEGMENT):
        agencies |= _refresh_reports(s, set(batch), stats)
    from harvester.agency.series import refresh_series

    stats.series_checks, stats.series_failed = refresh_series(s, agencies)
    for batch in chunks(sorted(done)):  # a document extracted again while this run went on stays pending
        s.execute(update(Document).where(Document.id.in_(batch), or_(Document.extracted_at.is_(None),
                                                                     Document.extracted_at <= started))
                  .values(linked_at=started))
    stats.reports = s.scalar(select(func.count()).select_from(Report)) or 0
    return stats


def analyze_report_tables(s: Session) -> None:
    """Fresh statistics for the tables a link fills, inside its transaction (PostgreSQL).

    A first link writes a million reports and their documents in one transaction: autovacuum
    cannot see them and the statistics still say "empty", so the planner guesses a batch of 500
    report ids matches most of `report_documents` and reads the whole table in parallel for each
    batch (0.1-0.3 s a batch, half of the 1M link's time) instead of 500 index lookups. ANALYZE
    samples a transaction's own rows and costs a bounded sample, whatever the size."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("ANALYZE reports, report_documents"))


def _link_documents(s: Session, pending: list[int], done: set[int], stats: LinkStats) -> set[int]:
    """Agency, year and report of `pending` and of their attachments not in `done` (added to it);
    returns the reports whose documents changed."""
    docs: dict[int, _Doc] = {}
    _load(s, pending, docs)
    todo = (set(pending) | _children(s, set(pending), docs)) - done
    done |= todo
    _load(s, todo, docs)
    stats.parents_resolved += _resolve_parents(s, [docs[d] for d in sorted(todo)], docs)

    content = sorted(d for d in todo if docs[d].error_kind != FETCH_ERROR)
    stats.documents += len(content)
    portals = _portal_context(s, {p for d in content if (p := docs[d].portal_id) is not None})
    identities: dict[int, tuple[Identity, int]] = {}
    for doc_id in content:
        doc = docs[doc_id]
        agency, year = _effective(s, doc, docs)
        if normalize_name(agency) is None or year is None:
            continue
        code, portal_agency = portals.get(doc.portal_id, (None, None)) if doc.portal_id else (None, None)
        identities[doc_id] = (resolve(agency, code, portal_agency), year)
    stats.linked += len(identities)
    stats.unlinked += len(content) - len(identities)
    agency_ids = ensure_agencies(s, (i for i, _ in identities.values()))
    ambiguous = {d: (i, agency_ids[i.key], docs[d].portal_id) for d, (i, _) in identities.items() if i.ambiguous}
    record_ambiguities(s, ambiguous, sorted(todo))
    stats.ambiguous += len(ambiguous)

    wanted = {d: (agency_ids[i.key], y) for d, (i, y) in identities.items()}
    report_ids, created = _ensure_reports(s, set(wanted.values()))
    stats.reports_created += created
    desired = {d: report_ids[key] for d, key in wanted.items()}
    existing: dict[int, int] = {}
    for batch in chunks(sorted(todo)):
        existing.update(s.execute(select(ReportDocument.document_id, ReportDocument.report_id)
                                  .where(ReportDocument.document_id.in_(batch))).all())
    stale = sorted(d for d, r in existing.items() if desired.get(d) != r)
    for batch in chunks(stale):
        s.execute(delete(ReportDocument).where(ReportDocument.document_id.in_(batch)))
    insert_ignore(s, ReportDocument,
                  [dict(document_id=d, report_id=r) for d, r in sorted(desired.items()) if existing.get(d) != r])
    return set(existing.values()) | set(desired.values())


def _children(s: Session, ids: set[int], docs: dict[int, _Doc]) -> set[int]:
    """Attachments of `ids` (by parent id or parent URL), and theirs, not linked in this run yet:
    they inherit agency and year from a page that may have changed."""
    found: set[int] = set()
    frontier = set(ids)
    for _ in range(3):
        if not frontier:
            break
        new: set[int] = set()
        for batch in chunks(sorted(frontier)):
            new.update(s.scalars(select(Document.id).where(Document.parent_document_id.in_(batch))))
        urls = sorted({u for d in frontier if d in docs for u in (docs[d].url, docs[d].final_url) if u})
        for url_batch in chunks(urls):
            new.update(s.scalars(select(Document.id).where(Document.parent_url.in_(url_batch))))
        frontier = new - ids - found
        found |= frontier
        _load(s, frontier, docs)
    return found


def _resolve_parents(s: Session, todo: list[_Doc], docs: dict[int, _Doc]) -> int:
    urls = sorted({d.parent_url for d in todo if d.parent_id is None and d.parent_url})
    by_url = newest_pages(s, urls)
    found = []
    for doc in todo:
        if doc.parent_id is None and doc.parent_url in by_url and by_url[doc.parent_url] != doc.id:
            doc.parent_id = by_url[doc.parent_url]
            found.append(dict(d=doc.id, p=doc.parent_id))
    if found:
        s.connection().execute(update(Document).where(Document.id == bindparam("d"))
                               .values(parent_document_id=bindparam("p")), found)
    return len(found)


def _effective(s: Session, doc: _Doc, docs: dict[int, _Doc]) -> tuple[str | None, int | None]:
    agency, year = doc.agency, doc.year
    seen = {doc.id}
    parent_id = doc.parent_id
    while (normalize_name(agency) is None or year is None) and parent_id is not None and parent_id not in seen:
        _load(s, [parent_id], docs)
        if parent_id not in docs:
            break
        seen.add(parent_id)
        parent = docs[parent_id]
        if normalize_name(agency) is None:
            agency = parent.agency
        if year is None:
            year = parent.year
        parent_id = parent.parent_id
    return agency, year


def _portal_context(s: Session, portal_ids: set[str]) -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    for batch in chunks(sorted(portal_ids)):
        out.update({p: (c, a) for p, c, a in s.execute(select(Portal.id, Portal.division_code, Portal.agency)
                                                        .where(Portal.id.in_(batch)))})
    return out


def _ensure_reports(s: Session, wanted: set[tuple[int, int]]) -> tuple[dict[tuple[int, int], int], int]:
    def known() -> dict[tuple[int, int], int]:
        ids: dict[tuple[int, int], int] = {}
        for batch in chunks(sorted({a for a, _ in wanted})):
            ids.update({(a, y): i for i, a, y in s.execute(select(Report.id, Report.agency_id, Report.year)
                                                          .where(Report.agency_id.in_(batch)))})
        return ids

    ids = known()
    missing = sorted(wanted - set(ids))
    insert_ignore(s, Report, [dict(agency_id=a, year=y) for a, y in missing])
    return (known() if missing else ids), len(missing)


# ---- one report's documents: versions, ranks, canonical, conflicts ---------------------------

def canonical_rank(non_null_cells: int, passed_checks: int, media_type: str | None,
                   doc_id: int) -> tuple[int, int, int, int]:
    """Sort key within one publication: the smallest is the canonical document."""
    return (-non_null_cells, -passed_checks, 0 if media_type == PDF else 1, doc_id)


def _counts(s: Session, doc_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    cells: dict[int, int] = {}
    passed: dict[int, int] = {}
    for batch in chunks(doc_ids):
        cells.update((d, n) for d, n in s.execute(select(Cell.document_id, func.count()).where(
            Cell.document_id.in_(batch), Cell.value_text.is_not(None)).group_by(Cell.document_id)))
        passed.update((d, n) for d, n in s.execute(select(CheckRow.document_id, func.count()).where(
            CheckRow.document_id.in_(batch), CheckRow.ok.is_(True)).group_by(CheckRow.document_id)) if d is not None)
    return cells, passed


def order_report(members: list[_Doc], cells: dict[int, int], passed: dict[int, int]) -> list[tuple[int, int, int]]:
    """[(document id, version, rank)] of one report's documents, best first (see the module doc)."""
    by_id = {d.id: d for d in members}
    generation: dict[int, int] = {}
    by_url: dict[str, list[_Doc]] = defaultdict(list)
    for d in members:
        by_url[d.url].append(d)
    for same in by_url.values():  # fetched again at one URL with other bytes: newest is generation 0
        for i, d in enumerate(sorted(same, key=lambda d: (d.fetched_at or datetime.min.replace(tzinfo=UTC),
                                                          d.id), reverse=True)):
            generation[d.id] = -i

    def publication(d: _Doc, seen: frozenset[int] = frozenset()) -> tuple[str, int]:
        parent = by_id.get(d.parent_id) if d.parent_id is not None and d.parent_id not in seen else None
        if parent is None:
            return d.publication_date or "", generation[d.id]
        date, gen = publication(parent, seen | {d.id})
        return d.publication_date or date, min(gen, generation[d.id])

    keys = {d.id: publication(d) for d in members}
    versions = {k: i + 1 for i, k in enumerate(sorted(set(keys.values()), reverse=True))}
    ordered = sorted(members, key=lambda d: (versions[keys[d.id]],
                                             *canonical_rank(cells.get(d.id, 0), passed.get(d.id, 0),
                                                             d.media_type, d.id)))
    return [(d.id, versions[keys[d.id]], rank) for rank, d in enumerate(ordered)]


def _refresh_reports(s: Session, report_ids: set[int], stats: LinkStats) -> set[int]:
    """Versions, ranks, canonical document, template and conflicts of the touched reports;
    reports left without documents are removed. Returns the agencies concerned."""
    members: dict[int, list[int]] = defaultdict(list)
    current: dict[int, tuple[int | None, int | None]] = {}
    agencies: dict[int, int] = {}
    for batch in chunks(sorted(report_ids)):
        for d, r, v, k in s.execute(select(ReportDocument.document_id, ReportDocument.report_id,
                                           ReportDocument.version, ReportDocument.rank)
                                    .where(ReportDocument.report_id.in_(batch))):
            members[r].append(d)
            current[d] = (v, k)
        agencies.update(s.execute(select(Report.id, Report.agency_id).where(Report.id.in_(batch))).all())
    docs: dict[int, _Doc] = {}
    all_docs = sorted(current)
    _load(s, all_docs, docs)
    cells, passed = _counts(s, all_docs)
    canonical: dict[int, int] = {}
    versions: dict[int, dict[int, int]] = {}
    changed: list[dict[str, int]] = []
    for report_id, doc_ids in members.items():
        order = order_report([docs[d] for d in doc_ids], cells, passed)
        canonical[report_id] = order[0][0]
        versions[report_id] = {d: v for d, v, _ in order}
        changed += [dict(d=d, v=v, k=k) for d, v, k in order if current[d] != (v, k)]
    if changed:
        s.connection().execute(update(ReportDocument).where(ReportDocument.document_id == bindparam("d"))
                               .values(version=bindparam("v"), rank=bindparam("k")), changed)
    reports = {}
    for batch in chunks(sorted(canonical)):
        reports.update({i: (c, t) for i, c, t in s.execute(select(Report.id, Report.canonical_document_id,
                                                                  Report.template).where(Report.id.in_(batch)))})
    moved = [dict(r=report_id, c=doc_id, t=docs[doc_id].template) for report_id, doc_id in sorted(canonical.items())
             if reports.get(report_id) != (doc_id, docs[doc_id].template)]
    if moved:  # one executemany (a night creates a thousand reports)
        s.connection().execute(update(Report).where(Report.id == bindparam("r"))
                               .values(canonical_document_id=bindparam("c"), template=bindparam("t")), moved)
    empty = sorted(report_ids - set(members))
    for batch in chunks(empty):
        s.execute(delete(ReportConflict).where(ReportConflict.report_id.in_(batch)))
        s.execute(delete(CheckRow).where(CheckRow.report_id.in_(batch)))
        s.execute(delete(Report).where(Report.id.in_(batch)))
    stats.reports_removed += len(empty)
    stats.multi_document_reports += sum(len(m) > 1 for m in members.values())
    stats.conflicts += _record_conflicts(s, members, versions)
    written, failed, values = _report_checks(s, sorted(members))
    stats.report_checks += written
    stats.report_checks_failed += failed
    summarize(s, sorted(members), values)
    return set(agencies.values())


def _report_checks(s: Session, report_ids: list[int]) -> tuple[int, int, dict[int, set[int]]]:
    """The template arithmetic (`harvester.extract.checks.run_checks`, the documents' own rules)
    on each report's merged numbers: ``checks.scope = 'report'``. Returns (written, failed, the
    documents each report's values come from) — the last read on the way, for `summarize`."""
    from harvester.extract import labels as L
    from harvester.extract.checks import run_checks

    needed3 = ("new_received", "carried_over", "total_processed", "carried_forward")
    written = failed = 0
    values: dict[int, set[int]] = {r: set() for r in report_ids}
    for batch in chunks(report_ids, 100):
        s.execute(delete(CheckRow).where(CheckRow.scope == "report", CheckRow.report_id.in_(batch)))
        tables: dict[int, dict[str, dict[str, dict[str, float | int | None]]]] = {}
        for report_id, table, row_key, column_key, value_text, _, semantic, document_id, _, number, _ in _merged(
                s, batch):
            if value_text is not None:
                values[report_id].add(document_id)
            if table not in ("table3", "table4"):
                continue
            value: float | int | None = number if semantic in ("number", "zero") else None
            if value is not None and float(value).is_integer():
                value = int(value)
            mine = tables.get(report_id)
            if mine is None:
                mine = tables[report_id] = {"table3": {}, "table4": {}}
            mine[table].setdefault(row_key, {})[column_key] = value
        rows: list[dict[str, Any]] = []
        for report_id, mine in sorted(tables.items()):
            t3, t4 = mine["table3"], mine["table4"]
            table3 = ({row: {col: cols.get(col) for col in L.TABLE3_COLUMNS} for row, cols in t3.items()}
                      if all(r in t3 for r in needed3) else None)
            table4 = {g: {col: cols.get(col) for col in L.TABLE4_COLUMNS} for g, cols in t4.items()} or None
            merged = SimpleNamespace(table2=None, table3=table3, table4=table4)  # what run_checks reads
            for check in run_checks(merged):
                rows.append(dict(scope="report", report_id=report_id, document_id=None, agency_id=None,
                                 rule=check.rule, where=check.where, expected=str(check.expected),
                                 found=str(check.found), ok=bool(check.ok)))
        insert_ignore(s, CheckRow, rows)
        written += len(rows)
        failed += sum(not r["ok"] for r in rows)
    return written, failed, values


def summarize(s: "Session | Connection", report_ids: list[int], values: dict[int, set[int]] | None = None) -> None:
    """Write each report's summary — ``reports.documents``, ``checks``, ``failed_checks``,
    ``failed_documents``, ``value_documents`` and ``report_documents.source`` — so that
    ``report_summary``, ``reports.csv`` and coverage read one row per report instead of grouping
    every cell and check of the corpus before their first row (11 minutes at 1,000,000 reports).

    The rules are those of the ``report_checks`` view: a report's *sources* are the documents its
    merged values come from (`values`: report -> documents, read from the merged cells when not
    given), else its canonical document; the checks that speak about it are its sources' document
    checks and its own report checks; a check fails unless ``ok``. Run on every report link
    touches, after its report checks are written."""
    conn = s.connection() if isinstance(s, Session) else s
    for batch in chunks(report_ids):
        if values is None or any(r not in values for r in batch):
            found: dict[int, set[int]] = {r: set() for r in batch}
            for sub in chunks(batch, 100):
                for c in _merged(conn, sub, Cell.value_text.is_not(None)):
                    found[c.report_id].add(c.document_id)
        else:
            found = {r: values[r] for r in batch}
        members: dict[int, list[tuple[int, bool | None]]] = defaultdict(list)
        for d, r, source in conn.execute(select(ReportDocument.document_id, ReportDocument.report_id,
                                                ReportDocument.source).where(ReportDocument.report_id.in_(batch))):
            members[r].append((d, source))
        canonical: dict[int, int | None] = dict(conn.execute(
            select(Report.id, Report.canonical_document_id).where(Report.id.in_(batch))).all())
        sources = {r: found[r] or {c for c in (canonical.get(r),) if c is not None} for r in batch}
        member_ids = sorted(d for m in members.values() for d, _ in m)
        errors: set[int] = set()
        for ids in chunks(member_ids):
            errors.update(conn.scalars(select(Document.id).where(Document.id.in_(ids), Document.error_kind.is_not(None))))
        failing = func.sum(case((CheckRow.ok, 0), else_=1))
        by_doc: dict[int, tuple[int, int]] = {}
        for ids in chunks(sorted({d for src in sources.values() for d in src})):
            by_doc.update((d, (n, f)) for d, n, f in conn.execute(
                select(CheckRow.document_id, func.count(), failing)
                .where(CheckRow.scope == "document", CheckRow.document_id.in_(ids)).group_by(CheckRow.document_id)))
        own = {r: (n, f) for r, n, f in conn.execute(
            select(CheckRow.report_id, func.count(), failing)
            .where(CheckRow.scope == "report", CheckRow.report_id.in_(batch)).group_by(CheckRow.report_id))}
        rows, flags = [], []
        for r in batch:
            counts = [by_doc.get(d, (0, 0)) for d in sources[r]] + [own.get(r, (0, 0))]
            rows.append(dict(r=r, n=len(members[r]), c=sum(n for n, _ in counts), f=sum(int(f or 0) for _, f in counts),
                             e=sum(d in errors for d, _ in members[r]),
                             v=";".join(str(d) for d in sorted(found[r])) or None))
            flags += [dict(d=d, s=d in sources[r]) for d, was in members[r] if was is not (d in sources[r])]
        conn.execute(update(Report).where(Report.id == bindparam("r")).values(
            documents=bindparam("n"), checks=bindparam("c"), failed_checks=bindparam("f"),
            failed_documents=bindparam("e"), value_documents=bindparam("v")), rows)
        if flags:
            conn.execute(update(ReportDocument).where(ReportDocument.document_id == bindparam("d"))
                         .values(source=bindparam("s")), flags)


def _same(a: str | None, b: str | None) -> bool:
    """Equal as printed or as numbers; an unknown (NULL) value disagrees with nothing."""
    if a == b or a is None or b is None:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _record_conflicts(s: Session, members: dict[int, list[int]], versions: dict[int, dict[int, int]]) -> int:
    multi = sorted(r for r, m in members.items() if len(m) > 1)
    for batch in chunks(sorted(members)):
        s.execute(delete(ReportConflict).where(ReportConflict.report_id.in_(batch)))
    total = 0
    for batch in chunks(multi, 100):
        merged = {(c.report_id, c.table, c.row_key, c.column_key): c for c in _merged(s, batch)}
        rows: list[dict[str, Any]] = []
        doc_ids = [d for r in batch for d in members[r]]
        report_of = {d: r for r in batch for d in members[r]}
        for sub in chunks(doc_ids):
            for d, t, rk, ck, v in s.execute(select(Cell.document_id, Cell.table, Cell.row_key, Cell.column_key,
                                                    Cell.value_text).where(Cell.document_id.in_(sub))
                                             .order_by(Cell.document_id, Cell.id)):
                report_id = report_of[d]
                best = merged.get((report_id, t, rk, ck))
                if best is None or best.document_id == d or _same(best.value_text, v):
                    continue
                rows.append(dict(report_id=report_id, document_id=d, table=t, row_key=rk, column_key=ck,
                                 canonical_value=best.value_text, other_value=v,
                                 kind="revision" if versions[report_id][d] > 1 else "reading"))
        insert_ignore(s, ReportConflict, rows)
        total += len(rows)
    return total


# ---- merged numbers --------------------------------------------------------------------------

class MergedCell(NamedTuple):
    """One merged number (a named tuple: millions are built per link and export)."""

    report_id: int
    table: str
    row_key: str
    column_key: str
    value_text: str | None
    raw_text: str | None
    semantic: str
    document_id: int  # the document the value was read from
    cell_id: int
    value: float | None = None
    unit: str | None = None


def _plain_rows(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    """Every row of `statement` as the driver's plain tuples. SQLAlchemy's Row objects took a third
    of the time of reading a report's cells (millions per export); the cell columns need no
    result processing on SQLite or psycopg (integers, text, double precision)."""
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def current_members(report_ids: list[int]) -> Select[int, int, int | None]:
    """(report, document, rank) of the reports' current (version 1) documents."""
    return (select(ReportDocument.report_id, ReportDocument.document_id, ReportDocument.rank)
            # NULL version / rank: linked before revisions existed (until the next link) — a current reading
            .where(ReportDocument.report_id.in_(report_ids), func.coalesce(ReportDocument.version, 1) == 1))


#: the columns of a cell `merged_rows` returns, in this order
MERGED_ROW = ("document_id", "table", "row_key", "column_key", "value_text", "raw_text", "semantic", "cell_id",
              "value", "unit")


def merged_rows(s: "Session | Connection", report_ids: list[int], *conditions: Any) -> dict[int, list[tuple[Any, ...]]]:
    """The merged cells of `report_ids` (at most `CHUNK`), report by report: for each (table,
    row, column) the cell of the best-ranked version-1 document with a value, else of the
    best-ranked one. Each cell is the driver's plain row (`MERGED_ROW`): the export reads
    hundreds of millions of them and writes them as they are.

    Two index lookups, joined here: the reports' current documents, then their cells by document
    id. (One SQL join let PostgreSQL pick a parallel scan of all cells once the database held
    100,000 reports: over a second per batch.) `conditions` may only name `Cell` columns.
    Order: the reports with one current document (most of them, no merging needed) by document
    id, then the others by report id; within a report, by cell id.
    """
    conn = s.connection() if isinstance(s, Session) else s  # Core rows: no ORM loading for millions of cells
    member: dict[int, tuple[int, int]] = {}  # document -> (report, rank)
    for r, d, k in conn.execute(current_members(report_ids)):
        member[d] = (r, k or 0)
    rows: list[tuple[Any, ...]] = []
    for batch in chunks(sorted(member), CHUNK // 2):  # room for the parameters of `conditions`
        rows += _plain_rows(conn, select(Cell.document_id, Cell.table, Cell.row_key, Cell.column_key,
                                         Cell.value_text, Cell.raw_text, Cell.semantic, Cell.id, Cell.value,
                                         Cell.unit).where(Cell.document_id.in_(batch), *conditions))
    documents = Counter(r for r, _ in member.values())
    single = {d: r for d, (r, _) in member.items() if documents[r] == 1}
    out: dict[int, list[tuple[Any, ...]]] = {}
    alone = [c for c in rows if c[0] in single]
    # a report with one current document: its cells are the merged cells (one per key)
    alone.sort(key=itemgetter(0, 7))  # document (one per report), cell
    for d, cells in groupby(alone, itemgetter(0)):
        out[single[d]] = list(cells)
    shared = [c for c in rows if c[0] not in single]
    shared.sort(key=lambda c: (*member[c[0]], c[0], c[7]))  # report, rank, document, cell: first wins
    best: dict[int, dict[tuple[str, str, str], tuple[Any, ...]]] = {}
    for c in shared:
        key = (c[1], c[2], c[3])
        cells_of = best.setdefault(member[c[0]][0], {})
        have = cells_of.get(key)
        if have is None or (have[4] is None and c[4] is not None):
            cells_of[key] = c
    for r, by_key in best.items():
        out[r] = list(by_key.values())
    return out


def _merged(s: "Session | Connection", report_ids: list[int], *conditions: Any) -> Iterator[MergedCell]:
    """`merged_rows` as `MergedCell`s, in its order."""
    new = tuple.__new__  # MergedCell's own __new__ is a Python call per cell
    for r, cells in merged_rows(s, report_ids, *conditions).items():
        for d, t, rk, ck, v, raw, sem, cell_id, num, unit in cells:
            yield new(MergedCell, (r, t, rk, ck, v, raw, sem, d, cell_id, num, unit))


def iter_merged_cells(s: "Session | Connection", report_ids: Iterable[int] | None = None,
                      *conditions: Any) -> Iterator[MergedCell]:
    """Merged cells of the given reports (all reports when None), streamed a chunk of reports
    at a time."""
    if report_ids is None:
        report_ids = s.scalars(select(Report.id).order_by(Report.id)).all()
    for batch in chunks(report_ids, CHUNK):
        yield from _merged(s, batch, *conditions)


def merged_cells(s: Session) -> list[MergedCell]:
    """Every report's numbers (`iter_merged_cells` over all reports), as read by the export and
    `harvester reports`: table 2 from a page and table 3 from a picture make one complete report;
    an older publication never gives a value."""
    return list(iter_merged_cells(s))


def ranked_documents(s: Session) -> dict[int, list[int]]:
    """Each linked report's documents, best first: its canonical document, then the others in
    merge order, then older versions."""
    out: dict[int, list[int]] = defaultdict(list)
    for r, d in s.execute(select(ReportDocument.report_id, ReportDocument.document_id)
                          .order_by(ReportDocument.report_id, ReportDocument.version, ReportDocument.rank)):
        out[r].append(d)
    return dict(out)
