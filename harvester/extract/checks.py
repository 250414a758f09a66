"""The template's arithmetic (勾稽关系), evaluated on the numbers as printed.

Each rule yields one `Check` per place it applies; a rule is skipped where a
value it needs is null. Nothing here ever changes a number. The same rules,
as constraints, choose among the readings of glued digit strings (`glued.py`).
"""
from __future__ import annotations

from typing import Callable

from harvester.extract import labels as L
from harvester.extract.glued import Constraint
from harvester.extract.narrative import Statement
from harvester.extract.record import Check

_PARTS = L.TABLE3_COLUMNS[:-1]
#: Table 4 as one printed run: "review.upheld" … "litigation_after_review.total".
TABLE4_FLAT = tuple(f"{g}.{c}" for g in L.TABLE4_GROUPS for c in L.TABLE4_COLUMNS)


class _Unknown:
    """A printed cell whose value could not be read: constraints that need it are skipped."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class _Skip(Exception):
    pass


def _v(x) -> int | float:
    if x is UNKNOWN:
        raise _Skip
    return 0 if x is None else x


def _sum(values: list) -> int | float | None:
    return None if any(v is None for v in values) else sum(values)


def _check(out: list[Check], rule: str, where: str, expected, found) -> None:
    if expected is None or found is None:
        return
    out.append(Check(rule=rule, where=where, expected=expected, found=found, ok=expected == found))


def run_checks(table3: dict | None, table4: dict | None) -> list[Check]:
    out: list[Check] = []
    if table3:
        for row, cols in table3.items():
            _check(out, "table3.row_sum", row, _sum([cols[c] for c in _PARTS]), cols["total"])
        outcomes = [row for row in table3 if row in L.TABLE3_OUTCOMES]
        for col in L.TABLE3_COLUMNS:
            _check(out, "table3.column_sum", col,
                   _sum([table3[row][col] for row in outcomes]), table3["total_processed"][col])
            _check(out, "table3.balance", col,
                   _sum([table3["new_received"][col], table3["carried_over"][col]]),
                   _sum([table3["total_processed"][col], table3["carried_forward"][col]]))
    if table4:
        for group, cols in table4.items():
            _check(out, "table4.row_sum", group,
                   _sum([cols[c] for c in L.TABLE4_COLUMNS[:-1]]), cols["total"])
    return out


# ---- the same arithmetic as constraints on readings (glued digit strings) ----

def _holds(fn: Callable[[], bool]) -> bool:
    try:
        return fn()
    except (_Skip, KeyError):
        return True  # a value it needs is unknown or the row is not printed: nothing to say


def table3_constraints(rows: list[str]) -> list[Constraint]:
    outcomes = [r for r in rows if r in L.TABLE3_OUTCOMES]
    out: list[Constraint] = []
    for i in range(len(L.TABLE3_COLUMNS)):
        out.append(lambda ch, i=i: _holds(
            lambda: sum(_v(ch[r][i]) for r in outcomes if r in ch) == _v(ch["total_processed"][i])))
        out.append(lambda ch, i=i: _holds(
            lambda: _v(ch["new_received"][i]) + _v(ch["carried_over"][i])
            == _v(ch["total_processed"][i]) + _v(ch["carried_forward"][i])))
    return out


def _stated_rows(statement: Statement, spec: dict[str, tuple[str, ...]]) -> list[str]:
    rows: list[str] = []
    for row in statement.rows:
        if row.endswith(".*"):
            rows += [k for k in spec if k.startswith(row[:-1]) or k == row[:-2]]
        elif row in spec:
            rows.append(row)
    return rows


def stated_constraints(table: str, spec: dict[str, tuple[str, ...]], stated: list[Statement]) -> list[Constraint]:
    """Constraints from the prose: the stated number equals the cell (or the sum of a group's cells)."""
    out: list[Constraint] = []
    for st in stated:
        if st.table != table or st.alt_rows:
            continue  # a phrase with two readings does not constrain
        if table == "table4":
            idx = [TABLE4_FLAT.index(f"{g}.{st.column}") for g in st.rows]
            out.append(lambda ch, idx=idx, v=st.value: _holds(lambda: sum(_v(ch["table4"][i]) for i in idx) == v))
            continue
        rows = _stated_rows(st, spec)
        if not rows or st.column not in spec[rows[0]]:
            continue
        i = spec[rows[0]].index(st.column)
        out.append(lambda ch, rows=rows, i=i, v=st.value: _holds(
            lambda: sum(_v(ch[r][i]) for r in rows if r in ch) == v))
    return out


def _stated_sum(st: Statement, rows_: tuple[str, ...], table: dict) -> int | float | None:
    rows = _stated_rows(Statement(st.table, rows_, st.column, st.value, st.phrase), table)
    values = [table[r].get(st.column) for r in rows]
    return None if not values or any(v is None for v in values) else sum(values)


def narrative_checks(record, stated: list[Statement]) -> list[Check]:
    """Each number the prose states, compared with the table (skipped where the table has no value)."""
    out: list[Check] = []
    for st in stated:
        table = getattr(record, st.table)
        if not table:
            continue
        found = _stated_sum(st, st.rows, table)
        if found is None:
            continue
        ok = st.value == found
        if not ok and st.alt_rows:  # 受理 N 件 may count carried-over requests too
            alt = _stated_sum(st, st.alt_rows, table)
            if alt == st.value:
                found, ok = alt, True
                st = Statement(st.table, st.alt_rows, st.column, st.value, st.phrase)
        out.append(Check(rule=f"narrative.{st.rows[0].rstrip('.*')}", where=st.where,
                         expected=st.value, found=found, ok=ok))
    return out
