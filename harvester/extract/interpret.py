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
from harvester.extract.cells import Reading, nfkc, norm_label, read_value, split_unit
from harvester.extract.checks import (TABLE4_FLAT, UNKNOWN, Ref, equations, narrative_checks, run_checks,
                                      stated_equations)
from harvester.extract.glued import Option, glued_text, placements, readings, solve
from harvester.extract.layout import Cell, Layout
from harvester.extract.level import agency_level
from harvester.extract.match import best_match, similarity
from harvester.extract.metadata import Metadata, read_metadata
from harvester.extract.narrative import Statement, statements
from harvester.extract.record import CellValue, Check, ReportRecord, Semantic, Value

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
    t3_last: str | None = None  # the last table-3 row read (the template's order says what comes next)
    t3_unmatched: list[str] = field(default_factory=list)  # printed labels of table-3 rows no key fits



#: Every layout check this module emits, as ``<table>.<name>`` (the checks glossary derives from it).
LAYOUT_RULES = ("alignment", "glued", "glued_ambiguous", "row_missing", "unmatched_label")

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
    _tables(scan, template, stated, record, cells, notes)
    notes += [Check(rule="table3.unmatched_label", where=label, expected=None, found=None, ok=False)
              for label in scan.t3_unmatched]
    record.cells = cells + _undetermined(record, cells)
    record.blank_cells = [f"{c.table}.{c.row}.{c.column}" for c in cells if c.semantic == "blank"]
    record.checks = notes + run_checks(record) + narrative_checks(record, stated)


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
    # 3.其他 belongs to （六）其他处理: also when a text layer emitted it after the group was left
    other_open = scan.group == "other" or (_in_table3(scan) and "other.other" not in scan.t3
                                            and any(k in scan.t3 for k in ("other.no_correction", "other.no_fee")))
    key, score = _match_t3(labels, "other" if other_open else scan.group,
                           _expected_next(scan) if _in_table3(scan) else ())
    if key is not None:
        scan.group = key.split(".")[0] if "." in key else None
        if len(values) >= len(L.TABLE3_COLUMNS) - 2 or _glued(values, len(L.TABLE3_COLUMNS)) or score >= 0.99:
            _keep(scan.t3, key, values)
            scan.t3_last = key
        return
    if _in_table3(scan) and not _all_blank(values) and (
            len(values) >= len(L.TABLE3_COLUMNS) - 2 or _glued(values, len(L.TABLE3_COLUMNS))):
        scan.t3_unmatched.append("".join(c.text for c in labels[-2:]))  # a table-3 row no template label fits
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


#: Table 3's rows in printed order over both templates (2019's undivided 其他处理 after 不予处理).
_T3_ORDER = tuple(dict.fromkeys(L.TABLE3_ROWS["2021"][:L.TABLE3_ROWS["2021"].index("other.no_correction")]
                                + ("other",) + L.TABLE3_ROWS["2021"][L.TABLE3_ROWS["2021"].index("other.no_correction"):]))
#: Similarity at which the row the template expects next is taken for a damaged label.
ORDER_THRESHOLD = 0.5


def _in_table3(scan: _Scan) -> bool:
    return bool(scan.t3) and not scan.t4_armed and scan.t4 is None


def _expected_next(scan: _Scan) -> tuple[str, ...]:
    """The next two rows the template prints after the last table-3 row read, not yet seen."""
    start = _T3_ORDER.index(scan.t3_last) + 1 if scan.t3_last in _T3_ORDER else 0
    nxt = [k for k in _T3_ORDER[start:] if k not in scan.t3]
    return tuple(nxt[:3] if nxt and nxt[0] == "other" else nxt[:2])  # 其他处理: undivided or its first item


def _label_of(key: str) -> tuple[str, ...]:
    return L.TABLE3_TOP.get(key) or L.TABLE3_ITEMS.get(key) or _GROUP_LABELS[key]


def _match_t3(labels: list[Cell], group: str | None, expected: tuple[str, ...] = ()) -> tuple[str | None, float]:
    """The table-3 row key printed by the end of this label run, in the context of `group`.

    A label with characters dropped or swapped is matched by similarity; where the match is not
    exact, the row the template prints next (`expected`) wins over a slightly better-scoring other
    row, and is taken at a lower similarity (`ORDER_THRESHOLD`) when nothing else fits."""
    last = labels[-1].text
    if group == "other" and best_match(last, {"other": _GROUP_LABELS["other"]})[1] >= 0.99:
        return "other", 1.0  # （六）其他处理 printed as one undivided row
    # Item labels are distinct across groups, so they match even when the group cell was not seen
    # (OCR places a tall merged group cell in its middle row); only 3.其他 needs its group.
    allowed: dict[str, tuple[str, ...]] = dict(L.TABLE3_TOP)
    allowed.update({k: v for k, v in L.TABLE3_ITEMS.items() if k != "other.other" or group == "other"})
    best_key, best = None, 0.0
    texts = ["".join(c.text for c in labels[-take:]) for take in (1, 2, 3) if take <= len(labels)]
    for take, text in enumerate(texts, 1):
        key, score = best_match(text, allowed)
        if take > 1 and key is not None:
            # a label broken over cells: the last cell must be part of it, not a different row's label
            # printed after an earlier one ("7.属于行政执法案卷" + "1、本机关不掌握…")
            before = "".join(c.text for c in labels[-take:-1])
            if max(similarity(before, label) for label in allowed[key]) >= score - 1e-9:
                continue
        if key is not None and score > best + 1e-9:
            best_key, best = key, score
    if best >= 0.99 or not expected:
        return best_key, best
    order_key, order = None, 0.0
    for key in expected:
        for text in texts:
            score = max(similarity(text, label) for label in _label_of(key))
            if score > order:
                order_key, order = key, score
    if order_key is not None and order >= max(ORDER_THRESHOLD, best - 0.1):
        return order_key, order
    return best_key, best


def _kind(template: str | None, meta: Metadata) -> str | None:
    if template is not None:
        return "standard"
    if meta.title is None:
        return None
    return "pre2019_prose" if meta.year is not None and meta.year <= 2018 else "no_tables"


def _template(scan: _Scan, meta: Metadata) -> str | None:
    if not (scan.t2 or len(scan.t3) >= 3 or scan.t4 is not None or scan.t4_groups):
        return None
    if scan.markers["2021"] != scan.markers["2019"]:
        return max(scan.markers, key=scan.markers.__getitem__)
    if any(k.startswith("other.") for k in scan.t3):
        return "2021"
    if "other" in scan.t3:
        return "2019"
    if meta.template_hint:
        return meta.template_hint
    if meta.year is not None:
        return "2021" if meta.year >= 2021 else "2019"
    return "2021"


# ---------------------------------------------------------------- readings of rows

@dataclass(frozen=True)
class _Slot:
    """One column of one reading of a row: what it holds and where that came from."""

    value: Value  # 0 for a blank cell; None when unreadable
    semantic: Semantic
    raw: str
    cell: Cell | None

    @property
    def solved(self) -> object:
        """The value as the equations see it (None = blank = 0, UNKNOWN = unreadable)."""
        if self.semantic == "blank":
            return 0
        return UNKNOWN if self.semantic == "unreadable" else self.value


@dataclass
class _Row:
    """A printed template row and every reading of it that its printing admits."""

    table: str
    key: str
    columns: tuple[str, ...]
    kind: str  # "printed" (as many cells as columns) | "aligned" (more or fewer) | "glued"
    printed: int | str  # number of value cells, or the glued digit string
    readings: list[tuple[_Slot, ...]]

    def numbers(self, reading: tuple[_Slot, ...]) -> Option:
        return tuple(s.solved for s in reading)


_NO_CELL = _Slot(0, "blank", "", None)


def _read(cell: Cell, table: str, row: str, column: str | None) -> Reading:
    if cell.unreadable:
        return Reading(None, "unreadable", cell.text)
    as_string = (row, column) in L.STRING_COLUMNS
    decimals = (row, column) in L.DECIMAL_COLUMNS or as_string
    reading = read_value(cell.text, as_string=as_string, decimals=decimals)
    return reading if reading is not None else Reading(None, "unreadable", cell.text)


def _slot(cell: Cell, table: str, row: str, column: str) -> _Slot:
    r = _read(cell, table, row, column)
    return _Slot(r.value, r.semantic, r.raw, cell)


def _glued(values: list[Cell] | None, n: int) -> str | None:
    """The digit string when a row's values arrived glued into one cell."""
    if n < 2 or not values or len(values) != 1 or values[0].unreadable:
        return None
    text = glued_text(nfkc(values[0].text))
    return text if text and len(text.lstrip("-")) >= 2 else None


def _row(table: str, key: str, columns: tuple[str, ...], values: list[Cell], group: int | None) -> _Row:
    """Every reading of a printed row: its cells as printed; glued digits split every possible way;
    a run with more cells than columns trimmed of empty end cells; a run with fewer cells (empty
    cells that left no trace) placed in every possible order-keeping way."""
    n = len(columns)
    text = _glued(values, n)
    if text:
        signed = frozenset(i for i, col in enumerate(columns) if col.rsplit(".", 1)[-1] in L.SIGNED_COLUMNS)
        source = values[0]
        found = [tuple(_Slot(0, "blank", text, source) if v is None else
                       _Slot(v, "zero" if v == 0 else "number", text, source) for v in r)
                 for r in readings(text, n, group, signed)]
        return _Row(table, key, columns, "glued", text, found)
    k = len(values) - n
    if k == 0:
        return _Row(table, key, columns, "printed", len(values),
                    [tuple(_slot(c, table, key, col) for c, col in zip(values, columns))])
    found = []
    if k > 0:
        for lead in range(k + 1):
            dropped = values[:lead] + values[len(values) - (k - lead):]
            if all(_read(c, table, key, None).semantic == "blank" for c in dropped):
                cut = values[lead:len(values) - (k - lead)]
                found.append(tuple(_slot(c, table, key, col) for c, col in zip(cut, columns)))
    else:
        for places in placements(len(values), n):
            at = dict(zip(places, values))
            found.append(tuple(_slot(at[i], table, key, col) if i in at else _NO_CELL
                               for i, col in enumerate(columns)))
    return _Row(table, key, columns, "aligned", len(values), found)


def _on_totals(reading: tuple[_Slot, ...], columns: tuple[str, ...]) -> int:
    """Printed cells on total columns: among readings with equal numbers, the one a report printing
    only its totals means."""
    return sum(1 for s, col in zip(reading, columns) if col.rsplit(".", 1)[-1] == "total" and s.cell is not None
               and s.semantic != "blank")


def _decide(rows: dict[tuple[str, str], _Row], shape: dict[str, dict[str, tuple[str, ...]]], stated: list[Statement],
            cells: list[CellValue], notes: list[Check]) -> dict[tuple[str, str], dict[str, Value]]:
    """All printed rows of all tables decided at once: the template's equations and the prose's
    numbers select among the rows' readings; a cell keeps a value only where every surviving
    whole-document reading agrees on it, else it is null and a check on its row says how many
    readings remained."""
    eqs = equations(shape) + stated_equations(stated, shape)

    def locate(ref: Ref) -> tuple[tuple[str, str], int] | None:
        table, row, col = ref
        r = rows.get((table, row))
        if r is not None and col in r.columns:
            return (table, row), r.columns.index(col)
        flat = rows.get(("table4", "table4"))
        if table == "table4" and flat is not None:
            return ("table4", "table4"), flat.columns.index(f"{row}.{col}")
        return None

    options = {k: [r.numbers(x) for x in r.readings] for k, r in rows.items()}
    survivors, _settled = solve(options, eqs, locate, strict=frozenset(k for k, r in rows.items() if r.kind != "printed"))
    out: dict[tuple[str, str], dict[str, Value]] = {}
    for k, r in rows.items():
        kept = set(survivors.get(k, []))
        if not kept:
            rule = "glued" if r.kind == "glued" else "alignment"
            notes.append(Check(rule=f"{r.table}.{rule}", where=r.key, expected=len(r.columns), found=r.printed,
                               ok=False))
            out[k] = {col: None for col in r.columns}
            continue
        if len(kept) > 1:
            if r.kind == "glued":
                notes.append(Check(rule=f"{r.table}.glued_ambiguous", where=r.key, expected=1, found=len(kept),
                                   ok=False))
            else:
                notes.append(Check(rule=f"{r.table}.alignment", where=r.key, expected=len(r.columns),
                                   found=r.printed, ok=False))
        fitting = [x for x in r.readings if r.numbers(x) in kept]
        best = max(fitting, key=lambda x: _on_totals(x, r.columns))
        row: dict[str, Value] = {}
        for i, col in enumerate(r.columns):
            agreed = {x[i].solved for x in fitting}
            if len(agreed) != 1 or best[i].semantic == "unreadable":
                row[col] = None
                if best[i].semantic == "unreadable" and len(agreed) == 1:
                    slot = best[i]
                    cells.append(_cell_value(r.table, r.key, col, slot))
                continue
            slot = best[i]
            row[col] = slot.value
            cells.append(_cell_value(r.table, r.key, col, slot))
        out[k] = row
    return out


def _cell_value(table: str, row: str, column: str, slot: _Slot) -> CellValue:
    cell = slot.cell or _BLANK
    number, unit = split_unit(slot.value, slot.raw)
    return CellValue(table, row, column, slot.value, slot.raw, slot.semantic, cell.page, cell.bbox,
                     cell.confidence, number=number, unit=unit)


def _tables(scan: _Scan, template: str, stated: list[Statement], record: ReportRecord,
            cells: list[CellValue], notes: list[Check]) -> None:
    """Table 2, 3 and 4 from the scanned rows, decided together."""
    shape: dict[str, dict[str, tuple[str, ...]]] = {}
    printed: dict[tuple[str, str], _Row] = {}
    group = {"table2": None, "table3": len(L.TABLE3_COLUMNS), "table4": len(L.TABLE4_COLUMNS)}
    found: dict[str, dict[str, list[Cell]]] = {}
    if scan.t2:
        shape["table2"] = {key: cols for key, (_labels, cols) in L.TABLE2[template].items()}
        found["table2"] = scan.t2
    if len(scan.t3) >= 3:
        rows = list(L.TABLE3_ROWS[template])
        if template == "2021" and "other" in scan.t3 and not any(k.startswith("other.") for k in scan.t3):
            i = rows.index("other.no_correction")
            rows[i:i + 3] = ["other"]
        shape["table3"] = {key: L.TABLE3_COLUMNS for key in rows}
        found["table3"] = scan.t3
    if scan.t4 is not None or scan.t4_groups:
        shape["table4"] = {g: L.TABLE4_COLUMNS for g in L.TABLE4_GROUPS}
        found["table4"] = {} if scan.t4 is not None else scan.t4_groups
    for table, spec in shape.items():
        for key, cols in spec.items():
            values = found[table].get(key)
            if values is not None:
                printed[(table, key)] = _row(table, key, cols, values, group[table])
    if scan.t4 is not None:
        printed[("table4", "table4")] = _row("table4", "table4", TABLE4_FLAT, scan.t4, group["table4"])
    decided = _decide(printed, shape, stated, cells, notes)
    for table, spec in shape.items():
        out: dict[str, dict[str, Value]] = {}
        for key, cols in spec.items():
            if (table, key) in decided:
                out[key] = decided[(table, key)]
            elif table == "table4" and ("table4", "table4") in decided:
                flat = decided[("table4", "table4")]
                out[key] = {c: flat[f"{key}.{c}"] for c in cols}
            else:
                out[key] = {c: None for c in cols}
                notes.append(Check(rule=f"{table}.row_missing", where=key, expected=_label(table, key), found=None,
                                   ok=False))
        setattr(record, table, out)
    for i, c in enumerate(cells):  # table 4 read as one run: "table4" / "review.total" → "review" / "total"
        if c.table == "table4" and c.row == "table4":
            group_key, col = c.column.split(".")
            cells[i] = replace(c, row=group_key, column=col)


def _label(table: str, key: str) -> str:
    """The template's printed label of a row (for checks naming it)."""
    if table == "table2":
        return next(labels[0] for tpl in L.TABLE2.values() for k, (labels, _c) in tpl.items() if k == key)
    if table == "table3":
        return (L.TABLE3_TOP.get(key) or L.TABLE3_ITEMS.get(key) or (L.TABLE3_GROUPS.get(key, key),))[0]
    return L.TABLE4_GROUP_LABELS.get(key, key)
