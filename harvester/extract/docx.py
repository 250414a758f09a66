"""DOCX (Office Open XML) → Layout, read straight from `word/document.xml` with lxml.

Each `<w:tc>` is one printed cell however many grid columns it spans
(`gridSpan`); a cell continuing a vertical merge (`<w:vMerge/>` without
`restart`) is a copy and is dropped. A cell holding a table is replaced by
that table's rows (nested layout tables), and tables inside text boxes
(`w:txbxContent`) are read where the text box is anchored.
"""
from __future__ import annotations

import zipfile

from lxml import etree

from harvester.errors import CorruptDocument, EmptyDocument, TooLarge
from harvester.extract.html import Element
from harvester.extract.layout import Cell, Layout
from harvester.extract.safezip import open_zip
from harvester.extract.text import _join

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_Q = {name: f"{{{W}}}{name}" for name in ("p", "tbl", "tr", "tc", "t", "tab", "br", "vMerge", "tcPr",
                                           "txbxContent", "val", "sdt", "sdtContent", "body", "cr")}
#: Uncompressed size above which document.xml is refused (zip bombs).
MAX_XML_BYTES = 128 * 1024 * 1024


def parse_docx(data: bytes) -> Layout:
    archive = open_zip(data)  # refuses zip bombs before anything is decompressed
    try:
        info = archive.getinfo("word/document.xml")
    except KeyError as exc:
        raise CorruptDocument(f"not a readable DOCX: {exc}") from exc
    if info.file_size > MAX_XML_BYTES:
        raise TooLarge(f"word/document.xml expands to {info.file_size} bytes")
    try:
        root = etree.fromstring(archive.read(info), parser=etree.XMLParser(huge_tree=False, resolve_entities=False))
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError) as exc:
        raise CorruptDocument(f"broken word/document.xml: {exc}") from exc
    body = root.find(_Q["body"])
    if body is None:
        raise CorruptDocument("word/document.xml has no body")
    rows: list[list[Cell]] = []
    _walk(body, rows)
    text = "\n".join(" ".join(c.text for c in row) for row in rows)
    if not text.strip():
        raise EmptyDocument("the DOCX has no text")
    return Layout(text=text, rows=rows)


def _walk(container: Element, rows: list[list[Cell]]) -> None:
    for child in container:
        if child.tag == _Q["p"]:
            text = _para_text(child)
            if text:
                rows.append([Cell(text)])
            for box in child.iter(_Q["txbxContent"]):
                _walk(box, rows)
        elif child.tag == _Q["tbl"]:
            _table(child, rows)
        elif child.tag in (_Q["sdt"], _Q["sdtContent"]):
            _walk(child, rows)


def _para_text(p: Element) -> str:
    parts: list[str] = []
    for node in p.iter(_Q["t"], _Q["tab"], _Q["br"], _Q["cr"], _Q["txbxContent"]):
        if node.tag == _Q["txbxContent"]:
            break  # text-box content is read separately, where it is anchored
        if node.tag == _Q["t"]:
            parts.append(node.text or "")
        else:
            parts.append(" ")
    return " ".join("".join(parts).split())


def _table(tbl: Element, rows: list[list[Cell]]) -> None:
    tc_tag, tcpr_tag, vmerge_tag, tbl_tag, p_tag, val = (
        _Q["tc"], _Q["tcPr"], _Q["vMerge"], _Q["tbl"], _Q["p"], _Q["val"])
    for tr in tbl.iterchildren(_Q["tr"]):
        row: list[Cell] = []
        for tc in tr.iterchildren(tc_tag):
            # one pass over the cell's children: properties, paragraphs, nested tables
            paras: list[Element] = []
            inner: list[Element] = []
            copy = False
            for child in tc:
                tag = child.tag
                if tag == p_tag:
                    paras.append(child)
                elif tag == tbl_tag:
                    inner.append(child)
                elif tag == tcpr_tag:
                    vmerge = child.find(vmerge_tag)
                    copy = vmerge is not None and vmerge.get(val, "continue") != "restart"
            if copy:
                continue  # a copy of the cell above
            if inner:
                if row:
                    rows.append(row)
                    row = []
                for t in inner:
                    _table(t, rows)
                continue
            text = ""
            for p in paras:
                text = _join(text, _para_text(p))
            row.append(Cell(text))
        if row:
            rows.append(row)
