"""`PortalSpider`: one spider for every registered portal, parametrized by portal ids.

    scrapy crawl portal -a portals=id1,id2 [-a registry=extra.toml]   (or: harvester crawl id1 id2)

It walks each portal's 年报 column: list pages (paging per CMS family, see
`spiders.cms`) -> detail pages (links that look like reports, same portal hosts
only) -> attachments (.pdf .doc .docx .wps .xls .xlsx .ofd .zip, downfile.jsp...) and the
pictures inside the article that may hold a table (`spiders.links.is_table_image`: image
files or extension-less uploads, not logos/icons/buttons, not sized below 200 px, same
portal hosts only; searched in `selectors.content`, the CMS family's `content`, else <body>).
Every fetched detail page, attachment and table image is yielded as a plain dict item::

    {"url", "final_url", "status", "content_type", "body", "portal_id", "parent_url", "fetch_error"}

List pages are navigation and are not yielded, except when they fail. Failures
(HTTP errors after retries, timeouts, DNS, size limit) come back through the
errback and are yielded as items with `body=None` and `fetch_error` set, so they are
recorded; they never stop the crawl. Requests refused by robots.txt are counted in
the stats (`harvester/robots_forbidden`), not recorded.

A response the rules of `harvester.blocked` recognise (JavaScript challenge, WAF page, cookie
loop, JavaScript shell, soft-404 stub) is yielded as a *block item* instead::

    {"block_rule", "block_kind", "url", "final_url", "status", "content_type", "body", "portal_id",
     "parent_url", "kind"}

Besides the 年报 column itself (`start_urls`), a portal's list pages include its sub-columns:
list-shaped links (a folder, `index.html`, `/col/colN/`) under a start URL's folder, e.g. year
sub-folders (`…/zfxxgknb/2023nb/`) and department sub-trees (`…/2023nb/dcgzfbm2023/`).
`report_urls` are fetched as report pages directly. Per portal: `http_only` (https start URLs
asked over http), `user_agent`, and `warmup` (fetched first in the portal's own cookie jar; the
other portals send no cookies).

Per-portal counts for the crawl summary are in the stats under `harvester/portal/<id>/…`:
`reports` (report pages and attachments linked from a list), `lists`, `list_errors`, `blocked`,
`gone`. With `dry_run=True` (`harvester portals check`) reports are not fetched: each is yielded
as `{"found": url, "title", "year", "portal_id", "parent_url", "kind"}`.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

import scrapy
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from harvester import registry as _registry
from harvester.blocked import Blocked
from harvester.errors import ConfigError
from harvester.runs import exception_kind, ignore_kind, status_kind
from harvester.spiders import links as L
from harvester.spiders.cms import FAMILIES


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, portals: Any = None, registry: Any = None, **kwargs: Any) -> None:
        select_all = kwargs.pop("all", False)
        self.dry_run = kwargs.pop("dry_run", False) in (True, "1", "true", "yes")
        super().__init__(**kwargs)
        if isinstance(registry, str):
            registry = [r for r in re.split(r"[,]", registry) if r]
        if portals and all(isinstance(p, _registry.Portal) for p in portals):
            chosen = list(portals)
        else:
            reg = _registry.load(registry or ())
            if isinstance(portals, str):
                portals = [p for p in portals.split(",") if p]
            if select_all in (True, "1", "true", "yes") and not portals:
                chosen = reg.for_all()
            else:
                chosen = reg.select(portals or ())
        if not chosen:
            raise ConfigError("no portal selected: give portal ids or --all")
        self.portals: dict[str, _registry.Portal] = {p.id: p for p in chosen}
        self._dirs: dict[str, tuple[str, ...]] = {}
        self.portal_ids = list(self.portals)

    # ---------------------------------------------------------------- start
    async def start(self):
        for req in self.start_requests():
            yield req

    def start_requests(self) -> Iterable[Request]:
        for portal in self.portals.values():
            if portal.warmup:
                yield self._request(portal.warmup, portal, self.after_warmup, parent=None, kind="warmup",
                                    dont_filter=True)
            else:
                yield from self._portal_start(portal)

    def _portal_start(self, portal) -> Iterable[Request]:
        for url in portal.start_urls:
            yield self._request(url, portal, self.parse_list, parent=None, kind="list")
        for url in portal.report_urls:
            if self.dry_run:
                continue
            callback = self.parse_attachment if L.is_attachment(url) else self.parse_detail
            yield self._request(url, portal, callback, parent=None,
                                kind="attachment" if L.is_attachment(url) else "detail", meta={"report": True})

    def after_warmup(self, response):
        """The warm-up page only collects cookies (a challenge on it is recorded by the errback)."""
        yield from self._portal_start(self.portals[response.meta["portal_id"]])

    def _request(self, url: str, portal, callback, parent: str | None, kind: str, cls=Request, **kw) -> Request:
        meta = {"portal_id": portal.id, "parent_url": parent, "kind": kind, **kw.pop("meta", {})}
        return self._decorate(cls(portal.fetch_url(url), callback=callback, errback=self.on_error, meta=meta, **kw),
                              portal)

    @staticmethod
    def _decorate(req: Request, portal) -> Request:
        """Per-portal fetch settings: its cookie jar (warm-up portals only), its User-Agent."""
        meta = dict(req.meta)
        if portal.warmup:
            meta["cookiejar"] = portal.id
        else:
            meta["dont_merge_cookies"] = True
        headers = dict(req.headers)
        if portal.browser_user_agent:
            headers[b"User-Agent"] = portal.browser_user_agent
        return req.replace(meta=meta, headers=headers)

    def _count(self, portal_id: str | None, key: str) -> None:
        if portal_id:
            self.crawler.stats.inc_value(f"harvester/portal/{portal_id}/{key}")

    # ---------------------------------------------------------------- list pages
    def parse_list(self, response):
        portal = self.portals[response.meta["portal_id"]]
        self._count(portal.id, "lists")
        if not isinstance(response, TextResponse):  # a start URL that is itself a file
            yield self._item(response, report=True)
            return
        family = FAMILIES[portal.cms]
        for url, text in family.links(response, portal):
            if not L.is_fetchable(url) or not self._on_site(url, portal):
                continue
            if self._is_sub_column(url, response.url, portal):
                yield self._request(url, portal, self.parse_list, response.url, "list")
                continue
            attachment = L.is_attachment(url) or self._custom_attachment(url, portal)
            # with an explicit list_item selector every selected link is a report
            if not (portal.selectors.list_item or L.looks_like_report(text, url)):
                continue
            year = L.report_year(text)
            if not portal.allows_year(year):
                self.crawler.stats.inc_value("harvester/year_skipped")
                continue
            kind = "attachment" if attachment else "detail"
            if self.dry_run:
                self._count(portal.id, "reports")
                yield {"found": url, "title": text, "year": year, "portal_id": portal.id,
                       "parent_url": response.url, "kind": kind}
                continue
            callback = self.parse_attachment if attachment else self.parse_detail
            yield self._request(url, portal, callback, response.url, kind, meta={"report": True})
        for req in family.pages(response, portal):
            if not self._on_site(req.url, portal):
                continue
            meta = {**req.meta, "portal_id": portal.id, "parent_url": response.url, "kind": "list"}
            yield self._decorate(req.replace(url=portal.fetch_url(req.url), callback=self.parse_list,
                                             errback=self.on_error, meta=meta), portal)

    def _is_sub_column(self, url: str, here: str, portal) -> bool:
        """A list-shaped link under one of the portal's start folders (year sub-folders,
        department sub-trees), other than the page itself."""
        if url.split("#")[0] == here.split("#")[0] or not L.is_sub_column_url(url):
            return False
        dirs = self._dirs.setdefault(portal.id, tuple(portal.fetch_url(u).rsplit("/", 1)[0] + "/"
                                                      for u in portal.start_urls))
        target = portal.fetch_url(url)
        return any(target.startswith(d) and target != d for d in dirs)

    # ---------------------------------------------------------------- detail pages
    def parse_detail(self, response):
        portal = self.portals[response.meta["portal_id"]]
        yield self._item(response, report=response.meta.get("report", False))
        if not isinstance(response, TextResponse):
            return
        scope = response.css(portal.selectors.content) if portal.selectors.content else []
        anchors = (scope or response).css("a[href]")
        for a in anchors:
            url = response.urljoin(a.attrib["href"].strip())
            if not L.is_fetchable(url):
                continue
            if not (L.is_attachment(url) or self._custom_attachment(url, portal)):
                continue
            if self._on_site(url, portal):
                yield self._request(url, portal, self.parse_attachment, response.url, "attachment")
        yield from self._table_images(response, portal)

    def _table_images(self, response, portal):
        css = portal.selectors.content or FAMILIES[portal.cms].content
        scope = (css and response.css(css)) or response.css("body") or response
        seen = set()
        for img in scope.css("img"):
            src = L.image_src(img.attrib)
            url = response.urljoin(src) if src else ""
            if url not in seen and L.is_table_image(url, img.attrib) and self._on_site(url, portal):
                seen.add(url)
                yield self._request(url, portal, self.parse_attachment, response.url, "image")

    def parse_attachment(self, response):
        yield self._item(response, report=response.meta.get("report", False))

    # ---------------------------------------------------------------- errors
    def on_error(self, failure):
        request = failure.request
        stats = self.crawler.stats
        if failure.check(Blocked):
            return self._block_item(request, failure.value)
        if request.meta.get("kind") in ("list", "warmup"):
            self._count(request.meta.get("portal_id"), "list_errors")
        if failure.check(HttpError):
            resp = failure.value.response
            stats.inc_value("harvester/fetch_errors")
            return self._error_item(request, f"HTTP {resp.status}", status=resp.status, final_url=resp.url,
                                    content_type=_header(resp, b"Content-Type"), kind=status_kind(resp.status))
        if failure.check(IgnoreRequest) and (kind := ignore_kind(failure.value)):  # gzip bomb, redirect loop
            stats.inc_value("harvester/fetch_errors")
            return self._error_item(request, f"{kind}: {failure.value}", kind=kind)
        if failure.check(IgnoreRequest):  # robots.txt, offsite, or a downloader middleware said no
            robots = "robots" in str(failure.value).lower()
            stats.inc_value("harvester/robots_forbidden" if robots else "harvester/ignored")
            if robots:
                self._count(request.meta.get("portal_id"), "robots")
            self.logger.info("not fetched: %s (%s)", request.url, failure.value)
            return None
        stats.inc_value("harvester/fetch_errors")
        return self._error_item(request, f"{type(failure.value).__name__}: {failure.getErrorMessage()}",
                                kind=exception_kind(failure.value))

    def _error_item(self, request, message: str, *, status=None, final_url=None, content_type=None,
                    kind: str | None = None) -> dict:
        self.logger.warning("fetch failed: %s: %s", request.url, message)
        return {
            "url": _original_url(request), "final_url": final_url or request.url, "status": status,
            "content_type": content_type, "body": None, "portal_id": request.meta.get("portal_id"),
            "parent_url": request.meta.get("parent_url"), "fetch_error": message, "fetch_error_kind": kind,
        }

    def _block_item(self, request, blocked: Blocked) -> dict:
        resp, rule = blocked.response, blocked.rule
        pid = request.meta.get("portal_id")
        self._count(pid, rule.kind)
        self._count(pid, f"{rule.kind}/{rule.name}")
        self.crawler.stats.inc_value(f"harvester/{rule.kind}")
        self.logger.warning("%s: %s (%s, HTTP %s)", rule.kind, request.url, rule.reason, resp.status)
        return {"block_rule": rule.name, "block_kind": rule.kind, "url": _original_url(request),
                "final_url": resp.url, "status": resp.status, "content_type": _header(resp, b"Content-Type"),
                "body": resp.body, "portal_id": pid, "parent_url": request.meta.get("parent_url"),
                "kind": request.meta.get("kind")}

    # ---------------------------------------------------------------- helpers
    def _item(self, response, report: bool = False) -> dict:
        kind = response.meta.get("kind", "document")
        if report:
            self._count(response.meta.get("portal_id"), "reports")
        self.crawler.stats.inc_value(f"harvester/{kind}_items")
        if kind == "image":  # a table picture is one of its page's attachments
            self.crawler.stats.inc_value("harvester/attachment_items")
        return {
            "url": _original_url(response.request), "final_url": response.url, "status": response.status,
            "content_type": _header(response, b"Content-Type"), "body": response.body,
            "portal_id": response.meta["portal_id"], "parent_url": response.meta.get("parent_url"),
            "fetch_error": None,
        }

    def _on_site(self, url: str, portal) -> bool:
        if L.host_of(url) in portal.hosts:
            return True
        self.crawler.stats.inc_value("harvester/offsite_skipped")
        self.logger.debug("off-site link not followed: %s", url)
        return False

    @staticmethod
    def _custom_attachment(url: str, portal) -> bool:
        return bool(portal.selectors.attachment and re.search(portal.selectors.attachment, url))


def _original_url(request) -> str:
    redirects = request.meta.get("redirect_urls")
    return redirects[0] if redirects else request.url


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
