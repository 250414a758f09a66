"""CSV export of linked reports.

Files (UTF-8, or UTF-8 with BOM for Excel), column names are the spec's keys
(`shared/spec/report-tables.md`), rows in a deterministic order:

* ``reports.csv``: one row per report: its canonical document's URL, its checks (those of
  every document its numbers come from) and ``value_documents``, those documents' ids.
* ``cells.csv``: every cell of every report, long form, merged over the report's documents
  (`harvester.link.merged_cells`: each cell from the highest-ranked document that has a
  value for it, canonical first); ``document_id`` and ``source_url`` say where it was read.
* ``table2.csv``, ``table3.csv``, ``table4.csv``: one row per report and row key,
  one column per column key of the table (union of both templates for table 2), merged too.
* ``codebook.csv``: every row and column key with the templates that print it and its printed label.

Values are written exactly as extracted (``value_text``); an unknown value is empty.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harvester.db.models import Agency, CheckRow, Document, Report, ReportDocument
from harvester.link import MergedCell, merged_cells

if TYPE_CHECKING:
    from harvester.store import Store

from harvester.extract import labels as L

TABLE2_ROWS = list(L.TABLE2["2019"])  # the 2019 template has every table-2 row, in printed order
TABLE2_COLUMNS = list(L.COLUMN_LABELS["table2"])
TABLE3_ROWS = [*L.TABLE3_ROWS["2021"][:-2], "other", *L.TABLE3_ROWS["2021"][-2:]]
TABLE3_COLUMNS = list(L.TABLE3_COLUMNS)
TABLE4_ROWS = list(L.TABLE4_GROUPS)
TABLE4_COLUMNS = list(L.TABLE4_COLUMNS)

TABLES = {"table2": (TABLE2_ROWS, TABLE2_COLUMNS), "table3": (TABLE3_ROWS, TABLE3_COLUMNS),
          "table4": (TABLE4_ROWS, TABLE4_COLUMNS)}

REPORTS_HEADER = ["report_id", "agency", "year", "template", "source_url", "documents", "checks_ok",
                  "failed_checks", "value_documents"]
CELLS_HEADER = ["report_id", "agency", "year", "table", "row", "column", "value", "raw_text", "semantic",
                "document_id", "source_url"]
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


def value_documents(cells: Iterable[MergedCell]) -> dict[int, set[int]]:
    """report id -> the documents its merged numbers come from."""
    out: dict[int, set[int]] = {}
    for c in cells:
        if c.value_text is not None:
            out.setdefault(c.report_id, set()).add(c.document_id)
    return out


def report_checks(s: Session, sources: dict[int, set[int]], canonical: dict[int, int | None]) -> dict[int, list[bool]]:
    """report id -> results of the checks of the documents its numbers come from (its
    canonical document's when no document has a value)."""
    docs = {rid: sources.get(rid) or ({canon} if canon is not None else set()) for rid, canon in canonical.items()}
    by_doc: dict[int, list[bool]] = {}
    wanted = {d for ds in docs.values() for d in ds}
    for doc_id, ok in s.execute(select(CheckRow.document_id, CheckRow.ok)
                                .join(ReportDocument, ReportDocument.document_id == CheckRow.document_id)
                                .order_by(CheckRow.id)):
        if doc_id in wanted:
            by_doc.setdefault(doc_id, []).append(bool(ok))
    return {rid: [ok for d in sorted(ds) for ok in by_doc.get(d, [])] for rid, ds in docs.items()}


def _export(s: Session, out: Path, bom: bool) -> ExportResult:
    out.mkdir(parents=True, exist_ok=True)
    encoding = "utf-8-sig" if bom else "utf-8"
    reports = s.execute(
        select(Report.id, Agency.name, Report.year, Report.template, Document.url, Report.canonical_document_id)
        .join(Agency, Agency.id == Report.agency_id)
        .outerjoin(Document, Document.id == Report.canonical_document_id)
        .order_by(Agency.normalized_name, Report.year, Report.id)).all()
    n_docs = dict(s.execute(select(ReportDocument.report_id, func.count()).group_by(ReportDocument.report_id)).all())
    merged = merged_cells(s)
    sources = value_documents(merged)
    checks = report_checks(s, sources, {rid: canon for rid, *_rest, canon in reports})
    urls = dict(s.execute(select(Document.id, Document.url)
                          .where(Document.id.in_(sorted({c.document_id for c in merged})))).all())

    files: dict[str, int] = {}
    rows = []
    for rid, agency, year, template, url, _canonical in reports:
        oks = checks.get(rid, [])
        rows.append([rid, agency, year, template or "", url or "", n_docs.get(rid, 0),
                     "" if not oks else ("true" if all(oks) else "false"), sum(not ok for ok in oks),
                     ";".join(str(d) for d in sorted(sources.get(rid, ())))])
    files["reports.csv"] = _write(out / "reports.csv", encoding, REPORTS_HEADER, rows)

    meta = {rid: (agency, year, template or "") for rid, agency, year, template, _, _ in reports}
    order = {rid: i for i, (rid, *_rest) in enumerate(reports)}

    def cell_key(c: MergedCell) -> tuple:
        rows_, cols = TABLES.get(c.table, ([], []))
        return (order[c.report_id], c.table, _order(rows_, c.row_key), _order(cols, c.column_key), c.cell_id)

    cells = sorted((c for c in merged if c.report_id in order), key=cell_key)
    files["cells.csv"] = _write(out / "cells.csv", encoding, CELLS_HEADER, (
        [c.report_id, meta[c.report_id][0], meta[c.report_id][1], c.table, c.row_key, c.column_key,
         _blank(c.value_text), _blank(c.raw_text), c.semantic, c.document_id, urls.get(c.document_id, "")]
        for c in cells))

    for table, (row_keys, col_keys) in TABLES.items():
        wide: dict[tuple[int, str], dict[str, str]] = {}
        for c in cells:
            if c.table == table:
                wide.setdefault((c.report_id, c.row_key), {})[c.column_key] = _blank(c.value_text)
        extra = sorted({c for vals in wide.values() for c in vals} - set(col_keys))
        header = WIDE_PREFIX + col_keys + extra
        ordered = sorted(wide, key=lambda k: (order[k[0]], _order(row_keys, k[1])))
        files[f"{table}.csv"] = _write(out / f"{table}.csv", encoding, header, (
            [rid, *meta[rid], r] + [wide[(rid, r)].get(c, "") for c in col_keys + extra] for rid, r in ordered))
    files["codebook.csv"] = _write(out / "codebook.csv", encoding, CODEBOOK_HEADER, codebook())
    return ExportResult(out, files)


CODEBOOK_HEADER = ["table", "kind", "key", "templates", "label"]


def codebook() -> list[list[str]]:
    """Every row and column key of the exports with the templates that print it and its printed label."""
    out: list[list[str]] = []
    for key in TABLE2_ROWS:
        tpls = [t for t in ("2019", "2021") if key in L.TABLE2[t]]
        out.append(["table2", "row", key, " ".join(tpls), L.TABLE2[tpls[0]][key][0][0]])
    for key in TABLE2_COLUMNS:
        tpls = [t for t in ("2019", "2021") if any(key in cols for _, cols in L.TABLE2[t].values())]
        out.append(["table2", "column", key, " ".join(tpls), L.COLUMN_LABELS["table2"][key]])
    for key in TABLE3_ROWS:
        # the undivided （六）其他处理 row is the 2019 template's, and some 2021-template reports keep it
        tpls = ["2019", "2021"] if key == "other" else [t for t in ("2019", "2021") if key in L.TABLE3_ROWS[t]]
        if key in L.TABLE3_TOP:
            label = L.TABLE3_TOP[key][0]
        elif key in L.TABLE3_GROUPS:
            label = f"{L.TABLE3_GROUPS[key]}（一行）"
        else:
            label = f"{L.TABLE3_GROUPS[key.split('.')[0]]}·{L.TABLE3_ITEMS[key][0]}"
        out.append(["table3", "row", key, " ".join(tpls), label])
    out += [["table3", "column", k, "2019 2021", L.COLUMN_LABELS["table3"][k]] for k in TABLE3_COLUMNS]
    out += [["table4", "row", k, "2019 2021", L.TABLE4_GROUP_LABELS[k]] for k in TABLE4_ROWS]
    out += [["table4", "column", k, "2019 2021", L.COLUMN_LABELS["table4"][k]] for k in TABLE4_COLUMNS]
    return out


def _blank(value: str | None) -> str:
    return "" if value is None else value


def _write(path: Path, encoding: str, header: list[str], rows: Iterable[list]) -> int:
    n = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            n += 1
    return n
