"""OFD front-end (GB/T 33190, the Chinese fixed-layout format) → `Layout`.

An OFD file is a zip: OFD.xml → DocBody/DocRoot → Document.xml → Pages/Page@BaseLoc → each
page's Content.xml (namespace http://www.ofdspec.org/2016; locations relative to the file that
names them, or to the package root when they start with "/"). Pages hold TextObjects (Boundary
"x y w h" in mm, optional CTM, TextCode runs with X, Y and DeltaX) and PathObjects (Boundary,
AbbreviatedData "M x y L x y … C", optional CTM, LineWidth).

Tables are rebuilt the way OCR rebuilds them (`ocr.grid_rows`): the horizontal and vertical
segments of the paths are drawn into ruling-line masks at a fixed resolution and the text runs
are placed as boxes. Pages without ruling lines are read as one stream of text cells, like a
PDF's text layer (`split_spaced`: "规章 0 0 0" → label and values). Cell bboxes are in PDF points
(1 mm = 72/25.4 pt), top-left origin, like the other front-ends.

No permissively licensed Python OFD reader exists (easyofd depends on AGPL PyMuPDF); this one
reads only what the extraction needs: text, its position, and straight ruling lines.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import replace

import numpy as np
from lxml import etree

from harvester.errors import CorruptDocument, EmptyDocument
from harvester.extract.html import Element, collapse
from harvester.extract.layout import Cell, Layout
from harvester.extract.ocr import Box, _lines_of, _text, grid_rows
from harvester.extract.safezip import open_zip
from harvester.extract.settings import DEFAULT
from harvester.extract.text import split_spaced

#: Pixels per millimetre of the ruling-line masks.
PX_PER_MM = 8.0
#: Pixels per PDF point (cell bboxes come out in points).
PX_PER_PT = PX_PER_MM * 25.4 / 72
#: The default page (A4) when neither the page nor the document names a PhysicalBox.
A4 = (210.0, 297.0)
#: Pages larger than this (mm) are refused: the masks would not fit in memory.
MAX_PAGE_MM = 5000.0
#: A segment is horizontal (vertical) when its ends differ by less than this in y (x), in mm.
AXIS_TOLERANCE = 0.05

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: Numbers each AbbreviatedData command takes.
_PATH_ARGS = {"M": 2, "S": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
#: A straight segment on the page (mm) and its line width: x0, y0, x1, y1, width.
Segment = tuple[float, float, float, float, float]


def _local(el: Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if _local(c) == name:
            return c
    return None


def _path(el: Element | None, *names: str) -> Element | None:
    for name in names:
        if el is None:
            return None
        el = _child(el, name)
    return el


def _numbers(text: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


class _Package:
    def __init__(self, data: bytes) -> None:
        self.zip = open_zip(data)
        self.names = set(self.zip.namelist())

    def resolve(self, loc: str, base: str) -> str:
        """A location named in file `base`: relative to its folder, or to the root with "/"."""
        loc = (loc or "").strip().replace("\\", "/")
        if not loc:
            raise CorruptDocument(f"{base} names an empty location")
        if loc.startswith("/"):
            return posixpath.normpath(loc.lstrip("/"))
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(base), loc))
        if rel not in self.names and posixpath.normpath(loc) in self.names:
            return posixpath.normpath(loc)  # some producers write root-relative paths without "/"
        return rel

    def xml(self, name: str) -> Element:
        if name not in self.names:
            raise CorruptDocument(f"OFD part {name} is missing")
        try:
            raw = self.zip.read(name)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError) as exc:
            raise CorruptDocument(f"OFD part {name} cannot be decompressed: {exc}") from exc
        try:
            root = etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise CorruptDocument(f"OFD part {name} is not well-formed XML: {exc}") from exc
        if root is None:
            raise CorruptDocument(f"OFD part {name} is empty")
        return root


def _ctm(el: Element) -> Matrix:
    nums = _numbers(el.get("CTM"))
    if len(nums) != 6:
        return _IDENTITY
    a, b, c, d, e, f = nums
    return a, b, c, d, e, f


def _place(m: Matrix, ox: float, oy: float, x: float, y: float) -> tuple[float, float]:
    """Object space → page (mm): the CTM, then the Boundary's origin."""
    a, b, c, d, e, f = m
    return ox + a * x + c * y + e, oy + b * x + d * y + f


def _deltas(text: str | None) -> list[float]:
    """DeltaX/DeltaY, with the "g N v" shorthand (N times v) expanded."""
    tokens = (text or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            try:
                out.extend([float(tokens[i + 2])] * min(int(float(tokens[i + 1])), 100_000))
            except ValueError:
                pass
            i += 3
            continue
        try:
            out.append(float(tokens[i]))
        except ValueError:
            pass
        i += 1
    return out


def _advance(ch: str, size: float) -> float:
    return size if ord(ch) >= 0x2E80 else size * 0.5


def _text_boxes(obj: Element, boxes: list[Box]) -> None:
    """The text of one TextObject as boxes in page pixels. A run is cut where the text has a space
    or DeltaX jumps by more than a character's width (spaced values printed by one TextCode). An
    object whose runs are stacked lines of one column (a label wrapped inside its cell) is one
    box, so a wrapped label in a merged cell is not cut by the rows the cell spans; the box keeps
    its first line's height, so it lands in the row where the label starts."""
    mine: list[Box] = []
    _runs_of(obj, mine)
    lines = _lines_of(mine)
    if len(lines) > 1 and all(len(line) == 1 for line in lines):
        first = lines[0][0]
        boxes.append(Box(min(b.x0 for b in mine), first.y0, max(b.x1 for b in mine), first.y1, _text(mine), 1.0))
    else:
        boxes.extend(mine)


def _runs_of(obj: Element, boxes: list[Box]) -> None:
    bound = _numbers(obj.get("Boundary"))
    if len(bound) < 2:
        return
    ox, oy = bound[0], bound[1]
    size = (_numbers(obj.get("Size")) or [3.5])[0] or 3.5
    m = _ctm(obj)
    x = y = 0.0
    for code in obj:
        if _local(code) != "TextCode":
            continue
        text = code.text or ""
        if code.get("X") is not None:
            x = (_numbers(code.get("X")) or [x])[0]
        if code.get("Y") is not None:
            y = (_numbers(code.get("Y")) or [y])[0]
        dx, dy = _deltas(code.get("DeltaX")), _deltas(code.get("DeltaY"))
        word: list[tuple[str, float, float, float]] = []  # char, x, y, width

        def flush() -> None:
            if not word:
                return
            xs0, xs1 = word[0][1], word[-1][1] + word[-1][3]
            ys = [w[2] for w in word]
            corners = [_place(m, ox, oy, cx, cy) for cx in (xs0, xs1)
                       for cy in (min(ys) - 0.85 * size, max(ys) + 0.15 * size)]
            px = [p[0] * PX_PER_MM for p in corners]
            py = [p[1] * PX_PER_MM for p in corners]
            boxes.append(Box(min(px), min(py), max(px), max(py), "".join(w[0] for w in word), 1.0))
            word.clear()

        for i, ch in enumerate(text):
            width = _advance(ch, size)
            if ch.isspace():
                flush()
            else:
                if word and x - (word[-1][1] + word[-1][3]) > max(word[-1][3], 0.5 * size):
                    flush()
                word.append((ch, x, y, width))
            x += dx[i] if i < len(dx) else width
            y += dy[i] if i < len(dy) else 0.0
        flush()


def _path_segments(obj: Element, segments: list[Segment]) -> None:
    """The straight segments of one PathObject (page mm), with their line width."""
    if obj.get("Stroke", "true").lower() == "false" and obj.get("Fill", "false").lower() != "true":
        return
    bound = _numbers(obj.get("Boundary"))
    if len(bound) < 2:
        return
    ox, oy = bound[0], bound[1]
    m = _ctm(obj)
    width = (_numbers(obj.get("LineWidth")) or [0.353])[0]
    data = _child(obj, "AbbreviatedData")
    tokens = _PATH_TOKEN.findall(data.text or "") if data is not None else []
    cur: tuple[float, float] | None = None
    start: tuple[float, float] | None = None
    i = 0
    while i < len(tokens):
        cmd = tokens[i].upper()
        i += 1
        n = _PATH_ARGS.get(cmd)
        if n is None:
            continue
        try:
            args = [float(t) for t in tokens[i:i + n]]
        except ValueError:
            break
        if len(args) < n:
            break
        i += n
        if cmd in ("M", "S"):
            cur = start = _place(m, ox, oy, args[0], args[1])
        elif cmd == "C":
            if cur is not None and start is not None:
                segments.append((*cur, *start, width))
            cur = start
        else:
            pt = _place(m, ox, oy, args[-2], args[-1])
            if cmd == "L" and cur is not None:
                segments.append((*cur, *pt, width))
            cur = pt  # curves and arcs are not ruling lines; their end point moves the pen


def _masks(segments: list[Segment], size_mm: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    w, h = (int(round(v * PX_PER_MM)) + 1 for v in size_mm)
    horiz = np.zeros((h, w), dtype=bool)
    vert = np.zeros((h, w), dtype=bool)

    def clip(v: float, hi: int) -> int:
        return min(max(int(round(v * PX_PER_MM)), 0), hi)

    for x0, y0, x1, y1, lw in segments:
        half = max(1, int(round(lw * PX_PER_MM / 2)))
        if abs(y0 - y1) < AXIS_TOLERANCE and abs(x1 - x0) >= AXIS_TOLERANCE:
            yc = clip((y0 + y1) / 2, h - 1)
            horiz[max(0, yc - half + 1):yc + half, clip(min(x0, x1), w - 1):clip(max(x0, x1), w - 1) + 1] = True
        elif abs(x0 - x1) < AXIS_TOLERANCE and abs(y1 - y0) >= AXIS_TOLERANCE:
            xc = clip((x0 + x1) / 2, w - 1)
            vert[clip(min(y0, y1), h - 1):clip(max(y0, y1), h - 1) + 1, max(0, xc - half + 1):xc + half] = True
    return horiz, vert


def _page_size(root: Element, fallback: tuple[float, float]) -> tuple[float, float]:
    physical = _path(root, "Area", "PhysicalBox")
    box = _numbers(physical.text if physical is not None else None)
    size = (box[2], box[3]) if len(box) == 4 else fallback
    if not (0 < size[0] <= MAX_PAGE_MM and 0 < size[1] <= MAX_PAGE_MM):
        raise CorruptDocument(f"OFD page size {size[0]}x{size[1]} mm is not a page")
    return size


def _page(root: Element, page_no: int, size_mm: tuple[float, float]) -> tuple[str, list[list[Cell]] | None, list[Cell]]:
    """(page text, its grid rows when it draws ruling lines else None, its text stream cells)."""
    boxes: list[Box] = []
    segments: list[Segment] = []
    content = _child(root, "Content")
    if content is not None:
        for el in content.iter():
            name = _local(el)
            if name == "TextObject":
                _text_boxes(el, boxes)
            elif name == "PathObject":
                _path_segments(el, segments)
    boxes = [b for b in boxes if b.text]
    has_h = any(abs(s[1] - s[3]) < AXIS_TOLERANCE for s in segments)
    has_v = any(abs(s[0] - s[2]) < AXIS_TOLERANCE for s in segments)
    if has_h and has_v:
        horiz, vert = _masks(segments, size_mm)
        rows = [[replace(c, confidence=None) for c in row]
                for row in grid_rows(boxes, horiz, vert, page_no, DEFAULT, PX_PER_PT)]
        if any(len(row) > 1 for row in rows):
            text = "\n".join(" ".join(c.text for c in row if c.text) for row in rows)
            return text, rows, []
    lines = [collapse(_text(line)) for line in _lines_of(boxes)]
    lines = [line for line in lines if line]
    cells = [Cell(token, page=page_no) for line in lines for token in split_spaced(line)]
    return "\n".join(lines), None, cells


def parse_ofd(data: bytes) -> Layout:
    pkg = _Package(data)
    ofd = pkg.xml("OFD.xml")
    doc_root = _path(ofd, "DocBody", "DocRoot")
    if doc_root is None or not (doc_root.text or "").strip():
        raise CorruptDocument("OFD.xml names no DocBody/DocRoot")
    doc_name = pkg.resolve(doc_root.text, "OFD.xml")
    doc = pkg.xml(doc_name)
    physical = _path(doc, "CommonData", "PageArea", "PhysicalBox")
    area = _numbers(physical.text if physical is not None else None)
    default_size = (area[2], area[3]) if len(area) == 4 else A4
    pages = _path(doc, "Pages")
    locs = [p.get("BaseLoc") for p in (pages if pages is not None else []) if _local(p) == "Page"]
    if not locs:
        raise CorruptDocument("the OFD document has no pages")

    texts: list[str] = []
    rows: list[list[Cell]] = []
    stream: list[Cell] = []  # consecutive pages without ruled tables read as one stream
    for i, loc in enumerate(locs):
        if not loc:
            raise CorruptDocument(f"page {i + 1} has no BaseLoc")
        root = pkg.xml(pkg.resolve(loc, doc_name))
        text, grid, cells = _page(root, i + 1, _page_size(root, default_size))
        texts.append(text)
        if grid is None:
            stream.extend(cells)
            continue
        if stream:
            rows.append(stream)
            stream = []
        rows.extend(grid)
    if stream:
        rows.append(stream)
    if not any(t.strip() for t in texts):
        raise EmptyDocument("the OFD pages hold no text (scanned images are not OCRed in OFD yet)")
    return Layout(text="\n".join(texts), rows=rows, pages=len(locs))
