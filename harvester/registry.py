"""The portal registry: which government portals to harvest and how to walk them.

Entries live in TOML files. The bundled `harvester/portals.toml` is always read;
extra files given with `--registry FILE` (repeatable) or the `HARVESTER_REGISTRY`
environment variable (paths separated by `os.pathsep`) add entries. An extra
file may not redefine an id that is already registered (duplicate ids are an
error, never a silent override).

One entry per portal (the 年报 column of one agency's site)::

    [[portal]]
    id = "laishan-zfb"                       # unique, [a-z0-9][a-z0-9_-]*
    name = "烟台市莱山区人民政府 政府信息公开年报"
    agency = "烟台市莱山区人民政府办公室"
    level = "district"       # province | city | county | district | department | township
    cms = "trs"              # trs | hanweb | generic  (the CMS family: how lists page)
    start_urls = ["http://www.laishan.gov.cn/zwgk/zfxxgknb/index.html"]
    years = [2021, 2022, 2023]              # optional: only follow reports of these years
    allowed_hosts = ["file.laishan.gov.cn"] # optional: other hosts of the same portal
    division_code = "370613"                # optional: GB/T 2260 code of the portal's area

    [portal.selectors]                      # optional, all CSS except `attachment` (a regex)
    list_item = "ul.list li a"              # links to detail pages on a list page
    next_page = "a.next"                    # link(s) to the next list page
    content = "div.TRS_Editor"              # detail-page container holding the report
    attachment = "/uploadfile/.+"           # extra attachment URL pattern (regex, search)

Adding a portal that runs on a known CMS family is one entry: no code.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from harvester.errors import ConfigError

CMS_FAMILIES = ("trs", "hanweb", "generic")
LEVELS = ("province", "city", "county", "district", "department", "township")
DEFAULT_REGISTRY = Path(__file__).with_name("portals.toml")
ENV_VAR = "HARVESTER_REGISTRY"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?$")
_SELECTOR_KEYS = ("list_item", "next_page", "content", "attachment")
_PORTAL_KEYS = ("id", "name", "agency", "level", "cms", "start_urls", "years", "allowed_hosts",
                "division_code", "selectors")


@dataclass(frozen=True)
class Selectors:
    list_item: str | None = None
    next_page: str | None = None
    content: str | None = None
    attachment: str | None = None


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    agency: str
    level: str
    cms: str
    start_urls: tuple[str, ...]
    selectors: Selectors = field(default_factory=Selectors)
    years: tuple[int, ...] | None = None
    allowed_hosts: tuple[str, ...] = ()
    division_code: str | None = None
    source: str = "<inline>"

    def __post_init__(self) -> None:
        where = f"{self.source}: portal {self.id!r}"
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ConfigError(f"{self.source}: portal field 'id' = {self.id!r}: must match {_ID_RE.pattern}")
        for name in ("name", "agency"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: field {name!r} = {value!r}: must be a non-empty string")
        if self.level not in LEVELS:
            raise ConfigError(f"{where}: field 'level' = {self.level!r}: must be one of {', '.join(LEVELS)}")
        if self.cms not in CMS_FAMILIES:
            raise ConfigError(f"{where}: field 'cms' = {self.cms!r}: unknown CMS family, "
                              f"expected one of {', '.join(CMS_FAMILIES)}")
        if not isinstance(self.start_urls, tuple) or not self.start_urls:
            raise ConfigError(f"{where}: field 'start_urls' = {self.start_urls!r}: must be a non-empty list")
        for url in self.start_urls:
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"{where}: field 'start_urls' value {url!r}: must be an absolute http(s) URL")
        if self.years is not None:
            if not self.years or any(not isinstance(y, int) or isinstance(y, bool) or not 2000 <= y <= 2100
                                     for y in self.years):
                raise ConfigError(f"{where}: field 'years' = {list(self.years)!r}: "
                                  "must be a non-empty list of years 2000-2100")
        for host in self.allowed_hosts:
            if not isinstance(host, str) or not _HOST_RE.match(host):
                raise ConfigError(f"{where}: field 'allowed_hosts' value {host!r}: must be a bare host name")
        if self.division_code is not None and not re.fullmatch(r"\d{6}", str(self.division_code)):
            raise ConfigError(f"{where}: field 'division_code' = {self.division_code!r}: must be 6 digits")
        if self.selectors.attachment:
            try:
                re.compile(self.selectors.attachment)
            except re.error as exc:
                raise ConfigError(f"{where}: field 'selectors.attachment' = {self.selectors.attachment!r}: "
                                  f"bad regular expression ({exc})") from None

    @property
    def hosts(self) -> frozenset[str]:
        """Hosts that belong to this portal: the start URLs' hosts plus `allowed_hosts`."""
        return frozenset({urlsplit(u).hostname.lower() for u in self.start_urls}
                         | {h.lower().split(":")[0] for h in self.allowed_hosts})

    def allows_year(self, year: int | None) -> bool:
        return year is None or self.years is None or year in self.years


def portal_from_mapping(data: Mapping[str, Any], source: str = "<inline>") -> Portal:
    """Build one `Portal` from a TOML table, rejecting unknown or mistyped fields."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: portal entry = {data!r}: must be a table")
    pid = data.get("id")
    where = f"{source}: portal {pid!r}"
    if pid is None:
        raise ConfigError(f"{source}: portal entry {dict(data)!r}: missing field 'id'")
    for key in data:
        if key not in _PORTAL_KEYS:
            raise ConfigError(f"{where}: unknown field {key!r} = {data[key]!r} "
                              f"(known: {', '.join(_PORTAL_KEYS)})")
    for key in ("name", "agency", "level", "cms", "start_urls"):
        if key not in data:
            raise ConfigError(f"{where}: missing field {key!r}")
    start_urls = data["start_urls"]
    if isinstance(start_urls, str):
        start_urls = [start_urls]
    if not isinstance(start_urls, list):
        raise ConfigError(f"{where}: field 'start_urls' = {start_urls!r}: must be a list of URLs")
    sel = data.get("selectors", {})
    if not isinstance(sel, Mapping):
        raise ConfigError(f"{where}: field 'selectors' = {sel!r}: must be a table")
    for key, value in sel.items():
        if key not in _SELECTOR_KEYS:
            raise ConfigError(f"{where}: unknown field 'selectors.{key}' = {value!r} "
                              f"(known: {', '.join(_SELECTOR_KEYS)})")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: field 'selectors.{key}' = {value!r}: must be a non-empty string")
    years = data.get("years")
    if years is not None and not isinstance(years, list):
        raise ConfigError(f"{where}: field 'years' = {years!r}: must be a list of years")
    hosts = data.get("allowed_hosts", [])
    if not isinstance(hosts, list):
        raise ConfigError(f"{where}: field 'allowed_hosts' = {hosts!r}: must be a list of host names")
    code = data.get("division_code")
    return Portal(
        id=pid, name=data["name"], agency=data["agency"], level=data["level"], cms=data["cms"],
        start_urls=tuple(start_urls), selectors=Selectors(**dict(sel)),
        years=tuple(years) if years is not None else None, allowed_hosts=tuple(hosts),
        division_code=str(code) if code is not None else None, source=source,
    )


class Registry(Mapping[str, Portal]):
    """An ordered, read-only id -> Portal mapping."""

    def __init__(self, portals: Iterable[Portal] = ()) -> None:
        self._portals: dict[str, Portal] = {}
        for p in portals:
            self.add(p)

    def add(self, portal: Portal) -> None:
        if portal.id in self._portals:
            first = self._portals[portal.id].source
            raise ConfigError(f"{portal.source}: portal field 'id' = {portal.id!r}: duplicate id "
                              f"(already defined in {first})")
        self._portals[portal.id] = portal

    def __getitem__(self, key: str) -> Portal:
        return self._portals[key]

    def __iter__(self):
        return iter(self._portals)

    def __len__(self) -> int:
        return len(self._portals)

    def select(self, ids: Iterable[str]) -> list[Portal]:
        """The portals with these ids, in the given order; unknown ids are a ConfigError."""
        out = []
        for pid in ids:
            if pid not in self._portals:
                known = ", ".join(self._portals) or "(none)"
                raise ConfigError(f"unknown portal id {pid!r}; registered: {known}")
            out.append(self._portals[pid])
        return out


def parse_toml(text: str, source: str = "<string>") -> list[Portal]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    for key in doc:
        if key != "portal":
            raise ConfigError(f"{source}: unknown top-level key {key!r}; entries go in [[portal]] tables")
    entries = doc.get("portal", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: 'portal' must be an array of tables ([[portal]])")
    return [portal_from_mapping(e, source) for e in entries]


def load_file(path: str | Path) -> list[Portal]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"registry file {str(path)!r}: cannot read ({exc.strerror or exc})") from None
    return parse_toml(text, str(path))


def load(extra: Iterable[str | Path] = (), *, include_default: bool = True, use_env: bool = True) -> Registry:
    """The bundled registry, then `HARVESTER_REGISTRY` files, then `extra` files."""
    files: list[Path] = [DEFAULT_REGISTRY] if include_default else []
    if use_env and os.environ.get(ENV_VAR):
        files += [Path(p) for p in os.environ[ENV_VAR].split(os.pathsep) if p]
    files += [Path(p) for p in extra]
    reg = Registry()
    seen: set[Path] = set()
    for f in files:
        key = f.resolve()
        if key in seen:  # the same file named twice is not a duplicate definition
            continue
        seen.add(key)
        for portal in load_file(f):
            reg.add(portal)
    return reg


__all__ = ["Portal", "Selectors", "Registry", "load", "load_file", "parse_toml", "portal_from_mapping",
           "CMS_FAMILIES", "LEVELS", "DEFAULT_REGISTRY"]
