"""Legacy OLE compound files: Word 97-2003 .doc, Kingsoft .wps, Excel .xls.

The stream names in the OLE directory (UTF-16LE) tell which application wrote the file.
"""
from __future__ import annotations

from harvester.errors import UnsupportedFormat
from harvester.extract.convert import convert
from harvester.extract.layout import Layout


def _has_stream(data: bytes, name: str) -> bool:
    return name.encode("utf-16-le") in data


def parse_ole(data: bytes) -> Layout:
    if _has_stream(data, "WordDocument"):
        from harvester.extract.docx import parse_docx

        return parse_docx(convert(data, ".doc", "docx"))
    if _has_stream(data, "Workbook") or _has_stream(data, "Book"):
        from harvester.extract.xlsx import parse_xlsx

        return parse_xlsx(convert(data, ".xls", "xlsx"))
    raise UnsupportedFormat("OLE compound file that is neither a Word (.doc/.wps) nor an Excel (.xls) document")
