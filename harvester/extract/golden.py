"""Comparing an extraction with a hand-checked golden, cell by cell (used by tests and bench/accuracy.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from harvester.extract.record import ReportRecord

TABLES = ("table2", "table3", "table4")
#: A table as JSON: row -> column -> value.
Table = dict[str, dict[str, object]]


@dataclass
class Score:
    cells: int = 0  # cells in the golden
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # non-null and different (or a value where the golden is null)
    null: list[str] = field(default_factory=list)  # null where the golden has a value

    def add(self, other: "Score") -> None:
        self.cells += other.cells
        self.right += other.right
        self.wrong += other.wrong
        self.null += other.null

    @property
    def accuracy(self) -> float:
        return self.right / self.cells if self.cells else 1.0


def expected(golden: Mapping[str, Any], override: Mapping[str, Mapping[str, object]] | None = None
             ) -> dict[str, Table | None]:
    """The golden's tables, with the cells an `override` ("table2.fees" -> column -> value) sets."""
    out: dict[str, Table | None] = {t: {r: dict(c) for r, c in (golden[t] or {}).items()}
                                    if golden[t] is not None else None for t in TABLES}
    for where, row in (override or {}).items():
        table, key = where.split(".", 1)
        rows = out[table]
        if rows is None:
            raise ValueError(f"override {where!r}: the golden has no {table}")
        rows[key] = {col: row.get(col) for col in rows[key]}
    return out


def score(got: Mapping[str, Any], want: Mapping[str, Table | None]) -> Score:
    s = Score()
    for t in TABLES:
        rows = want[t]
        if rows is None:
            if got.get(t) is not None:
                s.wrong.append(f"{t}: present but the golden has none")
            continue
        for row, cols in rows.items():
            for col, value in cols.items():
                s.cells += 1
                name = f"{t}.{row}.{col}"
                have = ((got.get(t) or {}).get(row) or {}).get(col)
                if have is None and value is None or have == value and have is not None:
                    s.right += 1
                elif have is None:
                    s.null.append(name)
                else:
                    s.wrong.append(f"{name}: {have!r} != {value!r}")
    return s


def unexplained_nulls(record: ReportRecord, want: Mapping[str, Table | None], s: Score) -> list[str]:
    """Null cells (the extractor's, and the golden's own) on a row no failed check names."""
    explained = {(c.rule.split(".")[0], c.where) for c in record.checks if not c.ok}
    golden_nulls = [f"{t}.{row}.{col}" for t in TABLES for row, cols in (want[t] or {}).items()
                    for col, v in cols.items() if v is None]
    out = []
    for name in s.null + golden_nulls:
        table, row = name.split(".")[0], name.split(".", 1)[1].rsplit(".", 1)[0]
        if (table, row) not in explained and (table, "table4") not in explained:
            out.append(name)
    return out


def sources(manifest: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Per golden, the first manifest file that is text or a page (what the perturbation harness mutates)."""
    out: dict[str, str] = {}
    for entry in manifest:
        if entry["path"].endswith((".txt", ".html")) and not entry["path"].startswith("derived_flat/"):
            out.setdefault(entry["golden"], entry["path"])
    return out
