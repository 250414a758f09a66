"""From a `Layout` (rows of cells) to the three tables of the template.

One pass over the rows, alternating *label runs* (cells that are not values)
and *value runs* (numbers and blank marks). A value run is assigned to the key
its preceding labels match, in the context of the current row group
（三）不予公开 / （四）无法提供 / … which persists across rows and pages. When a
run has more or fewer cells than the template's columns (merged cells, a
lost leading empty cell), every way of trimming empty end cells or padding
blanks is tried; if they disagree on any number the row is null and a check
records why — we never guess. A row whose numbers arrived glued into one digit
string is decoded by `glued.py` under the template's arithmetic (`checks.py`)
and the numbers the prose states (`narrative.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from harvester.errors import NotAReport
from harvester.extract import labels as L
from harvester.extract.cells import Reading, nfkc, norm_label, read_value
from harvester.extract.checks import (TABLE4_FLAT, UNKNOWN, narrative_checks, run_checks, stated_constraints,
                                      table3_constraints)
from harvester.extract.glued import Constraint, glued_text, readings, solve
from harvester.extract.layout import Cell, Layout
from harvester.extract.level import agency_level
from harvester.extract.match import best_match
from harvester.extract.metadata import read_metadata
from harvester.extract.narrative import Statement, statements
from harvester.extract.record import CellValue, Check, ReportRecord

_BLANK = Cell("")
_T2_LABELS: dict[str, tuple[str, ...]] = {}
for _tpl in L.TABLE2.values():
    for _key, (_labels, _cols) in _tpl.items():
        _T2_LABELS[_key] = tuple(dict.fromkeys(_T2_LABELS.get(_key, ()) + _labels))
_GROUP_LABELS = {g: (label,) for g, label in L.TABLE3_GROUPS.items()}
_T4_ANCHORS = tuple(norm_label(a) for a in L.TABLE4_ANCHORS)
_MARKERS = {tpl: tuple(norm_label(m) for m in markers) for tpl, markers in L.TEMPLATE_MARKERS.items()}
_T4_WIDTH = len(L.TABLE4_GROUPS) * len(L.TABLE4_COLUMNS)
#: Words naming a table-4 group in a header (most specific first).
_T4_GROUP_MARKERS = (("复议后起诉", "litigation_after_review"), ("未经复议", "litigation_direct"),
                     ("直接起诉", "litigation_direct"), ("行政复议", "review"))


@dataclass
class _Scan:
    """What one pass over the rows found, before the template is settled."""

    t2: dict[str, list[Cell]] = field(default_factory=dict)
    t3: dict[str, list[Cell]] = field(default_factory=dict)
    t4: list[Cell] | None = None
    markers: dict[str, int] = field(default_factory=lambda: {t: 0 for t in L.TEMPLATES})
    group: str | None = None
    t4_armed: bool = False
    t4_group: str | None = None  # the table-4 group a header last named (for groups printed apart)
    t4_groups: dict[str, list[Cell]] = field(default_factory=dict)


def interpret(layout: Layout, record: ReportRecord) -> None:
    """Fill `record` (metadata, tables, blank cells, checks) from `layout`."""
    meta = read_metadata(layout.text)
    record.title, record.agency, record.year = meta.title, meta.agency, meta.year
    record.publication_date = meta.publication_date
    record.agency_level = agency_level(meta.agency)
    record.text = layout.text
    record.pages = layout.pages

    scan = _Scan()
    for row in layout.rows:
        for labels, values in _runs(row):
            _consume(scan, labels, values)

    template = _template(scan, meta)
    record.report_kind = _kind(template, meta)
    if record.report_kind is None:
        raise NotAReport("no report title and no standard tables found")
    if template is None:
        return
    record.template = template
    notes: list[Check] = []
    cells: list[CellValue] = []
    stated = statements(layout.text, template)
    if scan.t2:
        record.table2 = _build_table2(scan, template, cells, notes, stated)
    if len(scan.t3) >= 3:
        record.table3 = _build_table3(scan, template, cells, notes, stated)
    if scan.t4 is not None:
        record.table4 = _build_table4(scan.t4, cells, notes, stated)
    elif scan.t4_groups:
        record.table4 = {g: _fill("table4", g, L.TABLE4_COLUMNS, scan.t4_groups.get(g), cells, notes)
                         for g in L.TABLE4_GROUPS}
    record.cells = cells + _undetermined(record, cells)
    record.blank_cells = [f"{c.table}.{c.row}.{c.column}" for c in cells if c.semantic == "blank"]
    record.checks = notes + run_checks(record.table3, record.table4) + narrative_checks(record, stated)


def _undetermined(record: ReportRecord, cells: list[CellValue]) -> list[CellValue]:
    """A null cell for every template cell that could not be determined, so the long form is complete."""
    have = {(c.table, c.row, c.column) for c in cells}
    out = []
    for table in ("table2", "table3", "table4"):
        for row, cols in (getattr(record, table) or {}).items():
            for col, value in cols.items():
                if value is None and (table, row, col) not in have:
                    out.append(CellValue(table, row, col, None, None, "unreadable"))
    return out


# ---------------------------------------------------------------- scanning

def _runs(row: list[Cell]) -> list[tuple[list[Cell], list[Cell]]]:
    """Split a row into (label run, following value run) pairs."""
    out: list[tuple[list[Cell], list[Cell]]] = []
    labels: list[Cell] = []
    values: list[Cell] = []
    for cell in row:
        if cell.unreadable or read_value(cell.text) is not None or glued_text(cell.text):
            values.append(cell)
        else:
            if values:
                out.append((labels, values))
                labels, values = [], []
            labels.append(cell)
    out.append((labels, values))
    return out


def _consume(scan: _Scan, labels: list[Cell], values: list[Cell]) -> None:
    for cell in labels:
        n = norm_label(cell.text)
        for tpl, markers in _MARKERS.items():
            scan.markers[tpl] += any(m in n for m in markers)
        if scan.t4 is None and (n.startswith(_T4_ANCHORS) and len(n) <= 12 or ("行政复议" in n and "结果维持" in n)):
            scan.t4_armed = True  # a cell 行政复议, or (glued text) the whole header run
        group, score = best_match(cell.text, _GROUP_LABELS)
        if group and score >= 0.99:
            scan.group = group
        if scan.t4_armed:
            scan.t4_group = next((g for marker, g in _T4_GROUP_MARKERS if marker in n), scan.t4_group)
    if not values or not labels and not scan.t4_armed:
        return
    if scan.t4_armed and scan.t4 is None:
        if len(values) >= _T4_WIDTH - 5 or _glued(values, _T4_WIDTH):
            scan.t4 = values
            scan.t4_armed = False
        elif scan.t4_group and 3 <= len(values) <= len(L.TABLE4_COLUMNS) + 2:
            _keep(scan.t4_groups, scan.t4_group, values)  # one group printed as its own table
        return
    if not labels:
        return
    key = _match_t3(labels, scan.group)
    if key is not None:
        scan.group = key.split(".")[0] if "." in key else None
        if len(values) >= len(L.TABLE3_COLUMNS) - 2 or _glued(values, len(L.TABLE3_COLUMNS)):
            _keep(scan.t3, key, values)
        return
    key = _match_t2(labels[-1].text)
    if key is not None:
        _keep(scan.t2, key, values)


def _match_t2(text: str) -> str | None:
    """A table-2 row label: the whole cell, or (glued text) the end of a longer label run."""
    n = norm_label(text)
    if len(n) <= 12:
        return best_match(text, _T2_LABELS)[0]
    ends = [(len(label), key) for key, labels in _T2_LABELS.items() for label in labels if n.endswith(label)]
    return max(ends)[1] if ends else None


def _keep(found: dict[str, list[Cell]], key: str, values: list[Cell]) -> None:
    """First printing of a row wins, except that an all-blank run (a header cell such as 总计
    followed by the empty cells of a merged header) gives way to a later run with numbers."""
    old = found.get(key)
    if old is None or (_all_blank(old) and not _all_blank(values)):
        found[key] = values


def _all_blank(values: list[Cell]) -> bool:
    return all(_read(c, "", "", None).semantic == "blank" for c in values)


def _match_t3(labels: list[Cell], group: str | None) -> str | None:
    """The table-3 row key printed by the end of this label run, in the context of `group`."""
    last = labels[-1].text
    if group == "other" and best_match(last, {"other": _GROUP_LABELS["other"]})[1] >= 0.99:
        return "other"  # （六）其他处理 printed as one undivided row
    # Item labels are distinct across groups, so they match even when the group cell was not seen
    # (OCR places a tall merged group cell in its middle row); only 3.其他 needs its group.
    allowed: dict[str, tuple[str, ...]] = dict(L.TABLE3_TOP)
    allowed.update({k: v for k, v in L.TABLE3_ITEMS.items() if k != "other.other" or group == "other"})
    best_key, best = None, 0.0
    for take in (1, 2, 3):
        if take > len(labels):
            break
        text = "".join(c.text for c in labels[-take:])
        key, score = best_match(text, allowed)
        if key is not None and score > best + 1e-9:
            best_key, best = key, score
    return best_key


def _kind(template: str | None, meta) -> str | None:
    if template is not None:
        return "standard"
    if meta.title is None:
        return None
    return "pre2019_prose" if meta.year is not None and meta.year <= 2018 else "no_tables"


def _template(scan: _Scan, meta) -> str | None:
    if not (scan.t2 or len(scan.t3) >= 3 or scan.t4 is not None or scan.t4_groups):
        return None
    if scan.markers["2021"] != scan.markers["2019"]:
        return max(scan.markers, key=scan.markers.get)
    if any(k.startswith("other.") for k in scan.t3):
        return "2021"
    if "other" in scan.t3:
        return "2019"
    if meta.template_hint:
        return meta.template_hint
    if meta.year is not None:
        return "2021" if meta.year >= 2021 else "2019"
    return "2021"


# ---------------------------------------------------------------- alignment

def _align(values: list[Cell], columns: tuple[str, ...], table: str, row: str,
           notes: list[Check]) -> list[tuple[Reading, Cell] | None]:
    """(reading, cell) for `columns` from a run of value cells; all None if the run is ambiguous."""
    n = len(columns)
    k = len(values) - n
    candidates: list[list[Cell]] = []
    if k >= 0:
        for lead in range(k + 1):
            trail = k - lead
            cut = values[lead:len(values) - trail]
            dropped = values[:lead] + values[len(values) - trail:]
            if all(_read(c, table, row, None).semantic == "blank" for c in dropped):
                candidates.append(cut)
    elif -k <= 2:
        for lead in range(-k + 1):
            candidates.append([_BLANK] * lead + values + [_BLANK] * (-k - lead))
    readings = [[(_read(c, table, row, col), c) for c, col in zip(cand, columns)] for cand in candidates]
    numbers = [[r.value for r, _ in rs] for rs in readings]
    if not readings or any(ns != numbers[0] for ns in numbers):
        notes.append(Check(rule=f"{table}.alignment", where=row, expected=n, found=len(values), ok=False))
        return [None] * n
    # Equal numbers, different blanks: prefer the reading that puts printed cells on total columns
    # (reports that print only the totals), else the first (trailing empties trimmed, or padded at the end).
    return max(readings, key=lambda rs: sum(1 for (r, _), col in zip(rs, columns)
                                            if col.rsplit(".", 1)[-1] == "total" and r.semantic != "blank"))


def _cell_value(table: str, row: str, column: str, reading: Reading, cell: Cell) -> CellValue:
    return CellValue(table, row, column, reading.value, reading.raw, reading.semantic,
                     cell.page, cell.bbox, cell.confidence)


def _read(cell: Cell, table: str, row: str, column: str | None) -> Reading:
    if cell.unreadable:
        return Reading(None, "unreadable", cell.text)
    as_string = (row, column) in L.STRING_COLUMNS
    decimals = (row, column) in L.DECIMAL_COLUMNS or as_string
    reading = read_value(cell.text, as_string=as_string, decimals=decimals)
    return reading if reading is not None else Reading(None, "unreadable", cell.text)


def _fill(table: str, row: str, columns: tuple[str, ...], values: list[Cell] | None,
          cells: list[CellValue], notes: list[Check]) -> dict[str, object]:
    """One row's values by column key; a row not printed at all is null throughout."""
    if values is None:
        return {col: None for col in columns}
    out: dict[str, object] = {}
    for col, pair in zip(columns, _align(values, columns, table, row, notes)):
        out[col] = None if pair is None else pair[0].value
        if pair is not None:
            cells.append(_cell_value(table, row, col, *pair))
    return out


def _glued(values: list[Cell] | None, n: int) -> str | None:
    """The digit string when a row's values arrived glued into one cell."""
    if n < 2 or not values or len(values) != 1 or values[0].unreadable:
        return None
    text = glued_text(nfkc(values[0].text))
    return text if text and len(text.lstrip("-")) >= 2 else None


def _build_rows(table: str, spec: dict[str, tuple[str, ...]], found: dict[str, list[Cell]],
                cells: list[CellValue], notes: list[Check], group: int | None,
                constraints: list[Constraint]) -> dict[str, dict[str, object]]:
    """Rows of one table: printed cells read as printed; glued digit strings decoded by the
    readings that satisfy `accept` (the row's own arithmetic) and `constraints` (across rows)."""
    out: dict[str, dict[str, object]] = {}
    glued: dict[str, str] = {}
    for key, columns in spec.items():
        text = _glued(found.get(key), len(columns))
        if text:
            glued[key] = text
        else:
            out[key] = _fill(table, key, columns, found.get(key), cells, notes)
    if not glued:
        return out
    options = {key: readings(text, len(spec[key]), group, _signed(spec[key])) for key, text in glued.items()}
    fixed = {key: tuple(UNKNOWN if v is None else v for v in out[key].values()) for key in out}
    survivors = solve({**{k: [v] for k, v in fixed.items()}, **options}, constraints)
    for key, text in glued.items():
        columns, source = spec[key], found[key][0]
        kept = survivors.get(key, [])
        if not kept:
            notes.append(Check(rule=f"{table}.glued", where=key, expected=len(columns), found=text, ok=False))
            out[key] = {col: None for col in columns}
            continue
        if len(set(kept)) > 1:
            notes.append(Check(rule=f"{table}.glued_ambiguous", where=key, expected=1, found=len(set(kept)), ok=False))
        row: dict[str, object] = {}
        for i, col in enumerate(columns):
            seen = {r[i] for r in kept}
            numbers = {0 if v is None else v for v in seen}
            if len(numbers) != 1:
                row[col] = None
                continue
            value = numbers.pop()
            semantic = "blank" if seen == {None} else ("zero" if value == 0 else "number")
            row[col] = value
            cells.append(CellValue(table, key, col, value, text, semantic, source.page, source.bbox, source.confidence))
        out[key] = row
    return {key: out[key] for key in spec}


def _signed(columns: tuple[str, ...]) -> frozenset[int]:
    """Only a column that may be negative (本年增/减) takes a value glued after a minus sign."""
    return frozenset(i for i, col in enumerate(columns) if col.rsplit(".", 1)[-1] in L.SIGNED_COLUMNS)


def _build_table2(scan: _Scan, template: str, cells: list[CellValue], notes: list[Check],
                  stated: list[Statement]) -> dict:
    spec = {key: cols for key, (_labels, cols) in L.TABLE2[template].items()}
    return _build_rows("table2", spec, scan.t2, cells, notes, None, stated_constraints("table2", spec, stated))


def _build_table3(scan: _Scan, template: str, cells: list[CellValue], notes: list[Check],
                  stated: list[Statement]) -> dict:
    rows = list(L.TABLE3_ROWS[template])
    if template == "2021" and "other" in scan.t3 and not any(k.startswith("other.") for k in scan.t3):
        i = rows.index("other.no_correction")
        rows[i:i + 3] = ["other"]
    spec = {key: L.TABLE3_COLUMNS for key in rows}
    constraints = table3_constraints(rows) + stated_constraints("table3", spec, stated)
    return _build_rows("table3", spec, scan.t3, cells, notes, len(L.TABLE3_COLUMNS), constraints)


def _build_table4(values: list[Cell], cells: list[CellValue], notes: list[Check],
                  stated: list[Statement]) -> dict:
    """Table 4 is read as one run of fifteen numbers in printed order (three groups of five)."""
    spec = {"table4": TABLE4_FLAT}
    mine: list[CellValue] = []
    flat = _build_rows("table4", spec, {"table4": values}, mine, notes, len(L.TABLE4_COLUMNS),
                       stated_constraints("table4", spec, stated))["table4"]
    for c in mine:  # "table4" / "review.total" → "review" / "total"
        group, col = c.column.split(".")
        cells.append(replace(c, row=group, column=col))
    out: dict[str, dict[str, object]] = {g: {} for g in L.TABLE4_GROUPS}
    for name, value in flat.items():
        group, col = name.split(".")
        out[group][col] = value
    return out
