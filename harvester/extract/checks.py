"""The template's arithmetic (勾稽关系) as ONE declarative definition.

Each rule of `RULES` is data: a name, the table it lives on, and two sides whose sums must be
equal — per row (a row's parts = its total) or per column (outcome rows = 总计; new + carried
over = processed + carried forward). `equations()` instantiates them on the rows a document has,
and the numbers the prose states (`narrative.py`) become equations with a constant side. The
same equations are

- evaluated on the printed numbers as checks (`run_checks`, `narrative_checks`): one `Check` per
  place a rule applies, skipped where a value it needs is null — nothing here changes a number;
- the constraints that choose among the readings of rows whose cells were glued together or lost
  their separators (`glued.solve`), all tables and the prose at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Collection, Mapping, Protocol, Sequence

from harvester.extract import labels as L
from harvester.extract.narrative import Statement
from harvester.extract.record import Check, Number, Value

#: Table 4 as one printed run: "review.upheld" … "litigation_after_review.total".
TABLE4_FLAT = tuple(f"{g}.{c}" for g in L.TABLE4_GROUPS for c in L.TABLE4_COLUMNS)

#: A cell address: (table, row key, column key).
Ref = tuple[str, str, str]


@dataclass(frozen=True)
class PerRow:
    """In every row of `table`: sum of `lhs` columns = sum of `rhs` columns (`where` = the row)."""

    name: str
    table: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]


@dataclass(frozen=True)
class PerColumn:
    """In every column of `table`: sum of `lhs` rows = sum of `rhs` rows (`where` = the column).
    A row of `lhs` that the document does not print is left out of the sum."""

    name: str
    table: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]


RULES: tuple[PerRow | PerColumn, ...] = (
    PerRow("table3.row_sum", "table3", L.TABLE3_COLUMNS[:-1], ("total",)),
    PerColumn("table3.column_sum", "table3", L.TABLE3_OUTCOMES, ("total_processed",)),
    PerColumn("table3.balance", "table3", ("new_received", "carried_over"), ("total_processed", "carried_forward")),
    PerRow("table4.row_sum", "table4", L.TABLE4_COLUMNS[:-1], ("total",)),
)


@dataclass(frozen=True)
class Equation:
    """sum(lhs cells) = sum(rhs cells) + constant, at one place."""

    rule: str
    where: str
    lhs: tuple[Ref, ...]
    rhs: tuple[Ref, ...] = ()
    constant: int | float | None = None  # a number the prose states (the right side)


def equations(shape: dict[str, dict[str, tuple[str, ...]]]) -> list[Equation]:
    """Every rule instantiated on `shape` (table -> row -> columns), in the order checks are reported:
    per table, the per-row rules on every row, then the per-column rules column by column."""
    key = tuple((t, tuple((row, tuple(cols)) for row, cols in rows.items())) for t, rows in shape.items() if rows)
    return list(_equations(key))


@lru_cache(maxsize=256)
def _equations(shape: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]) -> tuple[Equation, ...]:
    """`equations` on a hashable shape: most reports have one of a few shapes (a link checks
    thousands of reports a night)."""
    tables = {t: dict(rows) for t, rows in shape}
    out: list[Equation] = []
    for table in ("table2", "table3", "table4"):
        rows = tables.get(table)
        if not rows:
            continue
        mine = [r for r in RULES if r.table == table]
        for rule in mine:
            if isinstance(rule, PerRow):
                for row, cols in rows.items():
                    if set(rule.lhs) <= set(cols) and set(rule.rhs) <= set(cols):
                        out.append(Equation(rule.name, row, tuple((table, row, c) for c in rule.lhs),
                                            tuple((table, row, c) for c in rule.rhs)))
        columns = list(dict.fromkeys(c for cols in rows.values() for c in cols))
        per_col = [r for r in mine if isinstance(r, PerColumn)]
        for col in columns:
            for rule in per_col:
                if not all(r in rows for r in rule.rhs) or not any(r in rows for r in rule.lhs):
                    continue
                out.append(Equation(rule.name, col, tuple((table, r, col) for r in rule.lhs if r in rows),
                                    tuple((table, r, col) for r in rule.rhs)))
    return tuple(out)


def stated_rows(wanted: Sequence[str], rows: Collection[str]) -> list[str]:
    """The rows of `rows` a statement sums: `wanted` are its row keys (`Statement.rows`, or its other
    reading `alt_rows`), each a row key or every row of a group ("denied.*")."""
    out: list[str] = []
    for row in wanted:
        if row.endswith(".*"):
            out += [k for k in rows if k.startswith(row[:-1]) or k == row[:-2]]
        elif row in rows:
            out.append(row)
    return out


def stated_equations(stated: list[Statement], shape: dict[str, dict[str, tuple[str, ...]]]) -> list[Equation]:
    """The prose's numbers as equations (a phrase with two readings, 受理 N 件, does not constrain)."""
    out: list[Equation] = []
    for st in stated:
        rows = shape.get(st.table)
        if not rows or st.alt_rows:
            continue
        keys = stated_rows(st.rows, rows)
        if not keys or any(st.column not in rows[k] for k in keys):
            continue
        out.append(Equation(f"narrative.{st.rows[0].rstrip('.*')}", st.where,
                            tuple((st.table, k, st.column) for k in keys), (), st.value))
    return out


# ---------------------------------------------------------------- evaluation

#: A table's numbers: row -> column -> value.
TableValues = Mapping[str, Mapping[str, Value]]


class Tables(Protocol):
    """What the checks read of a record: its three tables (a `ReportRecord`, or a report's merged
    numbers in `harvester.link`)."""

    @property
    def table2(self) -> TableValues | None: ...
    @property
    def table3(self) -> TableValues | None: ...
    @property
    def table4(self) -> TableValues | None: ...


class _Unknown:
    """A printed cell whose value could not be read: an equation that needs it is skipped."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def sides(eq: Equation, value: Callable[[Ref], object]) -> tuple[Number, Number] | None:
    """(left, right) sums with `value(ref)` giving each cell (None or UNKNOWN: skip the equation)."""
    left: Number = 0
    for r in eq.lhs:
        x = value(r)
        if not isinstance(x, (int, float)):  # None (no value), UNKNOWN (unreadable), text: skip
            return None
        left += x
    right: Number = 0
    for r in eq.rhs:
        x = value(r)
        if not isinstance(x, (int, float)):
            return None
        right += x
    return left, right + (eq.constant or 0)


def _shape(record: Tables) -> dict[str, dict[str, tuple[str, ...]]]:
    return {t: {row: tuple(cols) for row, cols in (getattr(record, t) or {}).items()}
            for t in ("table2", "table3", "table4")}


def run_checks(record: Tables) -> list[Check]:
    """Every template rule on the numbers as printed."""
    out: list[Check] = []
    for eq in equations(_shape(record)):
        got = sides(eq, lambda r: getattr(record, r[0])[r[1]][r[2]])
        if got is not None:
            left, right = got
            out.append(Check(rule=eq.rule, where=eq.where, expected=left, found=right, ok=_equal(left, right)))
    return out


def _equal(a: Number, b: Number) -> bool:
    return abs(a - b) < 1e-6 if isinstance(a, float) or isinstance(b, float) else a == b


def narrative_checks(record: Tables, stated: list[Statement]) -> list[Check]:
    """Each number the prose states, compared with the table (skipped where the table has no value).
    A phrase naming several categories (予以公开及部分公开N件) is compared with their sum."""
    out: list[Check] = []
    for st in stated:
        table: TableValues | None = getattr(record, st.table)
        if not table:
            continue
        found = _stated_sum(st.rows, st.column, table)
        if found is None:
            continue
        ok = st.value == found
        if not ok and st.alt_rows:  # 受理 N 件 may count carried-over requests too
            alt = _stated_sum(st.alt_rows, st.column, table)
            if alt == st.value:
                found, ok = alt, True
                st = Statement(st.table, st.alt_rows, st.column, st.value, st.phrase)
        out.append(Check(rule=f"narrative.{st.rows[0].rstrip('.*')}", where=st.where,
                         expected=st.value, found=found, ok=ok))
    return out


def _stated_sum(wanted: Sequence[str], column: str, table: TableValues) -> Number | None:
    values = [table[r].get(column) for r in stated_rows(wanted, table)]
    numbers = [v for v in values if isinstance(v, (int, float))]
    return None if not values or len(numbers) != len(values) else sum(numbers)
