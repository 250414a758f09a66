"""XLSX attachments that carry the tables: each sheet row is a row; merged copies are dropped."""
from __future__ import annotations

import zipfile
from io import BytesIO

from harvester.errors import CorruptDocument, EmptyDocument
from harvester.extract.layout import Cell, Layout
from harvester.extract.safezip import open_zip


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def parse_xlsx(data: bytes) -> Layout:
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell

    open_zip(data)  # refuses zip bombs before openpyxl decompresses anything
    try:
        book = load_workbook(BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CorruptDocument(f"not a readable XLSX: {exc}") from exc
    rows: list[list[Cell]] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            cells = [Cell(_text(c.value)) for c in row if not isinstance(c, MergedCell)]
            if cells:
                rows.append(cells)
    text = "\n".join(" ".join(c.text for c in r if c.text) for r in rows)
    if not text.strip():
        raise EmptyDocument("the workbook has no cell text")
    return Layout(text=text, rows=rows)
