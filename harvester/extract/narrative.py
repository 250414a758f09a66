"""Numbers the report's prose states about its own tables (共收到申请70件, 办结69件, 行政复议2件).

Each pattern maps a phrase to a table cell, or to the sum of a row group's totals.
The statements are compared with the tables as checks (`narrative.*`) and help
choose among readings of glued digit strings; they never replace a printed number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from harvester.extract.cells import nfkc

N = r"(\d{1,7})"


@dataclass(frozen=True)
class Statement:
    table: str
    rows: tuple[str, ...]  # summed: a row key, or every row of a group ("denied.*")
    column: str
    value: int
    phrase: str
    #: Another reading of the phrase (受理 N 件 counts new requests, or new plus carried over).
    alt_rows: tuple[str, ...] | None = None

    @property
    def where(self) -> str:
        rows = self.rows[0] if len(self.rows) == 1 else "+".join(self.rows)
        return f"{self.table}.{rows}.{self.column}"


#: The outcome categories of table 3 as the prose names them, and the rows each one sums.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "予以公开": ("granted",), "予以主动公开": ("granted",), "部分公开": ("partially_granted",),
    "不予公开": ("denied.*",), "无法提供": ("unable.*",), "无法公开": ("unable.*",),
    "不予处理": ("not_processed.*",), "其他处理": ("other.*",),
}
_CAT = "|".join(sorted(CATEGORIES, key=len, reverse=True))
_AND = r"(?:以及|及|和|与|、|或)"
#: A category named alone: not the second of "予以公开及部分公开N件" (that number is their sum).
_ALONE = "".join(f"(?<!{end}{conj})" for end in ("公开", "提供", "处理") for conj in ("以及", "及", "和", "与", "、", "或"))
#: Several categories, one number: "予以公开及部分公开12件", "不予公开和无法提供共3件".
_SEVERAL = re.compile(rf"(?P<cats>(?:{_CAT})(?:{_AND}(?:{_CAT}))+)(?:的|申请)?(?:共计|合计|共|总计)?{N}[件条]")

#: (pattern, table, rows, column). The first match of each pattern counts.
PATTERNS: list[tuple[re.Pattern[str], str, tuple[str, ...], str]] = [(re.compile(p), t, r, c) for p, t, r, c in [
    (rf"(?:新收|收到)[^。；，,]{{0,16}}?(?:政府信息公开|依申请公开)?(?:申请|信息){N}件", "table3", ("new_received",), "total"),
    (rf"受理[^。；，,]{{0,16}}?(?:政府信息公开|依申请公开)?(?:申请|信息){N}件", "table3", ("new_received",), "total"),
    (r"未(?:收到|受理)[^。；]{0,30}?政府信息公开申请()", "table3", ("new_received",), "total"),
    (rf"(?:上年|上一年度|\d{{4}}年度?)结转(?:至本年度)?{N}件", "table3", ("carried_over",), "total"),
    (rf"办结(?:数)?{N}件", "table3", ("total_processed",), "total"),
    (rf"结转(?:下一?年度|\d{{4}}年度?)继续办理{N}件", "table3", ("carried_forward",), "total"),
    (rf"{N}件结转下一?年度继续办理", "table3", ("carried_forward",), "total"),
    (rf"{_ALONE}予以(?:主动)?公开{N}[件条]", "table3", ("granted",), "total"),
    (rf"{_ALONE}部分公开{N}[件条]", "table3", ("partially_granted",), "total"),
    (rf"{_ALONE}不予公开{N}[件条]", "table3", ("denied.*",), "total"),
    (rf"{_ALONE}无法(?:提供|公开){N}[件条]", "table3", ("unable.*",), "total"),
    (rf"{_ALONE}不予处理{N}[件条]", "table3", ("not_processed.*",), "total"),
    (rf"{_ALONE}其他处理{N}[件条]", "table3", ("other.*",), "total"),
    (rf"制发(?:行政)?规范性文件{N}件", "table2", ("normative_docs",), "issued"),
    (rf"本年度?(?:共)?制发{N}件", "table2", ("normative_docs",), "issued"),
    (rf"规范性文件{N}件[^。]{{0,6}}废止{N}件", "table2", ("normative_docs",), "repealed"),
    (rf"现行有效(?:行政)?规范性文件{N}件", "table2", ("normative_docs",), "in_force"),
    (rf"{N}件(?:涉及政府信息公开(?:工作)?的)?行政复议", "table4", ("review",), "total"),
    (rf"(?:被申请)?行政复议(?:案件)?{N}件", "table4", ("review",), "total"),
    (rf"行政诉讼(?:案件)?(?:数为|数)?{N}件", "table4", ("litigation_direct", "litigation_after_review"), "total"),
    (r"未发生[^。；]{0,40}?行政复议()", "table4", ("review",), "total"),
]]


def statements(text: str, template: str | None = None) -> list[Statement]:
    """What the prose states; `template` drops statements about keys the template lacks."""
    flat = re.sub(r"\s+", "", nfkc(text))
    out: list[Statement] = []
    for several in _SEVERAL.finditer(flat):
        rows = tuple(dict.fromkeys(r for cat in re.findall(_CAT, several.group("cats")) for r in CATEGORIES[cat]))
        if len(rows) > 1 and not any(s.rows == rows for s in out):
            out.append(Statement("table3", rows, "total", int(several.group(2)), several.group(0)))
    for pattern, table, rows, column in PATTERNS:
        m = pattern.search(flat)
        if not m:
            continue
        if table == "table2" and template == "2019" and column in ("issued", "repealed", "in_force"):
            continue
        value = int(m.group(m.lastindex) or 0) if m.lastindex else 0
        if any(s.table == table and s.rows == rows and s.column == column for s in out):
            continue
        alt = ("new_received", "carried_over") if "受理" in m.group(0) else None
        out.append(Statement(table, rows, column, value, m.group(0), alt))
    return out
