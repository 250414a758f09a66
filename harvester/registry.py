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
    level = "district"       # see LEVELS (province, city-department, township, ...)
    cms = "trs"              # see CMS_FAMILIES (how the column lists and pages; spiders/cms.py)
    start_urls = ["http://www.laishan.gov.cn/zwgk/zfxxgknb/index.html"]   # the 年报 column(s)
    report_urls = ["http://www.laishan.gov.cn/zwgk/zfxxgknb/202401/t20240119_1.html"]  # known reports
    years = [2021, 2022, 2023]              # optional: only follow reports of these years
    allowed_hosts = ["file.laishan.gov.cn"] # optional: other hosts of the same portal
    division_code = "370613"                # optional: GB/T 2260 code of the portal's area
    province = "山东"                        # optional
    root_url = "http://www.laishan.gov.cn/" # optional: the site's home page (discovery)
    status = "unverified"                   # unverified | verified | blocked | gone
    source = "public web page …"            # optional: where the entry came from
    notes = "…"                             # optional
    expect = ["blocked"]                    # optional: outcomes that do not fail a crawl
                                            #   (empty | blocked | gone | robots | failed)
    http_only = true                        # optional: rewrite https start URLs to http
    user_agent = "browser"                  # optional: "browser" or a literal User-Agent
    warmup = "http://www.laishan.gov.cn/"   # optional: fetched first, its cookies kept

    [portal.params]                         # optional: family parameters (sid, category, channelid…)
    sid = "2"

    [portal.selectors]                      # optional, all CSS except `attachment` (a regex)
    list_item = "ul.list li a"              # links to detail pages on a list page
    next_page = "a.next"                    # link(s) to the next list page
    content = "div.TRS_Editor"              # detail-page container holding the report
    attachment = "/uploadfile/.+"           # extra attachment URL pattern (regex, search)

An entry needs `start_urls` or `report_urls` (or both).

Adding a portal that runs on a known CMS family is one entry: no code.
"""
from __future__ import annotations

import os
import re

import rtoml
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from harvester.errors import ConfigError

CMS_FAMILIES = ("trs", "hanweb", "gkmlpt", "fjsearch", "vsb", "ucap", "anhui", "generic")
LEVELS = ("national", "national-department", "national-other", "province", "province-department",
          "province-other", "city", "city-department", "county", "county-department", "district",
          "district-department", "township", "department")
STATUSES = ("unverified", "verified", "blocked", "gone")
EXPECTABLE = ("empty", "blocked", "gone", "robots", "failed")
#: `user_agent = "browser"`: what a desktop browser sends (some portals answer nothing else).
BROWSER_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/124.0.0.0 Safari/537.36")
DEFAULT_REGISTRY = Path(__file__).with_name("portals.toml")
ENV_VAR = "HARVESTER_REGISTRY"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?$")
_SELECTOR_KEYS = ("list_item", "next_page", "content", "attachment")
_PORTAL_KEYS = ("id", "name", "agency", "level", "cms", "start_urls", "report_urls", "years",
                "allowed_hosts", "division_code", "province", "root_url", "status", "source", "notes",
                "expect", "http_only", "user_agent", "warmup", "params", "selectors")


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
    file: str = "<inline>"
    report_urls: tuple[str, ...] = ()
    province: str | None = None
    root_url: str | None = None
    status: str = "unverified"
    source: str | None = None
    notes: str | None = None
    expect: tuple[str, ...] = ()
    http_only: bool = False
    user_agent: str | None = None
    warmup: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        where = f"{self.file}: portal {self.id!r}"
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ConfigError(f"{self.file}: portal field 'id' = {self.id!r}: must match {_ID_RE.pattern}")
        for name in ("name", "agency"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: field {name!r} = {value!r}: must be a non-empty string")
        if self.level not in LEVELS:
            raise ConfigError(f"{where}: field 'level' = {self.level!r}: must be one of {', '.join(LEVELS)}")
        if self.cms not in CMS_FAMILIES:
            raise ConfigError(f"{where}: field 'cms' = {self.cms!r}: unknown CMS family, "
                              f"expected one of {', '.join(CMS_FAMILIES)}")
        if not isinstance(self.start_urls, tuple) or not (self.start_urls or self.report_urls):
            raise ConfigError(f"{where}: field 'start_urls' = {self.start_urls!r}: must be a non-empty list "
                              "(or give report_urls)")
        for name in ("start_urls", "report_urls"):
            for url in getattr(self, name):
                if not _is_url(url):
                    raise ConfigError(f"{where}: field {name!r} value {url!r}: must be an absolute http(s) URL")
        for name in ("root_url", "warmup"):
            value = getattr(self, name)
            if value is not None and not _is_url(value):
                raise ConfigError(f"{where}: field {name!r} = {value!r}: must be an absolute http(s) URL")
        if self.status not in STATUSES:
            raise ConfigError(f"{where}: field 'status' = {self.status!r}: must be one of {', '.join(STATUSES)}")
        for value in self.expect:
            if value not in EXPECTABLE:
                raise ConfigError(f"{where}: field 'expect' value {value!r}: must be one of {', '.join(EXPECTABLE)}")
        if not isinstance(self.http_only, bool):
            raise ConfigError(f"{where}: field 'http_only' = {self.http_only!r}: must be true or false")
        for name in ("province", "source", "notes", "user_agent"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{where}: field {name!r} = {value!r}: must be a non-empty string")
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
        """Hosts that belong to this portal: the start and report URLs' hosts plus `allowed_hosts`."""
        return frozenset({urlsplit(u).hostname.lower() for u in (*self.start_urls, *self.report_urls)}
                         | {h.lower().split(":")[0] for h in self.allowed_hosts})

    def param(self, name: str, default: str | None = None) -> str | None:
        return dict(self.params).get(name, default)

    @property
    def browser_user_agent(self) -> str | None:
        """The User-Agent this portal needs, or None for the crawler's own."""
        if self.user_agent is None:
            return None
        return BROWSER_USER_AGENT if self.user_agent == "browser" else self.user_agent

    def fetch_url(self, url: str) -> str:
        """`url` as this portal is fetched: `http_only` portals are asked over plain http."""
        if self.http_only and url.startswith("https://"):
            return "http://" + url[len("https://"):]
        return url

    def allows_year(self, year: int | None) -> bool:
        return year is None or self.years is None or year in self.years


_URL_RE = re.compile(r"^https?://[^\s/?#@:]+(?::\d{1,5})?(?:[/?#]\S*)?$", re.IGNORECASE)


def _is_url(url: Any) -> bool:
    """An absolute http(s) URL with a host (a regex: urlsplit is most of the load time at 5,000 entries)."""
    return isinstance(url, str) and bool(_URL_RE.match(url))


def _url_list(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field {key!r} = {value!r}: must be a list of URLs")
    return tuple(value)


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
    for key in ("name", "agency", "level", "cms"):
        if key not in data:
            raise ConfigError(f"{where}: missing field {key!r}")
    if "start_urls" not in data and "report_urls" not in data:
        raise ConfigError(f"{where}: missing field 'start_urls' (or 'report_urls')")
    start_urls = _url_list(data, "start_urls", where)
    report_urls = _url_list(data, "report_urls", where)
    params = data.get("params", {})
    if not isinstance(params, Mapping) or any(not isinstance(v, (str, int)) or isinstance(v, bool)
                                              for v in params.values()):
        raise ConfigError(f"{where}: field 'params' = {params!r}: must be a table of strings or integers")
    expect = data.get("expect", [])
    if isinstance(expect, str):
        expect = [expect]
    if not isinstance(expect, list):
        raise ConfigError(f"{where}: field 'expect' = {expect!r}: must be a list")
    warmup = data.get("warmup")
    if warmup is True:
        warmup = data.get("root_url")
        if warmup is None:
            raise ConfigError(f"{where}: field 'warmup' = true needs 'root_url' (or give the URL)")
    elif warmup is False:
        warmup = None
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
        start_urls=start_urls, selectors=Selectors(**dict(sel)),
        years=tuple(years) if years is not None else None, allowed_hosts=tuple(hosts),
        division_code=str(code) if code is not None else None, file=source, report_urls=report_urls,
        province=data.get("province"), root_url=data.get("root_url"), status=data.get("status", "unverified"),
        source=data.get("source"), notes=data.get("notes"), expect=tuple(expect),
        http_only=data.get("http_only", False), user_agent=data.get("user_agent"), warmup=warmup,
        params=tuple((str(k), str(v)) for k, v in params.items()),
    )


class Registry(Mapping[str, Portal]):
    """An ordered, read-only id -> Portal mapping."""

    def __init__(self, portals: Iterable[Portal] = ()) -> None:
        self._portals: dict[str, Portal] = {}
        for p in portals:
            self.add(p)

    def add(self, portal: Portal) -> None:
        if portal.id in self._portals:
            first = self._portals[portal.id].file
            raise ConfigError(f"{portal.file}: portal field 'id' = {portal.id!r}: duplicate id "
                              f"(already defined in {first})")
        self._portals[portal.id] = portal

    def __getitem__(self, key: str) -> Portal:
        return self._portals[key]

    def __iter__(self):
        return iter(self._portals)

    def __len__(self) -> int:
        return len(self._portals)

    def for_all(self, *, with_bundled: bool = False) -> list[Portal]:
        """What `--all` crawls. With user files loaded (`--registry`, $HARVESTER_REGISTRY), only
        their portals, plus the bundled ones when `with_bundled`; without user files, the bundled
        registry. Portal ids given by name resolve against every loaded file either way."""
        user = [p for p in self._portals.values() if p.file != str(DEFAULT_REGISTRY)]
        if not user:
            return list(self._portals.values())
        if with_bundled:
            return list(self._portals.values())
        return user

    def select(self, ids: Iterable[str]) -> list[Portal]:
        """The portals with these ids, in the given order; unknown ids are a ConfigError."""
        out = []
        for pid in ids:
            if pid not in self._portals:
                raise ConfigError(self.unknown(pid))
            out.append(self._portals[pid])
        return out

    def unknown(self, pid: str) -> str:
        """The error message for an unknown id: the closest registered ids (difflib), never all of them."""
        import difflib

        close = difflib.get_close_matches(pid, self._portals, n=5, cutoff=0.6)
        if not close:  # a typo in the host part: compare the part before the column
            head = pid.split("-")[0]
            close = [p for p in self._portals if p.split("-")[0] == head][:5]
        hint = f"did you mean: {', '.join(close)}?" if close else \
            f"{len(self._portals)} registered; see `harvester portals list`"
        return f"unknown portal id {pid!r}; {hint}"


def _toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML with rtoml (Rust; tomllib takes seconds on a 5,000-entry registry)."""
    try:
        return rtoml.loads(text)
    except rtoml.TomlParsingError as exc:
        raise ConfigError(f"{source}: not valid TOML: {' '.join(str(exc).split())}") from None


def parse_toml(text: str, source: str = "<string>") -> list[Portal]:
    doc = _toml(text, source)
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


# ---------------------------------------------------------------------- ids
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def host_slug(url: str) -> str:
    """`https://www.km.gov.cn/…` -> `km`; `http://rsj.sh.gov.cn/` -> `rsj-sh`."""
    host = (urlsplit(url).hostname or "").lower()
    host = re.sub(r"^www\.", "", host)
    host = re.sub(r"\.(gov\.cn|com\.cn|org\.cn|cn|com)$", "", host)
    return _slug(host) or "portal"


def suggest_id(column_url: str = "", report_url: str = "", root_url: str = "") -> str:
    """The id rule of generated and discovered entries: host slug + the column's last path
    segment (`km-zfxxgkndbgzt`), or `-nb` when only a report (or root) URL is known."""
    if column_url:
        parts = [re.sub(r"\.(s?html?|jsp)$", "", p) for p in urlsplit(column_url).path.split("/") if p]
        parts = [p for p in parts if p not in ("index", "")]
        tail = _slug(parts[-1]) if parts else "col"
        return f"{host_slug(column_url)}-{tail or 'col'}"
    return f"{host_slug(report_url or root_url)}-nb"


# ---------------------------------------------------------------------- roots
DEFAULT_ROOTS = Path(__file__).with_name("roots.toml")
_ROOT_KEYS = ("agency", "level", "province", "division_code", "url", "status", "source", "notes")


@dataclass(frozen=True)
class Root:
    """A portal's home page with no 年报 column known yet: input of `harvester portals discover`."""

    agency: str
    level: str
    url: str
    province: str | None = None
    division_code: str | None = None
    status: str = "unverified"
    source: str | None = None
    notes: str | None = None
    file: str = "<inline>"

    def __post_init__(self) -> None:
        where = f"{self.file}: root {self.url!r}"
        if self.status not in STATUSES:
            raise ConfigError(f"{where}: field 'status' = {self.status!r}: must be one of {', '.join(STATUSES)}")
        if not _is_url(self.url):
            raise ConfigError(f"{where}: field 'url' = {self.url!r}: must be an absolute http(s) URL")
        if not isinstance(self.agency, str) or not self.agency.strip():
            raise ConfigError(f"{where}: field 'agency' = {self.agency!r}: must be a non-empty string")
        if self.level not in LEVELS:
            raise ConfigError(f"{where}: field 'level' = {self.level!r}: must be one of {', '.join(LEVELS)}")
        if self.division_code is not None and not re.fullmatch(r"\d{6}", str(self.division_code)):
            raise ConfigError(f"{where}: field 'division_code' = {self.division_code!r}: must be 6 digits")


def load_roots(path: str | Path = DEFAULT_ROOTS) -> list[Root]:
    """The `[[root]]` entries of a roots file (the bundled `harvester/roots.toml` by default)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"roots file {str(path)!r}: cannot read ({exc.strerror or exc})") from None
    doc = _toml(text, str(path))
    out = []
    for data in doc.get("root", []):
        for key in data:
            if key not in _ROOT_KEYS:
                raise ConfigError(f"{path}: root {data.get('url')!r}: unknown field {key!r} "
                                  f"(known: {', '.join(_ROOT_KEYS)})")
        for key in ("agency", "level", "url"):
            if key not in data:
                raise ConfigError(f"{path}: root {data.get('url')!r}: missing field {key!r}")
        out.append(Root(**data, file=str(path)))
    return out


__all__ = ["Root", "load_roots", "suggest_id", "host_slug", "Portal", "Selectors", "Registry", "load", "load_file", "parse_toml", "portal_from_mapping",
           "CMS_FAMILIES", "LEVELS", "STATUSES", "EXPECTABLE", "DEFAULT_REGISTRY"]
