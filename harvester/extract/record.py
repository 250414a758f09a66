"""The report record: what extraction returns for one document.

`ReportRecord.to_json()` is the contract of `harvester extract --json`
(`docs/extract-json.md`); the extra fields (text, cells with raw text
and provenance, publication date) are what the database stores beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Number = int | float
Value = int | float | str | None
Semantic = Literal["number", "zero", "blank", "unreadable"]


@dataclass(frozen=True)
class Check:
    """One arithmetic rule evaluated on the printed numbers."""

    rule: str
    where: str
    expected: Value
    found: Value
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "where": self.where, "expected": self.expected,
                "found": self.found, "ok": self.ok}


@dataclass(frozen=True)
class CellValue:
    """One table cell in long form, with the text it was read from."""

    table: str  # "table2" | "table3" | "table4"
    row: str
    column: str
    value: Value
    raw: str | None
    semantic: Semantic
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    confidence: float | None = None
    #: The number a value holds and its printed unit, kept apart ("75.3万元" → 75.3, "万元").
    number: Number | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ExtractionError:
    kind: str  # e.g. "corrupt", "encrypted", "empty", "unsupported_format", "not_a_report"
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass
class ReportRecord:
    source: str
    sha256: str
    media_type: str
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    template: str | None = None
    table2: dict[str, dict[str, Value]] | None = None
    table3: dict[str, dict[str, Value]] | None = None
    table4: dict[str, dict[str, Value]] | None = None
    blank_cells: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: ExtractionError | None = None
    # Not part of the JSON contract; stored in the database.
    text: str = ""
    publication_date: str | None = None  # ISO date when the document prints one
    agency_level: str | None = None  # national / province / city / county / township, from the name
    #: "standard" (template tables found), "pre2019_prose" (a 2008–2018 report: free prose, no
    #: fixed tables), "no_tables" (a 2019+ report whose tables were not found), None (not a report)
    report_kind: str | None = None
    cells: list[CellValue] = field(default_factory=list)
    pages: int | None = None

    @property
    def checks_ok(self) -> bool | None:
        """True if every check passed, False if any failed, None if none ran."""
        if not self.checks:
            return None
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "media_type": self.media_type,
            "title": self.title,
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "table2": self.table2,
            "table3": self.table3,
            "table4": self.table4,
            "blank_cells": list(self.blank_cells),
            "checks": [c.to_json() for c in self.checks],
            "error": self.error.to_json() if self.error else None,
        }
