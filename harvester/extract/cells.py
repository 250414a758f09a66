"""Reading one cell: is it a value (number or blank mark) or a label, and what does it say."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from harvester.extract.labels import BLANK_MARKS, UNITS
from harvester.extract.record import Semantic

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_UNIT_RE = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_NUMBER = re.compile(rf"^(?P<num>[+-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?)(?P<unit>{_UNIT_RE})?$")
_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．)）]|第[一二三四五六七八九十\d]+[项条])"
)
_PUNCT = re.compile(r"[\s\u3000\u00a0，,。．.、；;：:“”\"'‘’《》<>（）()【】\[\]{}/／\\|!！?？·…—\-_]+")


@dataclass(frozen=True)
class Reading:
    """What a value cell says: `value` (None = unreadable), `semantic`, the text as printed."""

    value: int | float | str | None
    semantic: Semantic
    raw: str


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=65536)
def read_value(raw: str, *, as_string: bool = False, decimals: bool = True) -> Reading | None:
    """Read a cell as a value, or return None when the cell is a label (not a number or blank)."""
    text = _SPACES.sub("", nfkc(raw))
    if text in BLANK_MARKS:
        return Reading(0, "blank", raw)
    m = _NUMBER.match(text)
    if not m:
        return None
    if as_string:
        return Reading(text, "number", raw)
    num = m.group("num").replace(",", "")
    value: int | float = float(num) if "." in num else int(num)
    if isinstance(value, float) and not decimals:
        return Reading(None, "unreadable", raw)
    if isinstance(value, float) and value.is_integer() and not num.endswith(".0"):
        value = int(value)
    return Reading(value, "zero" if value == 0 else "number", raw)


def split_unit(value: object, raw: str | None) -> tuple[int | float | None, str | None]:
    """A cell's number and its printed unit kept apart: ("75.3万元" or 75.3 printed "75.3万元") →
    (75.3, "万元"); a plain number has no unit; a value that is not a number has neither."""
    text = _SPACES.sub("", nfkc(raw or (value if isinstance(value, str) else "")))
    m = _NUMBER.match(text)
    unit = m.group("unit") if m else None
    if isinstance(value, bool):
        return None, None
    if isinstance(value, (int, float)):
        return value, unit
    if isinstance(value, str) and (m := _NUMBER.match(_SPACES.sub("", nfkc(value)))):
        num = m.group("num").replace(",", "")
        return (float(num) if "." in num else int(num)), m.group("unit")
    return None, None


def is_value(raw: str) -> bool:
    return read_value(raw) is not None


@lru_cache(maxsize=65536)
def norm_label(text: str) -> str:
    """Label as compared: NFKC, numbering prefixes and punctuation and spaces removed."""
    text = _SPACES.sub("", nfkc(text))
    prev = None
    while prev != text:
        prev = text
        text = _NUMBERING.sub("", text)
    return _PUNCT.sub("", text)
