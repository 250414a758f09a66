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
from harvester.extract import labels as L
from harvester.extract.labels import UNITS
from harvester.extract.layout import Cell, Layout

_INDENTED_CELL = re.compile(r"^[ \u3000]*\t")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def parse_text(data: bytes) -> Layout:
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise EmptyDocument("the document has no text")
    lines = text.split("\n")
    if sum(1 for ln in lines if _MD_ROW.match(ln)) >= 3:
        return Layout(text=text, rows=_markdown(lines))
    tab_lines = [ln for ln in lines if "\t" in ln]
    if not tab_lines:
        glued = len(_GLUED_ROW.findall(text)) >= 2
        cells = [Cell(tok) for ln in lines if ln.strip()
                 for tok in (split_glued(ln.strip()) if glued else split_spaced(ln.strip()))]
        return Layout(text=text, rows=[cells], rows_reliable=False)
    indented = sum(1 for ln in tab_lines if _INDENTED_CELL.match(ln) and ln.count("\t") == 1)
    rows = _tab_indented(lines) if indented >= 0.6 * len(tab_lines) else _tab_separated(lines)
    return Layout(text=text, rows=rows)


#: A table row label immediately followed by digits: the line is table text whose cells were glued.
_GLUED_ROW = re.compile("(?:" + "|".join(re.escape(label) for label in sorted(L.VALUE_LABELS, key=len, reverse=True))
                        + r")[)）]?-?\d++(?![件条项个次人篇年月日%.．、\d])")  # not a count in prose, not numbering
#: Digit runs (with stray spaces, thousands commas and minus signs) that are cell values.
#: A decimal point counts only with a digit after it ("3817.254三、…"); before a label it numbers it ("2．其他").
_DIGITS = re.compile(r"-?\d[\d\s,，\-]*(?:[.．]\d+)?")
#: A row's numbering glued after the values of the row above ("…0000000" + "2．其他…").
_NUMBERING_AFTER = re.compile(r"\d[.．、]$")
#: Where a new row label starts inside glued label text.
_LABEL_START = re.compile(r"(?=(?<!第)[一二三四五六七八九十]、)|(?=(?<!第)[（(][一二三四五六七八九十][)）])"
                          r"|(?=(?<![\d第（(])\d[.．、][\u4e00-\u9fff])")
_ASCII_NUMBERS = str.maketrans("０１２３４５６７８９－，．", "0123456789-,.")
#: Units that stay with the amount they follow in glued text (a count's 件 is prose: "受理5件").
_AMOUNT_UNITS = ("万元", "元")
_NOT_VALUE_AFTER = "年月日号时期届次项条件个人名篇%"


#: A text line holding a row: a label, then two or more numbers (or blank marks) separated by spaces.
#: One value token of a spaced row: a number (thousands separators, decimals, a unit such as 件 or
#: 万元, full-width digits) or a blank mark.
_TOKEN = (r"(?:-?\d[\d,，]*(?:[.．]\d+)?(?:" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
          + r")?|[/／—\-])")
#: A text line holding a row: a label, then one or more values separated by spaces.
_SPACED_ROW = re.compile(rf"^(?P<label>.*?[^\d\s,.\-—/])\s+(?P<values>(?:{_TOKEN}\s+)*{_TOKEN})$")
#: A text line of numbers only (three or more), e.g. table 4's fifteen values.
_SPACED_VALUES = re.compile(rf"^(?:{_TOKEN}\s+){{2,}}{_TOKEN}$")


def split_spaced(line: str) -> list[str]:
    """A table row printed as one text line ("规章 0 0 0", as PDF text and pdftotext dumps give it)
    → label and value tokens; any other line is returned whole."""
    if _SPACED_VALUES.match(line):
        return line.split()
    m = _SPACED_ROW.match(line)
    if not m or m.group("label").rstrip().endswith(("第", "（", "(", "：", ":")):
        return [line]
    return [m.group("label").strip(), *m.group("values").split()]


def split_glued(line: str) -> list[str]:
    """Cut a line of glued table text ("规章000行政规范性文件016…") into label and value tokens."""
    line = line.translate(_ASCII_NUMBERS)  # full-width digits and signs read as the numbers they are
    tokens: list[str] = []
    pos = 0
    for m in _DIGITS.finditer(line):
        start = m.start()
        run = m.group().rstrip(" ,，-")
        end = start + len(run)
        unit = next((u for u in _AMOUNT_UNITS if line.startswith(u, end)), "")
        if unit:  # an amount keeps its unit: "75.3万元"
            run, end = run + unit, end + len(unit)
        after = line[end:end + 1]
        before = line[start - 1:start] if start else ""
        if before in ("第", "（", "("):
            continue  # 第5项, （1）: part of the label
        if after and after in ".．、":  # the last digit numbers the next label: "…0000000" + "2．"
            run, end = run[:-1], end - 1
            if not run.strip():
                continue
        elif after and after in _NOT_VALUE_AFTER:
            continue  # a date or a count in prose: part of the label
        tokens.extend(_labels(line[pos:start]))
        tokens.append(run)
        pos = end
    tokens.extend(_labels(line[pos:]))
    return tokens


#: A run of one blank mark repeated at the end of a label: the row's empty cells glued to it
#: ("7.属于行政执法案卷———————", "8.属于行政查询事项无无无无无无无").
_BLANK_RUN = re.compile(r"(?P<mark>[/／—－\-无])(?P=mark){2,}$")


def _labels(chunk: str) -> list[str]:
    out: list[str] = []
    for part in _LABEL_START.split(chunk):
        part = part.strip()
        m = _BLANK_RUN.search(part)
        if m and m.start() > 0:
            out += [part[:m.start()], *m.group()]
        elif part:
            out.append(part)
    return out


_MD_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s*")


def _markdown(lines: list[str]) -> list[list[Cell]]:
    """Markdown: `| a | b |` rows split on the pipes (rule lines dropped), other lines one cell each."""
    rows: list[list[Cell]] = []
    for line in lines:
        if not line.strip() or _MD_RULE.match(line):
            continue
        if _MD_ROW.match(line):
            rows.append([Cell(part.strip()) for part in line.strip().strip("|").split("|")])
        else:
            rows.append([Cell(_MD_HEADING.sub("", line).strip())])
    return rows


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
