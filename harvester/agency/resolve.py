"""Printed agency name (+ portal context) → `Identity`. Pure: no database."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from harvester.agency.divisions import Divisions, divisions

GOVERNMENT = "人民政府"
_SPACE = re.compile(r"\s+")
#: department spellings that mean the same organ, as (pattern, replacement) applied in order
_DEPARTMENT_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 临淄区政府办公室 = 临淄区人民政府办公室; on its own portal 区政府办公室 / 区人民政府办公室 too
    (re.compile(r"^(?:区|县|市|旗|省|自治区|自治州|自治县)?(?:人民)?政府"), GOVERNMENT),
    (re.compile(r"^$"), GOVERNMENT),  # a bare division (临淄区) speaks for its government
)


def normalize_name(name: str | None) -> str | None:
    """NFKC, all whitespace removed; None for an empty name."""
    if name is None:
        return None
    norm = _SPACE.sub("", unicodedata.normalize("NFKC", name))
    return norm or None


def canonical_department(department: str) -> str:
    for pattern, replacement in _DEPARTMENT_FORMS:
        department = pattern.sub(replacement, department, count=1)
    return department


@dataclass(frozen=True)
class Identity:
    key: str  # "370305:人民政府办公室", or "name:<normalized>" when no division could be told
    name: str  # the printed name, normalized
    division_code: str | None
    department: str | None  # "人民政府办公室"; None when filed by name
    level: str | None  # province | city | county | township (None when unknown)
    candidates: tuple[str, ...] = ()  # division codes the name could mean, when ambiguous
    via: str = "name"  # name | portal | ambiguous | unknown: what decided the division

    @property
    def is_government(self) -> bool:
        return self.department == GOVERNMENT

    @property
    def ambiguous(self) -> bool:
        return self.via == "ambiguous"


def parse(name: str, data: Divisions) -> tuple[list[tuple[str, ...]], str]:
    """Split 淄博市临淄区人民政府办公室 into the printed divisions' candidate codes
    ([(370300,), (370305,)]) and the department (人民政府办公室), longest names first."""
    chain: list[tuple[str, ...]] = []
    pos = 0
    while pos < len(name):
        for length in range(min(data.longest_name, len(name) - pos), 1, -1):
            codes = data.by_name.get(name[pos:pos + length])
            if codes:
                chain.append(codes)
                pos += length
                break
        else:
            break
    return chain, name[pos:]


def _consistent(chain: list[tuple[str, ...]], data: Divisions) -> tuple[str, ...]:
    """Codes of the innermost printed division that lie inside one of each outer printed one."""
    inner = chain[-1]
    return tuple(c for c in inner
                 if all(any(data.within(c, outer) for outer in codes) for codes in chain[:-1]))


def _fit_portal(candidates: tuple[str, ...], portal_code: str, data: Divisions) -> tuple[str, ...]:
    for fits in (lambda c: c == portal_code, lambda c: data.within(c, portal_code),
                 lambda c: data.within(portal_code, c)):
        hit = tuple(c for c in candidates if fits(c))
        if hit:
            return hit
    return ()


@lru_cache(maxsize=4096)
def portal_division(portal_code: str | None, portal_agency: str | None) -> str | None:
    """The portal's division: its registry code, else the one its agency's name names unambiguously."""
    data = divisions()
    if portal_code and portal_code in data.by_code:
        return portal_code
    norm = normalize_name(portal_agency)
    if norm:
        chain, _ = parse(norm, data)
        if chain:
            codes = _consistent(chain, data)
            if len(codes) == 1:
                return codes[0]
    return None


@lru_cache(maxsize=65536)
def resolve(printed: str, portal_code: str | None = None, portal_agency: str | None = None) -> Identity:
    """The identity of the agency printed as `printed` on a portal of division `portal_code`
    (registry agency `portal_agency`); both may be None (a file ingested from disk)."""
    from harvester.extract.level import agency_level

    name = normalize_name(printed)
    if name is None:
        raise ValueError("resolve() needs a non-empty agency name")
    data = divisions()
    context = portal_division(portal_code, portal_agency)
    chain, rest = parse(name, data)
    department = canonical_department(rest)
    candidates = _consistent(chain, data) if chain else ()
    if not chain:
        code, via = (context, "portal") if context else (None, "unknown")
    elif len(candidates) == 1:
        code, via = candidates[0], "name"
    elif not candidates:
        code, via = None, "unknown"  # divisions that do not nest (a typo, a new division)
    else:
        fit = _fit_portal(candidates, context, data) if context else ()
        code, via = (fit[0], "portal") if len(fit) == 1 else (None, "ambiguous")
    if code is None:
        return Identity(f"name:{name}", name, None, None, agency_level(name), candidates, via)
    level = agency_level(department) if agency_level(department) == "township" else data.by_code[code].level
    return Identity(f"{code}:{department}", name, code, department, level, (), via)


def government_name(code: str) -> str:
    """淄博市临淄区人民政府: the name of the government of division `code`."""
    return divisions().full_name(code) + GOVERNMENT
