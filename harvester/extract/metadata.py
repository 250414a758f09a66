"""Title, agency, reporting year, publication date and template hints, read from the document text."""
from __future__ import annotations

import re
from dataclasses import dataclass

from harvester.extract.cells import nfkc

_TITLE_WORDS = ("工作年度报告", "年度报告", "年报")
_YEAR_IN_TITLE = re.compile(r"(19|20)\d{2}\s*年(?:度)?")
_PERIOD = re.compile(r"统计(?:期限|时限|周期|时间|区间)[^0-9]{0,12}((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_PUB_DATE = [
    re.compile(r"(?:发布|成文|印发|公开)(?:时间|日期)\s*[:：]?\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"),
    re.compile(r"^[（(]?\s*((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[)）]?$"),
]
_TEMPLATE_HINTS = {"2021": ("〔2021〕30号", "[2021]30号"), "2019": ("〔2019〕60号", "[2019]60号")}
_AGENCY_TAIL = re.compile(r"(?:关于)$")


@dataclass
class Metadata:
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    publication_date: str | None = None
    template_hint: str | None = None


def _lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"[\s\u3000]+", " ", line).strip(" #*")
        if line:
            out.append(line)
    return out


def _clean(s: str) -> str:
    return re.sub(r"\s+", "", s)


def read_metadata(text: str) -> Metadata:
    meta = Metadata()
    lines = _lines(text)
    head = lines[:40]
    for i in range(len(head)):
        title = _title_at(head, i)
        if title:
            meta.title = title
            break
    if meta.title:
        meta.agency, meta.year = _agency_year(meta.title)
    if meta.agency is None and meta.title:
        meta.agency = _signature(lines)
    period = _PERIOD.search(_clean(text[:5000]))
    if meta.year is None and period:
        meta.year = int(period.group(1))
    for line in lines[:15] + lines[-5:]:
        for rx in _PUB_DATE:
            m = rx.search(nfkc(line))
            if m:
                y, mo, d = (int(g) for g in m.groups())
                if 1 <= mo <= 12 and 1 <= d <= 31:
                    meta.publication_date = f"{y:04d}-{mo:02d}-{d:02d}"
                    break
        if meta.publication_date:
            break
    compact = _clean(text)
    for tpl, hints in _TEMPLATE_HINTS.items():
        if any(h in compact for h in hints):
            meta.template_hint = tpl
            break
    return meta


#: Page furniture that stands alone above a title but is not an agency.
_NOT_AGENCY = {"正文", "目录", "附件", "首页", "当前位置", "信息公开", "政府信息公开", "年度报告", "政府信息公开年报", "通知公告"}
_NOT_TITLE = ("《", "》", "<", ">", "通知", "格式", "根据", "按照", "本报告", "依据", "现将", "。")


def _is_title(compact: str) -> bool:
    return (len(compact) <= 60 and ("政府信息公开" in compact or "政务公开" in compact)
            and any(w in compact for w in _TITLE_WORDS) and not any(w in compact for w in _NOT_TITLE))


def _title_at(head: list[str], i: int) -> str | None:
    """The title starting at line i: one line, or two when a long title wraps (as PDF lines do);
    an agency name printed alone on the line above a title that starts with the year is prefixed."""
    line = _clean(head[i])
    for title in (line, line + _clean(head[i + 1]) if i + 1 < len(head) else ""):
        if not title or not _is_title(title):
            continue
        if _YEAR_IN_TITLE.match(title) and i > 0:
            prev = _clean(head[i - 1])
            if (2 <= len(prev) <= 30 and re.fullmatch(r"[\u4e00-\u9fff（）()]+", prev) and "报告" not in prev
                    and prev not in _NOT_AGENCY):
                title = prev + title
        return title
    return None


_ORGAN = re.compile(r"^[\u4e00-\u9fff（）()]{2,28}(?:人民政府|办公室|办公厅|委员会|管理局|局|厅|委|办|中心|"
                    r"街道办事处|管理委员会|院|署|政府)$")


#: What an agency's name is made of: Chinese characters, brackets, a middle dot, digits.
_AGENCY_CHARS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff（）()〔〕·0-9０-９、]+")


def _signature(lines: list[str]) -> str | None:
    """The agency signing the report on one of its last lines (a title without the agency's name)."""
    for line in reversed(lines[-6:]):
        compact = _clean(line)
        if _ORGAN.match(compact):
            return compact
    return None


def _agency_year(title: str) -> tuple[str | None, int | None]:
    m = _YEAR_IN_TITLE.search(title)
    if not m:
        return None, None
    year = int(title[m.start():m.start() + 4])
    before, after = title[:m.start()], title[m.end():]
    agency: str | None
    if before:
        agency = before
    else:  # "2024年上海市科委政府信息公开工作年度报告": the agency follows the year
        cut = re.search(r"(?:政府信息公开|政务公开|信息公开)", after)
        agency = after[:cut.start()] if cut else None
    if agency:
        agency = _AGENCY_TAIL.sub("", agency.strip("：: "))
    if agency and not _AGENCY_CHARS.fullmatch(re.sub(r"\s+", "", agency)):
        agency = None  # `assert"`, `TITLE="…`: a string in source code, not an agency's name
    return agency or None, year
