"""Plain-text reports: the shapes of text copied out of published reports.

Three shapes, recognised from the text itself:
- tab-indented: one cell per line (`\\t26`), rows separated by blank lines, a
  line without a leading tab continuing the cell above (a label broken over
  two lines); a line holding only `\\t` is an empty cell;
- tab-separated: one row per line, cells split on tabs (empty cells kept);
- no tabs at all: one cell per line with nothing marking where rows end; the
  whole text becomes one stream (`rows_reliable=False`).
"""
from __future__ import annotations

import re

from harvester.errors import EmptyDocument
from harvester.extract.decode import decode_text
from harvester.extract.layout import Cell, Layout

_INDENTED_CELL = re.compile(r"^[ \u3000]*\t")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def parse_text(data: bytes) -> Layout:
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise EmptyDocument("the document has no text")
    lines = text.split("\n")
    tab_lines = [ln for ln in lines if "\t" in ln]
    if not tab_lines:
        cells = [Cell(ln.strip()) for ln in lines if ln.strip()]
        return Layout(text=text, rows=[cells], rows_reliable=False)
    indented = sum(1 for ln in tab_lines if _INDENTED_CELL.match(ln) and ln.count("\t") == 1)
    rows = _tab_indented(lines) if indented >= 0.6 * len(tab_lines) else _tab_separated(lines)
    return Layout(text=text, rows=rows)


def _join(a: str, b: str) -> str:
    """Rejoin a cell broken over lines: no space between CJK characters."""
    if a and b and _CJK.match(a[-1]) and _CJK.match(b[0]):
        return a + b
    return f"{a} {b}".strip()


def _tab_indented(lines: list[str]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    block: list[str] = []
    for line in lines + [""]:
        if line.strip(" \u3000") == "" and "\t" not in line:
            if block:
                rows.extend(_indented_block(block))
            block = []
        else:
            block.append(line)
    return rows


def _indented_block(block: list[str]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    cells: list[str] = []
    for line in block:
        if _INDENTED_CELL.match(line):
            cells.extend(part.strip(" \u3000") for part in line.split("\t", 1)[1].split("\t"))
        elif cells:
            cells[-1] = _join(cells[-1], line.strip(" \u3000"))
        else:
            rows.append([Cell(line.strip(" \u3000"))])
    if cells:
        rows.append([Cell(c) for c in cells])
    return rows


def _tab_separated(lines: list[str]) -> list[list[Cell]]:
    return [[Cell(part.strip(" \u3000")) for part in line.split("\t")] for line in lines if line.strip()]
