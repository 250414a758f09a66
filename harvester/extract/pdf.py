"""PDF front-end (text layer) → `Layout`.

pypdfium2 reads every page's text fast; pdfplumber's ruled-table finder runs
only on pages whose text holds table markers and that draw ruling lines. On those pages the text lines
outside the tables and the tables' rows are emitted top to bottom; other pages
give their text lines. Tables split across pages come out as consecutive rows
(continuation rows first on the next page); the interpreter keeps the context.
"""
from __future__ import annotations

import re
from io import BytesIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from harvester.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge
from harvester.extract.html import collapse
from harvester.extract.layout import Cell, Layout
from harvester.extract.settings import DEFAULT, ExtractSettings

#: Words that only the standard tables print; a page holding any of them gets table finding.
TABLE_MARKERS: tuple[str, ...] = (
    "第二十条", "信息内容", "申请人情况", "本年新收", "行政复议", "结果维持", "予以公开", "总计",
    "本年制发", "现行有效", "自然人", "不予公开", "行政诉讼",
)
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


def _page_texts(doc: pdfium.PdfDocument) -> tuple[list[str], list[int]]:
    """Each page's text and its number of vector path objects (ruling lines, rectangles)."""
    texts, paths = [], []
    for i in range(len(doc)):
        page = doc[i]
        try:
            textpage = page.get_textpage()
            try:
                texts.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            finally:
                textpage.close()
            n = 0
            for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
                n += 1
                if n >= MIN_PATHS_FOR_TABLE:
                    break
            paths.append(n)
        finally:
            page.close()
    return texts, paths


def _has_markers(text: str) -> bool:
    squeezed = _SPACE.sub("", text)
    return any(m in squeezed for m in TABLE_MARKERS)


def _text_rows(text: str, page_no: int) -> list[list[Cell]]:
    rows = []
    for line in text.split("\n"):
        line = collapse(line)
        if line:
            rows.append([Cell(line, page=page_no)])
    return rows


def _inside(obj: dict, boxes: list[tuple[float, float, float, float]]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _table_page_rows(page, page_no: int) -> list[list[Cell]]:
    page = page.dedupe_chars()
    tables = page.find_tables(table_settings=TABLE_SETTINGS)
    # a "table" of one cell is a framed paragraph, not a table: read it as text
    tables = [t for t in tables if len(t.rows) > 1 or len(t.rows[0].cells) > 1] if tables else []
    boxes = [t.bbox for t in tables]
    items: list[tuple[float, int, list[list[Cell]]]] = []
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes)) if boxes else page
    for line in outside.extract_text_lines(strip=True, return_chars=False):
        text = collapse(line["text"])
        if text:
            items.append((line["top"], 0, [[Cell(text, page=page_no)]]))
    for table in tables:
        rows: list[list[Cell]] = []
        for row, texts in zip(table.rows, table.extract()):
            cells = [
                Cell(collapse(text or ""), page=page_no, bbox=tuple(float(v) for v in bbox))
                for bbox, text in zip(row.cells, texts)
                if bbox is not None  # None: a copy covered by a merged cell
            ]
            if cells:
                rows.append(cells)
        items.append((table.bbox[1], 1, rows))
    items.sort(key=lambda it: (it[0], it[1]))
    return [row for _, _, rows in items for row in rows]


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
        texts, paths = _page_texts(doc)
        ocr_rows = _ocr_pages(doc, texts, settings)
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(f"unreadable PDF page: {exc}") from exc
    finally:
        doc.close()
    if not any(t.strip() for t in texts):
        raise EmptyDocument("no text on any page (no text layer, and OCR found nothing)"
                            if settings.ocr else "no text layer (scanned PDF?) and OCR is turned off")

    rows: list[list[Cell]] = []
    table_pages = {i for i, t in enumerate(texts)
                   if i not in ocr_rows and paths[i] >= MIN_PATHS_FOR_TABLE and _has_markers(t)}
    plumber = None
    try:
        if table_pages:
            import pdfplumber

            try:
                plumber = pdfplumber.open(BytesIO(data))
            except Exception as exc:  # pdfminer refuses what pdfium read: say so plainly
                if "password" in str(exc).lower() or "encrypt" in type(exc).__name__.lower():
                    raise EncryptedDocument(f"the PDF is encrypted: {exc}") from exc
                raise CorruptDocument(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
        for i, text in enumerate(texts):
            if i in ocr_rows:
                rows.extend(ocr_rows[i])
            elif plumber is not None and i in table_pages:
                rows.extend(_table_page_rows(plumber.pages[i], i + 1))
            else:
                rows.extend(_text_rows(text, i + 1))
    finally:
        if plumber is not None:
            plumber.close()
    return Layout(text="\n".join(texts), rows=rows, pages=len(texts))
