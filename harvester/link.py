"""Group documents into reports: one agency, one year, one report.

Two documents are the same report when their normalized agency names (NFKC,
all whitespace removed; outer divisions aside, see `same_agency`) and years are equal: a detail page and its PDF attachment,
or one report published at two URLs. An attachment that printed no agency or
year of its own inherits the missing field from its parent document (the page it
was linked from, `documents.parent_document_id`, resolved from `parent_url` here
when the parent was stored after the attachment).

The canonical document of a report is the one with the most non-null cells, then
the most passed checks, then PDF over HTML, then the lowest id. Where another
document of the report disagrees with the canonical one on a cell, a row goes to
`report_conflicts` (the documents' own cells and checks are left untouched).

A report's numbers are merged cell by cell (`merged_cells`, read by the export and
`harvester reports`): each (table, row, column) comes from the highest-ranked document
that has a value for it, canonical first, so a report whose table 2 is on its page and
whose table 3 is in a picture or a PDF is complete.

`link()` computes the whole desired state and applies only the differences, so
running it again changes nothing. Fetch failures are never linked, nor is a version of a URL
that a newer version of the same URL supersedes (a revised report replaces its numbers; the old
version stays stored, with its cells, in the change log's ``previous_document_id``).
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from harvester.db.models import (Agency, Cell, CheckRow, Document, Report, ReportConflict, ReportDocument)

if TYPE_CHECKING:
    from harvester.store import Store

_SPACE = re.compile(r"\s+")
PDF = "application/pdf"


def normalize_agency(name: str | None) -> str | None:
    if name is None:
        return None
    norm = _SPACE.sub("", unicodedata.normalize("NFKC", name))
    return norm or None


def same_agency(names) -> dict[str, str]:
    """Map each normalized agency name to the one name its agency is filed under.

    One agency prints its name with or without the outer divisions (临淄区人民政府办公室 one
    year, 淄博市临淄区人民政府办公室 the next). Names that agree from the innermost division on
    are one agency, filed under the longest form — unless they name different outer divisions
    (北京市朝阳区… and 长春市朝阳区…): then each stays apart, and the bare 朝阳区… too, since
    which one it means cannot be told.
    """
    from harvester.extract.level import split_division_prefix

    by_short: dict[str, set[str]] = defaultdict(set)
    for name in set(names):
        by_short[split_division_prefix(name)[1]].add(name)
    out: dict[str, str] = {}
    for group in by_short.values():
        prefixes = {split_division_prefix(n)[0] for n in group} - {""}
        # one outer division chain (each a suffix of the longest, e.g. 淄博市 within 山东省淄博市)
        longest = max(prefixes, key=len, default="")
        if all(longest.endswith(p) for p in prefixes):
            target = max(group, key=len)
            out.update({n: target for n in group})
        else:
            out.update({n: n for n in group})
    return out


@dataclass
class LinkStats:
    documents: int = 0  # documents with content considered
    linked: int = 0  # documents belonging to a report
    unlinked: int = 0  # no agency or no year, even after inheriting from the parent
    reports: int = 0
    reports_created: int = 0
    reports_removed: int = 0
    multi_document_reports: int = 0
    conflicts: int = 0
    parents_resolved: int = 0

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
    media_type: str | None


def link(target: "Store | Session") -> LinkStats:
    """Link every stored document to its report. With a `Store` the work is committed;
    with a `Session` the caller owns the transaction."""
    if isinstance(target, Session):
        return _link(target)
    with target.session() as s, s.begin():
        return _link(s)


def _link(s: Session) -> LinkStats:
    stats = LinkStats()
    docs = {r.id: _Doc(r.id, r.url, r.final_url, r.parent_url, r.parent_document_id, r.agency_name, r.year,
                       r.media_type)
            for r in s.execute(select(Document.id, Document.url, Document.final_url, Document.parent_url,
                                      Document.parent_document_id, Document.agency_name, Document.year,
                                      Document.media_type)
                               .where(or_(Document.error_kind.is_(None), Document.error_kind != "fetch"))
                               .order_by(Document.id))}
    latest = {d.url: d.id for d in docs.values()}  # ascending ids: the newest version of a URL
    docs = {i: d for i, d in docs.items() if latest[d.url] == i}
    stats.documents = len(docs)
    stats.parents_resolved = _resolve_parents(s, docs)

    # document -> (normalized agency, display name, year)
    keys: dict[int, tuple[str, str, int]] = {}
    for doc in docs.values():
        agency, year = _effective(doc, docs)
        norm = normalize_agency(agency)
        if norm is None or year is None:
            stats.unlinked += 1
            continue
        keys[doc.id] = (norm, agency.strip(), year)
    stats.linked = len(keys)
    same = same_agency(n for n, _, _ in keys.values())
    displays = {n: d for n, d, _ in keys.values()}
    keys = {doc_id: (same[n], displays[same[n]], y) for doc_id, (n, _, y) in keys.items()}

    agency_ids = _ensure_agencies(s, keys)
    report_ids, stats.reports_created = _ensure_reports(s, {(agency_ids[n], y) for n, _, y in keys.values()})
    desired = {doc_id: report_ids[(agency_ids[n], y)] for doc_id, (n, _, y) in keys.items()}

    existing = dict(s.execute(select(ReportDocument.document_id, ReportDocument.report_id)).all())
    stale = [d for d, r in existing.items() if desired.get(d) != r]
    if stale:
        s.execute(delete(ReportDocument).where(ReportDocument.document_id.in_(stale)))
    fresh = [dict(document_id=d, report_id=r) for d, r in desired.items() if existing.get(d) != r]
    if fresh:
        s.execute(insert(ReportDocument), fresh)

    members: dict[int, list[int]] = defaultdict(list)
    for doc_id, report_id in sorted(desired.items()):
        members[report_id].append(doc_id)
    canonical = _choose_canonical(s, members, docs)
    _update_reports(s, canonical)
    stats.reports_removed = _remove_empty_reports(s, set(members))
    stats.reports = len(members)
    stats.multi_document_reports = sum(len(m) > 1 for m in members.values())
    stats.conflicts = _record_conflicts(s, members, canonical)
    return stats


def _resolve_parents(s: Session, docs: dict[int, _Doc]) -> int:
    by_url: dict[str, int] = {}
    for doc in docs.values():  # ascending ids: the latest version of a page wins
        by_url[doc.url] = doc.id
        if doc.final_url:
            by_url.setdefault(doc.final_url, doc.id)
    resolved = 0
    for doc in docs.values():
        if doc.parent_id is None and doc.parent_url and doc.parent_url in by_url:
            parent = by_url[doc.parent_url]
            if parent != doc.id:
                doc.parent_id = parent
                s.execute(update(Document).where(Document.id == doc.id).values(parent_document_id=parent))
                resolved += 1
    return resolved


def _effective(doc: _Doc, docs: dict[int, _Doc]) -> tuple[str | None, int | None]:
    agency, year = doc.agency, doc.year
    seen = {doc.id}
    parent_id = doc.parent_id
    while (agency is None or normalize_agency(agency) is None or year is None) and parent_id is not None \
            and parent_id not in seen and parent_id in docs:
        seen.add(parent_id)
        parent = docs[parent_id]
        if normalize_agency(agency) is None:
            agency = parent.agency
        if year is None:
            year = parent.year
        parent_id = parent.parent_id
    return agency, year


def _ensure_agencies(s: Session, keys: dict[int, tuple[str, str, int]]) -> dict[str, int]:
    ids = dict(s.execute(select(Agency.normalized_name, Agency.id)).all())
    names: dict[str, str] = {}
    for _, (norm, display, _) in sorted(keys.items()):
        names.setdefault(norm, display)
    missing = [dict(name=names[n], normalized_name=n) for n in sorted(names) if n not in ids]
    if missing:
        s.execute(insert(Agency), missing)
        ids = dict(s.execute(select(Agency.normalized_name, Agency.id)).all())
    return ids


def _ensure_reports(s: Session, wanted: set[tuple[int, int]]) -> tuple[dict[tuple[int, int], int], int]:
    ids = {(a, y): i for i, a, y in s.execute(select(Report.id, Report.agency_id, Report.year))}
    missing = [dict(agency_id=a, year=y) for a, y in sorted(wanted - set(ids))]
    if missing:
        s.execute(insert(Report), missing)
        ids = {(a, y): i for i, a, y in s.execute(select(Report.id, Report.agency_id, Report.year))}
    return ids, len(missing)


def _choose_canonical(s: Session, members: dict[int, list[int]], docs: dict[int, _Doc]) -> dict[int, int]:
    media = {d: docs[d].media_type for m in members.values() for d in m}
    return {report_id: ranked[0] for report_id, ranked in _rank(s, members, media).items()}


def _rank(s: Session, members: dict[int, list[int]], media: dict[int, str | None]) -> dict[int, list[int]]:
    cells = dict(s.execute(select(Cell.document_id, func.count()).where(Cell.value_text.is_not(None))
                           .group_by(Cell.document_id)).all())
    passed = dict(s.execute(select(CheckRow.document_id, func.count()).where(CheckRow.ok.is_(True))
                            .group_by(CheckRow.document_id)).all())
    return {report_id: sorted(doc_ids, key=lambda d: canonical_rank(cells.get(d, 0), passed.get(d, 0), media[d], d))
            for report_id, doc_ids in members.items()}


def ranked_documents(s: Session) -> dict[int, list[int]]:
    """Each linked report's documents, best first: its canonical document, then the others in
    canonical order (`canonical_rank`). The order in which `merged_cells` takes values."""
    members: dict[int, list[int]] = defaultdict(list)
    media: dict[int, str | None] = {}
    for report_id, doc_id, media_type in s.execute(
            select(ReportDocument.report_id, ReportDocument.document_id, Document.media_type)
            .join(Document, Document.id == ReportDocument.document_id).order_by(ReportDocument.document_id)):
        members[report_id].append(doc_id)
        media[doc_id] = media_type
    canonical = dict(s.execute(select(Report.id, Report.canonical_document_id)).all())
    ranked = _rank(s, members, media)
    for report_id, docs in ranked.items():
        first = canonical.get(report_id)
        if first in docs:
            docs.remove(first)
            docs.insert(0, first)
    return ranked


@dataclass(frozen=True)
class MergedCell:
    report_id: int
    table: str
    row_key: str
    column_key: str
    value_text: str | None
    raw_text: str | None
    semantic: str
    document_id: int  # the document the value was read from
    cell_id: int


def merged_cells(s: Session) -> list[MergedCell]:
    """A report's numbers: for each (table, row, column) the cell of its highest-ranked document
    (`ranked_documents`) with a non-null value; when no document has a value, the highest-ranked
    document's cell (unreadable). A table printed in one document and another table in a second
    (an HTML page with table 2, a picture with table 3) thus make one complete report."""
    rank = {doc_id: (report_id, i) for report_id, docs in ranked_documents(s).items() for i, doc_id in enumerate(docs)}
    best: dict[tuple[int, str, str, str], tuple[tuple[bool, int], MergedCell]] = {}
    for doc_id, t, r, c, v, raw, sem, cell_id in s.execute(
            select(Cell.document_id, Cell.table, Cell.row_key, Cell.column_key, Cell.value_text, Cell.raw_text,
                   Cell.semantic, Cell.id).join(ReportDocument, ReportDocument.document_id == Cell.document_id)):
        report_id, i = rank[doc_id]
        key, order = (report_id, t, r, c), (v is None, i)
        if key not in best or order < best[key][0]:
            best[key] = (order, MergedCell(report_id, t, r, c, v, raw, sem, doc_id, cell_id))
    return [cell for _, cell in best.values()]


def canonical_rank(non_null_cells: int, passed_checks: int, media_type: str | None, doc_id: int) -> tuple:
    """Sort key: the smallest is the canonical document."""
    return (-non_null_cells, -passed_checks, 0 if media_type == PDF else 1, doc_id)


def _update_reports(s: Session, canonical: dict[int, int]) -> None:
    templates = dict(s.execute(select(Document.id, Document.template)
                               .where(Document.id.in_(list(canonical.values())))).all()) if canonical else {}
    current = {i: (c, t) for i, c, t in s.execute(select(Report.id, Report.canonical_document_id, Report.template))}
    for report_id, doc_id in canonical.items():
        want = (doc_id, templates.get(doc_id))
        if current.get(report_id) != want:
            s.execute(update(Report).where(Report.id == report_id)
                      .values(canonical_document_id=want[0], template=want[1]))


def _remove_empty_reports(s: Session, keep: set[int]) -> int:
    stale = [i for i in s.scalars(select(Report.id)) if i not in keep]
    if stale:
        s.execute(delete(ReportConflict).where(ReportConflict.report_id.in_(stale)))
        s.execute(delete(Report).where(Report.id.in_(stale)))
    return len(stale)


def _same(a: str | None, b: str | None) -> bool:
    """Equal as printed or as numbers; an unknown (NULL) value disagrees with nothing."""
    if a == b or a is None or b is None:
        return True
    try:
        return a is not None and b is not None and float(a) == float(b)
    except ValueError:
        return False


def _record_conflicts(s: Session, members: dict[int, list[int]], canonical: dict[int, int]) -> int:
    multi = {r: m for r, m in members.items() if len(m) > 1}
    rows: list[dict[str, Any]] = []
    if multi:
        doc_ids = [d for m in multi.values() for d in m]
        values: dict[int, dict[tuple[str, str, str], str | None]] = defaultdict(dict)
        for chunk_start in range(0, len(doc_ids), 500):
            chunk = doc_ids[chunk_start:chunk_start + 500]
            for d, t, r, c, v in s.execute(select(Cell.document_id, Cell.table, Cell.row_key, Cell.column_key,
                                                  Cell.value_text).where(Cell.document_id.in_(chunk))):
                values[d][(t, r, c)] = v
        for report_id in sorted(multi):
            canon = values.get(canonical[report_id], {})
            for doc_id in multi[report_id]:
                if doc_id == canonical[report_id]:
                    continue
                for key in sorted(canon.keys() & values.get(doc_id, {}).keys()):
                    if not _same(canon[key], values[doc_id][key]):
                        rows.append(dict(report_id=report_id, document_id=doc_id, table=key[0], row_key=key[1],
                                         column_key=key[2], canonical_value=canon[key],
                                         other_value=values[doc_id][key]))
    existing = {(r, d, t, rk, ck, cv, ov) for r, d, t, rk, ck, cv, ov in s.execute(
        select(ReportConflict.report_id, ReportConflict.document_id, ReportConflict.table, ReportConflict.row_key,
               ReportConflict.column_key, ReportConflict.canonical_value, ReportConflict.other_value))}
    wanted = {tuple(r.values()) for r in rows}
    if existing != wanted:
        s.execute(delete(ReportConflict))
        if rows:
            s.execute(insert(ReportConflict), rows)
    return len(rows)
