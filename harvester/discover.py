"""Discovery: from a portal's home page (or its 政府信息公开 page) to its 年报 column(s).

`discover(url, fetch, budget)` walks at most `budget` pages, best first:

1. links whose text names the annual-report column (`COLUMN_TEXT`: 政府信息公开年报, 年度报告, …)
   and whose URL is not a report page are *column candidates*;
2. links to the disclosure section (`SECTION_TEXT`: 政府信息公开, 信息公开, 政务公开) come next;
3. once a column is found, only column links and sub-columns are still fetched;
4. a page reached through a column link is a column (its first-page report links are counted,
   `MACHINERY` tells a JS/JSON-driven list); its list-shaped links under its folder are its
   sub-columns (year sub-folders, department sub-trees), fetched within the budget too.

The CMS family is read from the column page by `CMS_SIGNS` (first match). Pages are fetched
through `fetch(url) -> Page` (`http_fetcher` in the CLI: urllib, robots.txt obeyed,
`--host-map` aware). Nothing is stored. Never raises on a bad page: a blocked root
(`harvester.blocked` rules) ends discovery with `blocked` set.
"""
from __future__ import annotations

import heapq
import re
import ssl
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urljoin, urlsplit

from harvester.blocked import _decode, classify, is_html
from harvester.spiders import links as L

#: Link text of an annual-report column (not of one report: those carry a year).
COLUMN_TEXT = re.compile(r"(政府)?信息公开(工作)?年(度)?报(告)?|年度报告|^年报$|公开年报|年报专栏|年报专题")
#: Link text of the disclosure section that holds the column.
SECTION_TEXT = re.compile(r"^(政府|政务)?信息公开$|政府信息公开(专栏|目录|平台)?$|^政务公开$|法定主动公开")
#: (family, pattern searched in the column page). First match wins; else "generic".
CMS_SIGNS: tuple[tuple[str, str], ...] = (
    ("gkmlpt", r"window\._CONFIG|/gkmlpt/api/"),
    ("hanweb", r"/module/web/jpage/|xxgkAnnualReport\.jsp|<datastore>|/col/col\d+/|\?uid=[\w-]+&(?:amp;)?pageNum=\d"),
    ("fjsearch", r"fjdzapp|\bchannelid\s*[:=]"),
    ("anhui", r"AnnualReport/show/\d+"),
    ("vsb", r"/system/resource/|vsb_content|p_pages|/info/\d+/\d+\.htm"),
    ("ucap", r"/\d{6}/[0-9a-f]{32}\.shtml"),
    ("trs", r"createPageHTML|countPage|/t\d{8}_\d+\.s?html?"),
)
#: A page of list machinery with no plain report links yet (lists come from JS/JSON).
MACHINERY = re.compile(r"window\._CONFIG|xxgkAnnualReport\.jsp|\bchannelid\s*[:=]|<datastore>|createPageHTML|"
                       r"AnnualReport/show/")
_PAGING = re.compile(r"/(index|list|default)_\d+\.\w+$")


@dataclass(frozen=True)
class Page:
    url: str
    status: int | None
    body: bytes = b""
    content_type: str | None = None
    error: str | None = None


@dataclass
class Column:
    url: str
    cms: str
    text: str
    reports: list[tuple[str, str]] = field(default_factory=list)
    sub_columns: list["Column"] = field(default_factory=list)
    listing: bool = False  # its page lists reports or has a family's list machinery


@dataclass
class Discovery:
    start: str
    columns: list[Column] = field(default_factory=list)
    pages: list[tuple[str, int | None]] = field(default_factory=list)  # (url, status) in fetch order
    blocked: str | None = None                                         # reason, when the start is blocked
    title: str | None = None                                           # the start page's <title>

    @property
    def column_urls(self) -> list[str]:
        return [c.url for c in self.columns]


def detect_cms(text: str) -> str:
    return next((fam for fam, pat in CMS_SIGNS if re.search(pat, text)), "generic")


def _anchors(page: Page, text: str) -> list[tuple[str, str]]:
    from parsel import Selector

    out = []
    for a in Selector(text=text).css("a[href]"):
        href = (a.attrib.get("href") or "").strip()
        label = " ".join(" ".join(a.css("::text").getall()).split()) or a.attrib.get("title", "")
        url = urljoin(page.url, href).split("#")[0]
        if L.is_fetchable(url):
            out.append((url, label))
    return out


def _folder(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/"


def _under(url: str, column: str) -> bool:
    """`url` is a list page below `column`'s folder (not the column or its own index page)."""
    base = _folder(column)
    return url.startswith(base) and _folder(url) != base if L.LIST_URL_RE.search(url) else False


def _sub_column_link(url: str, text: str, column: str) -> bool:
    return (L.is_sub_column_url(url) and _under(url, column) and not _PAGING.search(url)
            and not L.NOT_REPORT_TEXT_RE.search(text) and not L.NEXT_TEXT_RE.match(text))


def discover(start: str, fetch: Callable[[str], Page], budget: int = 30) -> Discovery:
    """Find the 年报 column(s) reachable from `start` in at most `budget` fetches."""
    result = Discovery(start)
    host = L.host_of(start)
    queue: list[tuple[int, int, str, str]] = [(0, 0, start, "")]  # (priority, order, url, link text)
    seen: set[str] = {start}
    order = 0
    columns: dict[str, Column] = {}

    def push(priority: int, url: str, label: str) -> None:
        nonlocal order
        if url not in seen and L.host_of(url) == host:
            seen.add(url)
            order += 1
            heapq.heappush(queue, (priority, order, url, label))

    while queue and len(result.pages) < budget:
        priority, _, url, label = heapq.heappop(queue)
        if priority > 1 and columns:  # a column is found: only its siblings and sub-columns remain
            continue
        page = fetch(url)
        result.pages.append((url, page.status))
        if page.status is None or not page.body:
            continue
        rule = classify(page.status, page.body, page.content_type)
        if rule is not None:
            if url == start:
                result.blocked = f"{rule.kind}: {rule.reason} (HTTP {page.status})"
                return result
            continue
        if not (200 <= page.status < 300) or not is_html(page.body, page.content_type):
            continue
        text = _decode(page.body)
        if url == start:
            m = re.search(r"<title[^>]*>(.*?)</title>", text, re.S | re.I)
            result.title = " ".join(m.group(1).split()) if m else None
        anchors = _anchors(page, text)
        reports = [(u, t) for u, t in anchors if t and L.looks_like_report(t, u) and not COLUMN_TEXT.fullmatch(t)
                   and L.report_year(t)]
        parent = next((c for c in reversed(list(_walk(columns.values()))) if _under(url, c.url)), None)
        if (priority <= 1 and url != start) or parent is not None:  # a column (its link said so) or below one
            col = Column(url, detect_cms(text), label, reports,
                         listing=bool(reports or MACHINERY.search(text) or any(
                             _sub_column_link(u, t, url) for u, t in anchors)))
            if parent is not None:
                parent.sub_columns.append(col)
            else:
                columns[url] = col
            for u, t in anchors:  # sub-columns: year sub-folders, department sub-trees
                if _sub_column_link(u, t, url):
                    push(1, u, t)
            continue
        for u, t in anchors:
            if L.is_attachment(u) or L.DETAIL_URL_RE.search(urlsplit(u).path):
                continue
            if COLUMN_TEXT.search(t) and not L.report_year(t):
                push(1, u, t)
            elif SECTION_TEXT.search(t):
                push(2, u, t)
    # columns whose page shows a list first (stable: discovery order otherwise)
    result.columns = sorted(columns.values(), key=lambda c: not c.listing)
    return result


def _walk(cols):
    for c in cols:
        yield c
        yield from _walk(c.sub_columns)


# ---------------------------------------------------------------------- fetching for the CLI
def http_fetcher(host_map: Mapping[str, str] | None = None, user_agent: str | None = None,
                 timeout: float = 20.0, obey_robots: bool = True) -> Callable[[str], Page]:
    """`fetch(url) -> Page` over urllib. Hosts in `host_map` go through that address as a proxy
    (absolute-URI requests for http, CONNECT for https, certificate not verified for them only);
    robots.txt is obeyed per host; errors come back as `Page(status=None, error=…)`."""
    from harvester.crawl_settings import USER_AGENT

    agent = user_agent or USER_AGENT
    host_map = dict(host_map or {})
    robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
    import http.cookiejar

    jar = http.cookiejar.CookieJar()  # a cookie-setting redirect (WAF warm-up) is followed like a browser

    def opener(url: str):
        host = L.host_of(url)
        handlers: list = [urllib.request.HTTPCookieProcessor(jar)]
        if host in host_map:
            proxy = f"http://{host_map[host]}"
            handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        else:
            handlers.append(urllib.request.ProxyHandler({}))
        return urllib.request.build_opener(*handlers)

    def raw(url: str) -> Page:
        # http.client sends headers as latin-1: pass the UTF-8 bytes of the agent (as Scrapy does)
        req = urllib.request.Request(url, headers={"User-Agent": agent.encode("utf-8").decode("latin-1")})
        try:
            with opener(url).open(req, timeout=timeout) as resp:
                return Page(resp.geturl(), resp.status, resp.read(), resp.headers.get("Content-Type"))
        except urllib.error.HTTPError as exc:
            return Page(url, exc.code, exc.read() or b"", exc.headers.get("Content-Type"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Page(url, None, error=f"{type(exc).__name__}: {exc}")

    def allowed(url: str) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in robots:
            page = raw(key + "/robots.txt")
            parser = None
            if page.status == 200 and page.body:
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(_decode(page.body).splitlines())
            robots[key] = parser
        parser = robots[key]
        return parser is None or parser.can_fetch(agent, url)

    def fetch(url: str) -> Page:
        if obey_robots and not allowed(url):
            return Page(url, None, error="refused by robots.txt")
        return raw(url)

    return fetch
