"""CSV export of linked reports.

Files (UTF-8, or UTF-8 with BOM for Excel), column names are the spec's keys
(`shared/spec/report-tables.md`), rows in a deterministic order:

* ``reports.csv``: one row per report (its numbers are its canonical document's).
* ``cells.csv``: every cell of every report's canonical document, long form.
* ``table2.csv``, ``table3.csv``, ``table4.csv``: one row per report and row key,
  one column per column key of the table (union of both templates for table 2).

Values are written exactly as extracted (``value_text``); an unknown value is empty.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harvester.db.models import Agency, Cell, CheckRow, Document, Report, ReportDocument

if TYPE_CHECKING:
    from harvester.store import Store

TABLE2_ROWS = ["regulations", "normative_docs", "licensing", "other_admin_services", "punishment", "coercion",
               "fees", "procurement"]
TABLE2_COLUMNS = ["issued", "repealed", "in_force", "new_made", "new_published", "total_published",
                  "prev_year_items", "change", "decisions", "amount_10k_yuan", "items", "total_amount"]
TABLE3_ROWS = ["new_received", "carried_over", "granted", "partially_granted",
               "denied.state_secret", "denied.prohibited_by_law", "denied.three_safeties_one_stability",
               "denied.third_party_rights", "denied.internal_affairs", "denied.process_info",
               "denied.enforcement_case", "denied.inquiry",
               "unable.not_held", "unable.needs_creation", "unable.unclear",
               "not_processed.complaint", "not_processed.repeat", "not_processed.publication",
               "not_processed.mass_repeat", "not_processed.confirmation",
               "other.no_correction", "other.no_fee", "other.other", "other",
               "total_processed", "carried_forward"]
TABLE3_COLUMNS = ["natural_person", "commercial", "research", "social_org", "legal_service", "other", "total"]
TABLE4_ROWS = ["review", "litigation_direct", "litigation_after_review"]
TABLE4_COLUMNS = ["upheld", "corrected", "other", "pending", "total"]

TABLES = {"table2": (TABLE2_ROWS, TABLE2_COLUMNS), "table3": (TABLE3_ROWS, TABLE3_COLUMNS),
          "table4": (TABLE4_ROWS, TABLE4_COLUMNS)}

REPORTS_HEADER = ["report_id", "agency", "year", "template", "source_url", "documents", "checks_ok",
                  "failed_checks"]
CELLS_HEADER = ["report_id", "agency", "year", "table", "row", "column", "value", "raw_text", "semantic"]
WIDE_PREFIX = ["report_id", "agency", "year", "template", "row"]


@dataclass
class ExportResult:
    out_dir: Path
    files: dict[str, int]  # file name -> data rows written


def _order(keys: list[str], key: str) -> tuple[int, str]:
    return (keys.index(key), "") if key in keys else (len(keys), key)


def export(target: "Store | Session", out_dir: str | Path, *, bom: bool = False) -> ExportResult:
    if isinstance(target, Session):
        return _export(target, Path(out_dir), bom)
    with target.session() as s:
        return _export(s, Path(out_dir), bom)


def _export(s: Session, out: Path, bom: bool) -> ExportResult:
    out.mkdir(parents=True, exist_ok=True)
    encoding = "utf-8-sig" if bom else "utf-8"
    reports = s.execute(
        select(Report.id, Agency.name, Report.year, Report.template, Document.url, Report.canonical_document_id)
        .join(Agency, Agency.id == Report.agency_id)
        .outerjoin(Document, Document.id == Report.canonical_document_id)
        .order_by(Agency.normalized_name, Report.year, Report.id)).all()
    n_docs = dict(s.execute(select(ReportDocument.report_id, func.count()).group_by(ReportDocument.report_id)).all())
    check_rows = s.execute(select(CheckRow.document_id, CheckRow.ok)
                           .join(Report, Report.canonical_document_id == CheckRow.document_id)).all()
    checks: dict[int, list[bool]] = {}
    for doc_id, ok in check_rows:
        checks.setdefault(doc_id, []).append(bool(ok))

    files: dict[str, int] = {}
    rows = []
    for rid, agency, year, template, url, canon in reports:
        oks = checks.get(canon, [])
        rows.append([rid, agency, year, template or "", url or "", n_docs.get(rid, 0),
                     "" if not oks else ("true" if all(oks) else "false"), sum(not ok for ok in oks)])
    files["reports.csv"] = _write(out / "reports.csv", encoding, REPORTS_HEADER, rows)

    meta = {rid: (agency, year, template or "") for rid, agency, year, template, _, _ in reports}
    order = {rid: i for i, (rid, *_rest) in enumerate(reports)}
    cells = s.execute(select(Report.id, Cell.table, Cell.row_key, Cell.column_key, Cell.value_text, Cell.raw_text,
                             Cell.semantic, Cell.id)
                      .join(Cell, Cell.document_id == Report.canonical_document_id)).all()

    def cell_key(c) -> tuple:
        rows_, cols = TABLES.get(c[1], ([], []))
        return (order[c[0]], c[1], _order(rows_, c[2]), _order(cols, c[3]), c[7])

    cells = sorted(cells, key=cell_key)
    files["cells.csv"] = _write(out / "cells.csv", encoding, CELLS_HEADER, (
        [rid, meta[rid][0], meta[rid][1], t, r, c, v if v is not None else "", raw if raw is not None else "", sem]
        for rid, t, r, c, v, raw, sem, _ in cells))

    for table, (row_keys, col_keys) in TABLES.items():
        wide: dict[tuple[int, str], dict[str, str]] = {}
        for rid, t, r, c, v, *_ in cells:
            if t == table:
                wide.setdefault((rid, r), {})[c] = v if v is not None else ""
        extra = sorted({c for vals in wide.values() for c in vals} - set(col_keys))
        header = WIDE_PREFIX + col_keys + extra
        ordered = sorted(wide, key=lambda k: (order[k[0]], _order(row_keys, k[1])))
        files[f"{table}.csv"] = _write(out / f"{table}.csv", encoding, header, (
            [rid, *meta[rid], r] + [wide[(rid, r)].get(c, "") for c in col_keys + extra] for rid, r in ordered))
    return ExportResult(out, files)


def _write(path: Path, encoding: str, header: list[str], rows: Iterable[list]) -> int:
    n = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            n += 1
    return n
