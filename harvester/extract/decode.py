"""Bytes → str for pages and text dumps in any of the charsets portals use.

Order: BOM, then a declared charset (HTTP header or <meta>), then strict UTF-8,
then GB18030 (a superset of GBK/GB2312, which is what pages labelled
gb2312/gbk really contain), then charset-normalizer's guess.
"""
from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "hz-gb-2312"}


def normalize_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("'\"").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return normalize_charset(m.group(1).decode("ascii", "ignore")) if m else None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode `data`; `declared` is a charset from outside (HTTP header), if any."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    for charset in (normalize_charset(declared), declared_charset(data)):
        if charset:
            try:
                return data.decode(charset)
            except UnicodeDecodeError:
                pass  # the declaration lies (common): fall through to detection
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("gb18030", errors="replace")
