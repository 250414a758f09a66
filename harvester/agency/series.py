"""Series checks: one agency's reports across years (``checks.scope = 'series'``, ``agency_id`` set).

Rules as data (`SERIES_RULES`); each compares a report's merged numbers with the previous
year's report of the same agency, and is only evaluated when both years' numbers are printed
(a blank is never taken for zero):

* ``series.carried_over`` — table 3, every applicant column: carried_forward of year N−1
  (结转下年度继续办理) = carried_over of year N (上年结转政府信息公开申请数量).
* ``series.in_force`` — table 2, 规章 and 行政规范性文件 (2021 template, both years):
  in_force(N) = in_force(N−1) + issued(N) − repealed(N).
* ``series.gap`` — a year between an agency's first and last report with no report.

``where`` names the years (``2022→2023 table3 total``); expected / found are the numbers as text.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from harvester.agency.store import chunks, insert_ignore
from harvester.db.models import Cell, CheckRow, Report

Values = dict[tuple[str, str, str], float]  # (table, row, column) -> merged number


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class SeriesRule:
    rule: str
    table: str
    rows: tuple[str, ...]  # the rows the rule reads (for the cell query)
    templates: tuple[str, ...] | None  # both years must be one of these; None: any
    #: (previous year's values, this year's values) -> [(what, expected, found)], pairs with a blank skipped
    compare: Callable[[Values, Values], list[tuple[str, float, float]]]


def _carried(prev: Values, cur: Values) -> list[tuple[str, float, float]]:
    out = []
    for (t, r, c), forward in sorted(prev.items()):
        if (t, r) == ("table3", "carried_forward") and ("table3", "carried_over", c) in cur:
            out.append((c, forward, cur[("table3", "carried_over", c)]))
    return out


def _in_force(prev: Values, cur: Values) -> list[tuple[str, float, float]]:
    out = []
    for row in ("regulations", "normative_docs"):
        keys = [("table2", row, "in_force"), ("table2", row, "issued"), ("table2", row, "repealed")]
        if keys[0] in prev and all(k in cur for k in keys):
            out.append((row, prev[keys[0]] + cur[keys[1]] - cur[keys[2]], cur[keys[0]]))
    return out


SERIES_RULES: tuple[SeriesRule, ...] = (
    SeriesRule("series.carried_over", "table3", ("carried_forward", "carried_over"), None, _carried),
    SeriesRule("series.in_force", "table2", ("regulations", "normative_docs"), ("2021",), _in_force),
)
GAP_RULE = "series.gap"


def _values(s: Session, report_ids: list[int]) -> dict[int, Values]:
    from harvester.link import iter_merged_cells

    wanted = or_(*(and_(Cell.table == r.table, Cell.row_key.in_(r.rows)) for r in SERIES_RULES))
    out: dict[int, Values] = defaultdict(dict)
    for cell in iter_merged_cells(s, report_ids, wanted):
        if cell.value is not None and cell.semantic in ("number", "zero"):
            out[cell.report_id][(cell.table, cell.row_key, cell.column_key)] = cell.value
    return out


def series_checks(years: dict[int, tuple[int, str | None]], values: dict[int, Values]) -> list[dict[str, Any]]:
    """Check rows for one agency: `years` maps year -> (report id, template)."""
    rows: list[dict[str, Any]] = []
    ordered = sorted(years)
    for year in range(ordered[0] + 1, ordered[-1]) if ordered else ():
        if year not in years:
            rows.append(dict(rule=GAP_RULE, where=str(year), expected="report", found="none", ok=False))
    for year in ordered:
        if year - 1 not in years:
            continue
        (prev_id, prev_t), (cur_id, cur_t) = years[year - 1], years[year]
        for rule in SERIES_RULES:
            if rule.templates is not None and not (prev_t in rule.templates and cur_t in rule.templates):
                continue
            for what, expected, found in rule.compare(values.get(prev_id, {}), values.get(cur_id, {})):
                rows.append(dict(rule=rule.rule, where=f"{year - 1}→{year} {rule.table} {what}",
                                 expected=_fmt(expected), found=_fmt(found), ok=abs(expected - found) < 1e-9))
    return rows


def refresh_series(s: Session, agency_ids: set[int]) -> tuple[int, int]:
    """Recompute the series checks of `agency_ids`; returns (checks written, failed)."""
    written = failed = 0
    for batch in chunks(sorted(agency_ids), 100):
        s.execute(delete(CheckRow).where(CheckRow.scope == "series", CheckRow.agency_id.in_(batch)))
        series: dict[int, dict[int, tuple[int, str | None]]] = defaultdict(dict)
        for report_id, agency_id, year, template in s.execute(
                select(Report.id, Report.agency_id, Report.year, Report.template).where(Report.agency_id.in_(batch))):
            series[agency_id][year] = (report_id, template)
        values = _values(s, sorted(r for ys in series.values() for r, _ in ys.values()))
        rows = [dict(scope="series", agency_id=a, document_id=None, report_id=None, **row)
                for a in sorted(series) for row in series_checks(series[a], values)]
        insert_ignore(s, CheckRow, rows)
        written += len(rows)
        failed += sum(not r["ok"] for r in rows)
    return written, failed
