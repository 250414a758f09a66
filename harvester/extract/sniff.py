"""Recognise a document's format from its bytes (the file name is only a hint)."""
from __future__ import annotations

import re
import zipfile
from io import BytesIO

PDF = "application/pdf"
HTML = "text/html"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OLE = "application/x-ole-storage"  # legacy .doc / .wps / .xls
ZIP = "application/zip"
OFD = "application/ofd"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
BINARY = "application/octet-stream"
SOURCE = "text/x-source"  # program source code: never a report, whatever strings it holds

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", PDF),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF8", GIF),
]

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<table", b"<meta", b"<div", b"<p>", b"<p ")


def sniff(data: bytes, name: str | None = None) -> str:
    """Return the media type of `data`."""
    head = data[:1024]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, media in _MAGIC:
        if stripped.startswith(magic) or head.startswith(magic):
            return media
    if not stripped.startswith(b"<") and _looks_textual(data[:4096]) and looks_like_code(data[:16384], name):
        return SOURCE
    if b"%PDF-" in head:  # some servers prepend junk before the header
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    low = stripped[:512].lower()
    if any(m in low for m in _HTML_MARKERS):
        return HTML
    if _looks_textual(data[:4096]):
        return TEXT
    return BINARY


#: File name endings of program source and configuration (a hint; the content decides too).
CODE_SUFFIXES = (".py", ".pyi", ".js", ".ts", ".java", ".c", ".h", ".cpp", ".go", ".rs", ".rb", ".php", ".sh",
                 ".toml", ".cfg", ".ini", ".yaml", ".yml", ".json", ".sql", ".css", ".lock")
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from [\w.]+ import |return\b|assert\b|raise\b|elif\b|else:|try:|except\b|"
    r"finally:|with .*:$|for .* in .*:$|if .*:$|while .*:$|@\w|#!|//|/\*|\*/|function\b|const |let |var |"
    r"public |private |#include|package |[}\])]+[,;]?$|.*[;{]$|[\w.\[\]\"']+\s*[-+*/]?=\s*\S)")


def looks_like_code(sample: bytes, name: str | None = None) -> bool:
    """Program source: a code file name, or a good share of lines shaped like code."""
    if name and name.lower().rstrip("/").endswith(CODE_SUFFIXES):
        return True
    text = sample.decode("utf-8", errors="ignore")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 5:
        return False
    code = sum(1 for ln in lines if _CODE_LINE.match(ln))
    return code >= 5 and code >= 0.3 * len(lines)


def _sniff_zip(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return ZIP
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    if "OFD.xml" in names:
        return OFD
    return ZIP


def _looks_textual(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            sample.decode(enc)
            return True
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is fine
            if exc.start >= len(sample) - 4:
                return True
    return False
