"""From a `Layout` (rows of cells) to the three tables of the template.

One pass over the rows, alternating *label runs* (cells that are not values)
and *value runs* (numbers and blank marks). A value run is assigned to the key
its preceding labels match, in the context of the current row group
（三）不予公开 / （四）无法提供 / … which persists across rows and pages. When a
run has more or fewer cells than the template's columns (merged cells, a
lost leading empty cell), every way of trimming empty end cells or padding
blanks is tried; if they disagree on any number the row is null and a check
records why — we never guess.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from harvester.extract import labels as L
from harvester.extract.cells import Reading, norm_label, read_value
from harvester.extract.checks import run_checks
from harvester.extract.layout import Cell, Layout
from harvester.extract.level import agency_level
from harvester.extract.match import best_match
from harvester.extract.metadata import read_metadata
from harvester.extract.record import CellValue, Check, ReportRecord

_BLANK = Cell("")
_T2_LABELS: dict[str, tuple[str, ...]] = {}
for _tpl in L.TABLE2.values():
    for _key, (_labels, _cols) in _tpl.items():
        _T2_LABELS[_key] = tuple(dict.fromkeys(_T2_LABELS.get(_key, ()) + _labels))
_GROUP_LABELS = {g: (label,) for g, label in L.TABLE3_GROUPS.items()}
_T4_ANCHORS = {norm_label(a) for a in L.TABLE4_ANCHORS}
_T4_WIDTH = len(L.TABLE4_GROUPS) * len(L.TABLE4_COLUMNS)


@dataclass
class _Scan:
    """What one pass over the rows found, before the template is settled."""

    t2: dict[str, list[Cell]] = field(default_factory=dict)
    t3: dict[str, list[Cell]] = field(default_factory=dict)
    t4: list[Cell] | None = None
    markers: dict[str, int] = field(default_factory=lambda: {t: 0 for t in L.TEMPLATES})
    group: str | None = None
    t4_armed: bool = False


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
    if template is None:
        return
    record.template = template
    notes: list[Check] = []
    cells: list[CellValue] = []
    if scan.t2:
        record.table2 = _build_table2(scan, template, cells, notes)
    if len(scan.t3) >= 3:
        record.table3 = _build_table3(scan, template, cells, notes)
    if scan.t4 is not None:
        record.table4 = _build_table4(scan.t4, cells, notes)
    record.cells = cells
    record.blank_cells = [f"{c.table}.{c.row}.{c.column}" for c in cells if c.semantic == "blank"]
    record.checks = notes + run_checks(record.table3, record.table4)


# ---------------------------------------------------------------- scanning

def _runs(row: list[Cell]) -> list[tuple[list[Cell], list[Cell]]]:
    """Split a row into (label run, following value run) pairs."""
    out: list[tuple[list[Cell], list[Cell]]] = []
    labels: list[Cell] = []
    values: list[Cell] = []
    for cell in row:
        if cell.unreadable or read_value(cell.text) is not None:
            values.append(cell)
        else:
            if values or labels:
                if values:
                    out.append((labels, values))
                    labels, values = [], []
            labels.append(cell)
    out.append((labels, values))
    return out


def _consume(scan: _Scan, labels: list[Cell], values: list[Cell]) -> None:
    for cell in labels:
        n = norm_label(cell.text)
        for tpl, markers in L.TEMPLATE_MARKERS.items():
            scan.markers[tpl] += any(norm_label(m) in n for m in markers)
        if n in _T4_ANCHORS and scan.t4 is None:
            scan.t4_armed = True
        group, score = best_match(cell.text, _GROUP_LABELS)
        if group and score >= 0.99:
            scan.group = group
    if not values or not labels and not scan.t4_armed:
        return
    if scan.t4_armed and scan.t4 is None:
        if len(values) >= _T4_WIDTH - 5:
            scan.t4 = values
            scan.t4_armed = False
        return
    if not labels:
        return
    key = _match_t3(labels, scan.group)
    if key is not None:
        scan.group = key.split(".")[0] if "." in key else None
        if len(values) >= len(L.TABLE3_COLUMNS) - 2:
            _keep(scan.t3, key, values)
        return
    key, _ = best_match(labels[-1].text, _T2_LABELS)
    if key is not None and len(norm_label(labels[-1].text)) <= 12:
        _keep(scan.t2, key, values)


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


def _template(scan: _Scan, meta) -> str | None:
    if not (scan.t2 or len(scan.t3) >= 3 or scan.t4 is not None):
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
                                            if col == "total" and r.semantic != "blank"))


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


def _build_table2(scan: _Scan, template: str, cells: list[CellValue], notes: list[Check]) -> dict:
    return {key: _fill("table2", key, cols, scan.t2.get(key), cells, notes)
            for key, (_labels, cols) in L.TABLE2[template].items()}


def _build_table3(scan: _Scan, template: str, cells: list[CellValue], notes: list[Check]) -> dict:
    rows = list(L.TABLE3_ROWS[template])
    if template == "2021" and "other" in scan.t3 and not any(k.startswith("other.") for k in scan.t3):
        i = rows.index("other.no_correction")
        rows[i:i + 3] = ["other"]
    return {key: _fill("table3", key, L.TABLE3_COLUMNS, scan.t3.get(key), cells, notes) for key in rows}


def _build_table4(values: list[Cell], cells: list[CellValue], notes: list[Check]) -> dict:
    """Table 4 is read as one run of fifteen numbers in printed order (three groups of five)."""
    columns = tuple(f"{g}.{c}" for g in L.TABLE4_GROUPS for c in L.TABLE4_COLUMNS)
    pairs = _align(values, L.TABLE4_COLUMNS * len(L.TABLE4_GROUPS), "table4", "table4", notes)
    out: dict[str, dict[str, object]] = {g: {} for g in L.TABLE4_GROUPS}
    for name, pair in zip(columns, pairs):
        group, col = name.split(".")
        out[group][col] = None if pair is None else pair[0].value
        if pair is not None:
            cells.append(_cell_value("table4", group, col, *pair))
    return out
