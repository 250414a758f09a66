"""The template's arithmetic (勾稽关系), evaluated on the numbers as printed.

Each rule yields one `Check` per place it applies; a rule is skipped where a
value it needs is null. Nothing here ever changes a number.
"""
from __future__ import annotations

from harvester.extract import labels as L
from harvester.extract.record import Check

_PARTS = L.TABLE3_COLUMNS[:-1]


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
