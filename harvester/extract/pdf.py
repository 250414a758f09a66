"""PDF front-end (text layer) → `Layout`.

pypdfium2 reads every page's text fast; pdfplumber's ruled-table finder runs
only on pages whose text holds table markers and that draw ruling lines. On those pages the text lines
outside the tables and the tables' rows are emitted top to bottom; other pages
give their text lines. Tables split across pages come out as consecutive rows
(continuation rows first on the next page); the interpreter keeps the context.
"""
from __future__ import annotations

import ctypes
import re
from bisect import bisect_left
from io import BytesIO
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from harvester.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge
from harvester.extract import labels as L
from harvester.extract.html import collapse
from harvester.extract.layout import Cell, Layout
from harvester.extract.settings import DEFAULT, ExtractSettings
from harvester.extract.text import split_spaced

if TYPE_CHECKING:
    from pdfplumber.page import Page
    from pdfplumber.table import Table

#: A pdfplumber object (char, edge, text line) as a dict (pdfplumber's T_obj).
Obj = dict[str, Any]
#: A PDF matrix (a, b, c, d, e, f).
Matrix = tuple[float, float, float, float, float, float]
#: A box as pdfplumber gives it: x0, top, x1, bottom.
BBox = tuple[float, float, float, float]

#: Words that only the standard tables print; a page holding any of them gets table finding.
TABLE_MARKERS: tuple[str, ...] = L.TABLE_WORDS
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}

_SPACE = re.compile(r"\s+")


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument("the PDF is encrypted and cannot be opened without a password") from exc
        raise CorruptDocument(f"unreadable PDF: {exc}") from exc


#: A ruled table needs drawn lines: pages with fewer vector path objects have no table to find.
MIN_PATHS_FOR_TABLE = 4


def _page_pass(doc: pdfium.PdfDocument, settings: ExtractSettings
               ) -> tuple[list[str], dict[int, list[list[Cell]]], set[int]]:
    """One pass over the pages with pdfium: each page's text, and on the pages that hold table
    markers and draw ruling lines, their rows (text lines and table rows). Pages whose tables
    pdfium cannot read for pdfplumber (rotated) are returned for the pdfplumber fallback."""
    texts: list[str] = []
    table_rows: dict[int, list[list[Cell]]] = {}
    fallback: set[int] = set()
    for i in range(len(doc)):
        page = doc[i]
        try:
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
                texts.append(text)
                blank = len(_SPACE.sub("", text)) < MIN_TEXT_CHARS and settings.ocr  # OCRed instead
                if not blank and _has_markers(text) and _count_paths(page) >= MIN_PATHS_FOR_TABLE:
                    try:
                        table_rows[i] = _pdfium_table_rows(page, textpage, i + 1)
                    except _Fallback:
                        fallback.add(i)
            finally:
                textpage.close()
        finally:
            page.close()
    return texts, table_rows, fallback


def _count_paths(page: pdfium.PdfPage) -> int:
    n = 0
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        n += 1
        if n >= MIN_PATHS_FOR_TABLE:
            break
    return n


def _has_markers(text: str) -> bool:
    squeezed = _SPACE.sub("", text)
    return any(m in squeezed for m in TABLE_MARKERS)


def _text_cells(text: str, page_no: int) -> list[Cell]:
    """The text of a page without ruled tables, as one stream of cells. A table printed without
    ruling lines comes as lines "规章 0 0 0", cut into label and values; its long labels wrap and
    push a row's last value onto the next line, so line ends are not row ends: the interpreter
    reads the stream like a one-cell-per-line dump."""
    lines = (collapse(raw) for raw in text.split("\n"))
    return [Cell(token, page=page_no) for line in lines if line for token in split_spaced(line)]


def _inside(obj: Mapping[str, Any], boxes: Sequence[BBox]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _table_texts(table: Table, chars: list[Obj]) -> list[list[str | None]]:
    """`Table.extract()` without its scans of every character for every row and cell: characters
    are sorted by their vertical centre once and each cell takes its slice (same rule: the centre
    inside the cell, right and bottom edges excluded; same text assembly)."""
    from pdfplumber.utils import extract_text

    order = sorted(range(len(chars)), key=lambda k: (chars[k]["top"] + chars[k]["bottom"]) / 2)
    vmid = [(chars[k]["top"] + chars[k]["bottom"]) / 2 for k in order]
    hmid = [(chars[k]["x0"] + chars[k]["x1"]) / 2 for k in order]
    out: list[list[str | None]] = []
    for row in table.rows:
        texts: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                texts.append(None)
                continue
            x0, top, x1, bottom = cell
            lo, hi = bisect_left(vmid, top), bisect_left(vmid, bottom)
            picked = sorted(order[j] for j in range(lo, hi) if x0 <= hmid[j] < x1)
            texts.append(extract_text([chars[k] for k in picked]) if picked else "")
        out.append(texts)
    return out


def _merge(lines: list[Obj], tables: list[Table], page_no: int,
           extract_table: Callable[[Table], list[list[str | None]]] = lambda t: t.extract()) -> list[list[Cell]]:
    """Text lines outside the tables and the tables' rows, top to bottom."""
    items: list[tuple[float, int, list[list[Cell]]]] = []
    for line in lines:
        text = collapse(line["text"])
        if text:
            items.append((line["top"], 0, [[Cell(text, page=page_no)]]))
    for table in tables:
        rows: list[list[Cell]] = []
        for row, texts in zip(table.rows, extract_table(table)):
            cells = [
                Cell(collapse(text or ""), page=page_no, bbox=_floats(bbox))
                for bbox, text in zip(row.cells, texts)
                if bbox is not None  # None: a copy covered by a merged cell
            ]
            if cells:
                rows.append(cells)
        items.append((table.bbox[1], 1, rows))
    items.sort(key=lambda it: (it[0], it[1]))
    return [row for _, _, rows in items for row in rows]


def _floats(bbox: BBox) -> BBox:
    """A cell's box with plain floats (pdfplumber's may hold ints)."""
    x0, top, x1, bottom = bbox
    return float(x0), float(top), float(x1), float(bottom)


def _table_page_rows(page: Page, page_no: int) -> list[list[Cell]]:
    """pdfplumber proper (pdfminer parses the page again): the fallback."""
    page = page.dedupe_chars()
    tables = page.find_tables(table_settings=TABLE_SETTINGS)
    # a "table" of one cell is a framed paragraph, not a table: read it as text
    tables = [t for t in tables if len(t.rows) > 1 or len(t.rows[0].cells) > 1] if tables else []
    boxes = [t.bbox for t in tables]
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes)) if boxes else page
    return _merge(outside.extract_text_lines(strip=True, return_chars=False), tables, page_no)


# ------------------------------------------------------------------ table finding on pdfium objects
# pdfminer's content-stream parser is what makes pdfplumber slow (≈ 90 % of its time on a table page).
# pdfium has already parsed the page: its characters (loose boxes, i.e. font ascent/descent like
# pdfminer's) and its path segments are handed to pdfplumber's geometric table finder and text
# clustering, which are cheap. Pages pdfium cannot describe this way (rotated pages, rotated text)
# fall back to pdfplumber on the bytes.

class _Fallback(Exception):
    """This page needs pdfplumber proper."""


class _CharsPage:
    """The two attributes of a pdfplumber page that `Table.extract` reads."""

    __slots__ = ("chars", "bbox")

    def __init__(self, chars: list[Obj], bbox: BBox) -> None:
        self.chars = chars
        self.bbox = bbox


def _chars(textpage: pdfium.PdfTextPage, top: float, left: float) -> list[Obj]:
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    chars: list[Obj] = []
    # de-duplicate fake-bold text (each glyph printed twice, slightly offset), like pdfplumber's
    # dedupe_chars(tolerance=1): same text and size within 1 pt is one character
    seen: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for i in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code in (0, 0xFFFE, 0xFFFF) or code < 32 and code not in (9,):
            continue
        if pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
            continue  # spaces and line breaks pdfium inferred
        text = chr(code)
        angle = pdfium_c.FPDFText_GetCharAngle(raw, i)
        if angle > 0.001 and abs(angle - 6.283185307) > 0.001:
            raise _Fallback("rotated text")
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, i, rect):
            continue
        x0, x1 = rect.left - left, rect.right - left
        t, b = top - rect.top, top - rect.bottom
        size = round(pdfium_c.FPDFText_GetFontSize(raw, i), 2)
        kept = seen.setdefault((text, size), [])
        if any(abs(x0 - kx) <= 1 and abs(t - kt) <= 1 for kx, kt in kept):
            continue
        kept.append((x0, t))
        chars.append({"text": text, "x0": x0, "x1": x1, "top": t, "bottom": b, "doctop": t,
                      "width": x1 - x0, "height": b - t, "size": size, "upright": True,
                      "object_type": "char"})
    return chars


def _path_edges(obj: Any, matrix: Matrix, top: float, left: float, edges: list[Obj]) -> None:
    """Horizontal and vertical segments of one path object, as pdfplumber edges."""
    a, b, c, d, e, f = matrix
    raw = obj
    x = ctypes.c_float()
    y = ctypes.c_float()
    start: tuple[float, float] | None = None

    def add(p: tuple[float, float], q: tuple[float, float]) -> None:
        (x0, y0), (x1, y1) = p, q
        if abs(x0 - x1) < 0.01 and abs(y0 - y1) < 0.01:
            return
        if abs(x0 - x1) < 0.01:
            o = "v"
        elif abs(y0 - y1) < 0.01:
            o = "h"
        else:
            return
        lo_x, hi_x = (x0, x1) if x0 <= x1 else (x1, x0)
        t0, t1 = top - max(y0, y1), top - min(y0, y1)
        edges.append({"x0": lo_x - left, "x1": hi_x - left, "top": t0, "bottom": t1,
                      "width": hi_x - lo_x, "height": t1 - t0, "orientation": o, "object_type": "curve"})

    n = pdfium_c.FPDFPath_CountSegments(raw)
    prev: tuple[float, float] | None = None
    for k in range(n):
        seg = pdfium_c.FPDFPath_GetPathSegment(raw, k)
        if not pdfium_c.FPDFPathSegment_GetPoint(seg, x, y):
            continue
        px, py = x.value, y.value
        pt = (a * px + c * py + e, b * px + d * py + f)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = pt
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
            add(prev, pt)
        # Bézier segments are not ruling lines: skipped (their end point still moves the pen)
        prev = pt
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            add(pt, start)
            prev = start


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """Matrix product m·n of PDF matrices (a, b, c, d, e, f): apply m, then n."""
    a1, b1, c1, d1, e1, f1 = m
    a2, b2, c2, d2, e2, f2 = n
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _edges(page: pdfium.PdfPage, top: float, left: float) -> list[Obj]:
    edges: list[Obj] = []
    fsm = pdfium_c.FS_MATRIX()

    def walk(objs: list[Any], parent: Matrix, depth: int) -> None:
        for obj in objs:
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
                continue
            pdfium_c.FPDFPageObj_GetMatrix(obj, fsm)
            m = _mul((fsm.a, fsm.b, fsm.c, fsm.d, fsm.e, fsm.f), parent)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                _path_edges(obj, m, top, left, edges)
            elif depth < 4:
                walk([pdfium_c.FPDFFormObj_GetObject(obj, j)
                      for j in range(pdfium_c.FPDFFormObj_CountObjects(obj))], m, depth + 1)

    raw = page.raw
    walk([pdfium_c.FPDFPage_GetObject(raw, j) for j in range(pdfium_c.FPDFPage_CountObjects(raw))],
         (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), 0)
    return edges


def _find_tables(edges: list[Obj], page: _CharsPage) -> list[Table]:
    """pdfplumber's `lines` strategy (TableFinder.get_edges → cells → tables) on our own edges."""
    from pdfplumber import table as pt
    from pdfplumber import utils

    s = pt.TableSettings.resolve(TABLE_SETTINGS)
    v = utils.filter_edges(edges, "v", min_length=s.edge_min_length_prefilter)
    h = utils.filter_edges(edges, "h", min_length=s.edge_min_length_prefilter)
    merged = pt.merge_edges(list(v) + list(h), snap_x_tolerance=s.snap_x_tolerance,
                            snap_y_tolerance=s.snap_y_tolerance, join_x_tolerance=s.join_x_tolerance,
                            join_y_tolerance=s.join_y_tolerance)
    merged = utils.filter_edges(merged, min_length=s.edge_min_length)
    points = pt.edges_to_intersections(merged, s.intersection_x_tolerance, s.intersection_y_tolerance)
    cells = pt.intersections_to_cells(points)
    return [pt.Table(page, group)  # type: ignore[arg-type]  # a Table reads only page.chars: _CharsPage has it
            for group in pt.cells_to_tables(cells)]


def _pdfium_table_rows(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, page_no: int) -> list[list[Cell]]:
    """The rows of a table page from pdfium's own objects (see above); raises _Fallback."""
    from pdfplumber.utils.text import chars_to_textmap

    if page.get_rotation():
        raise _Fallback("rotated page")
    left, bottom, right, top = page.get_mediabox()
    chars = _chars(textpage, top, left)
    bbox = (0.0, 0.0, right - left, top - bottom)
    plumb = _CharsPage(chars, bbox)
    tables = _find_tables(_edges(page, top, left), plumb)
    tables = [t for t in tables if len(t.rows) > 1 or len(t.rows[0].cells) > 1]
    boxes = [t.bbox for t in tables]
    outside = [ch for ch in chars if not _inside(ch, boxes)] if boxes else chars
    tm = chars_to_textmap(outside, layout_bbox=bbox, layout_width=bbox[2], layout_height=bbox[3])
    return _merge(tm.extract_text_lines(strip=True, return_chars=False), tables, page_no,
                  lambda t: _table_texts(t, chars))


#: A page with fewer printable characters than this has no usable text layer (a scan).
MIN_TEXT_CHARS = 20


def _ocr_pages(doc: pdfium.PdfDocument, texts: list[str], settings: ExtractSettings) -> dict[int, list[list[Cell]]]:
    """OCR the pages without a text layer; their text replaces the empty text in `texts`."""
    from harvester.extract.ocr import page_rows

    blank = [i for i, t in enumerate(texts) if len(_SPACE.sub("", t)) < MIN_TEXT_CHARS]
    if not settings.ocr or not blank:
        return {}
    if len(blank) > settings.ocr_max_pages:
        raise TooLarge(f"{len(blank)} pages without a text layer; OCR is limited to {settings.ocr_max_pages}")
    scale = settings.ocr_dpi / 72
    out: dict[int, list[list[Cell]]] = {}
    for i in blank:
        page = doc[i]
        try:
            image = page.render(scale=scale).to_pil()
        finally:
            page.close()
        out[i] = page_rows(image, i + 1, settings, scale)
        texts[i] = "\n".join(" ".join(c.text for c in row if c.text) for row in out[i])
    return out


def parse_pdf(data: bytes, settings: ExtractSettings = DEFAULT) -> Layout:
    doc = _open(data)
    try:
        texts, table_rows, fallback = _page_pass(doc, settings)
        ocr_rows = _ocr_pages(doc, texts, settings)
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(f"unreadable PDF page: {exc}") from exc
    finally:
        doc.close()
    if not any(t.strip() for t in texts):
        raise EmptyDocument("no text on any page (no text layer, and OCR found nothing)"
                            if settings.ocr else "no text layer (scanned PDF?) and OCR is turned off")

    rows: list[list[Cell]] = []
    plumber = None
    try:
        if fallback:
            import pdfplumber

            try:
                plumber = pdfplumber.open(BytesIO(data))
            except Exception as exc:  # pdfminer refuses what pdfium read: say so plainly
                if "password" in str(exc).lower() or "encrypt" in type(exc).__name__.lower():
                    raise EncryptedDocument(f"the PDF is encrypted: {exc}") from exc
                raise CorruptDocument(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
        stream: list[Cell] = []  # consecutive pages without ruled tables read as one stream
        for i, text in enumerate(texts):
            if i not in ocr_rows and i not in table_rows and not (plumber is not None and i in fallback):
                stream.extend(_text_cells(text, i + 1))
                continue
            if stream:
                rows.append(stream)
                stream = []
            if i in ocr_rows:
                rows.extend(ocr_rows[i])
            elif i in table_rows:
                rows.extend(table_rows[i])
            else:
                assert plumber is not None  # i is a fallback page: pdfplumber opened it (the first test above)
                page = plumber.pages[i]
                rows.extend(_table_page_rows(page, i + 1))
                page.close()  # drop pdfminer's parsed objects: memory stays flat on long documents
        if stream:
            rows.append(stream)
    finally:
        if plumber is not None:
            plumber.close()
    return Layout(text="\n".join(texts), rows=rows, pages=len(texts))
