"""The administrative level of an agency, where its name shows it (临汾市尧都区… → county).

The innermost division named decides: 省/自治区 → province (and the four municipalities
北京/上海/天津/重庆 市), 市/州/盟/地区 → city, 区/县/旗 → county, 乡/镇/街道 → township;
国务院/国家… → national. A name with no division (工业和信息化局) gives None.
"""
from __future__ import annotations

import re

_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_NATIONAL = re.compile(r"^(?:国务院|国家|中华人民共和国|中国)")
#: (pattern, level) — suffixes of place names; lookaheads skip words like 市场 / 区域 / 社区.
_DIVISIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:乡|镇|街道)(?!村|长|干部)"), "township"),
    (re.compile(r"(?<!社|小|园|景)区(?!域|划|间)|县(?!域|级)|旗"), "county"),
    (re.compile(r"市(?!场|容|民|级|直)|自治州|州|盟|地区"), "city"),
    (re.compile(r"省|自治区"), "province"),
]
_RANK = {"township": 4, "county": 3, "city": 2, "province": 1}


def agency_level(name: str | None) -> str | None:
    if not name:
        return None
    if _NATIONAL.match(name):
        return "national"
    found: list[tuple[int, str]] = []
    for pattern, level in _DIVISIONS:
        for m in pattern.finditer(name):
            found.append((m.end(), level))
    if not found:
        return None
    # the division named last before the organ's own name is the innermost one
    deepest = max(found, key=lambda f: (f[0], _RANK[f[1]]))[1]
    if deepest == "city" and name.startswith(_MUNICIPALITIES) and not any(
            lvl in ("county", "township") for _, lvl in found):
        return "province"
    return deepest


def split_division_prefix(name: str) -> tuple[str, str]:
    """("淄博市", "临淄区人民政府办公室") for 淄博市临淄区人民政府办公室: the outer divisions named before the
    innermost one, and the name from the innermost division on. ("", name) when there is no outer one."""
    ends = sorted({m.end() for pattern, _ in _DIVISIONS for m in pattern.finditer(name)})
    ends = [e for e in ends if e < len(name)]
    if len(ends) < 2:
        return "", name
    cut = ends[-2]
    return name[:cut], name[cut:]
