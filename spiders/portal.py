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
from harvester.errors import ConfigError
from harvester.runs import exception_kind, ignore_kind, status_kind
from harvester.spiders import links as L
from harvester.spiders.cms import FAMILIES


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, portals: Any = None, registry: Any = None, **kwargs: Any) -> None:
        select_all = kwargs.pop("all", False)
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
                chosen = list(reg.values())
            else:
                chosen = reg.select(portals or ())
        if not chosen:
            raise ConfigError("no portal selected: give portal ids or --all")
        self.portals: dict[str, _registry.Portal] = {p.id: p for p in chosen}
        self.portal_ids = list(self.portals)

    # ---------------------------------------------------------------- start
    async def start(self):
        for req in self.start_requests():
            yield req

    def start_requests(self) -> Iterable[Request]:
        for portal in self.portals.values():
            for url in portal.start_urls:
                yield self._request(url, portal, self.parse_list, parent=None, kind="list")

    def _request(self, url: str, portal, callback, parent: str | None, kind: str, cls=Request, **kw) -> Request:
        meta = {"portal_id": portal.id, "parent_url": parent, "kind": kind, **kw.pop("meta", {})}
        return cls(url, callback=callback, errback=self.on_error, meta=meta, **kw)

    # ---------------------------------------------------------------- list pages
    def parse_list(self, response):
        portal = self.portals[response.meta["portal_id"]]
        if not isinstance(response, TextResponse):  # a start URL that is itself a file
            yield self._item(response)
            return
        family = FAMILIES[portal.cms]
        for url, text in family.links(response, portal):
            if not L.is_fetchable(url) or not self._on_site(url, portal):
                continue
            attachment = L.is_attachment(url) or self._custom_attachment(url, portal)
            # with an explicit list_item selector every selected link is a report
            if not (portal.selectors.list_item or L.looks_like_report(text, url)):
                continue
            year = L.report_year(text)
            if not portal.allows_year(year):
                self.crawler.stats.inc_value("harvester/year_skipped")
                continue
            if attachment:
                yield self._request(url, portal, self.parse_attachment, response.url, "attachment")
            else:
                yield self._request(url, portal, self.parse_detail, response.url, "detail")
        for req in family.pages(response, portal):
            if not self._on_site(req.url, portal):
                continue
            meta = {**req.meta, "portal_id": portal.id, "parent_url": response.url, "kind": "list"}
            yield req.replace(callback=self.parse_list, errback=self.on_error, meta=meta)

    # ---------------------------------------------------------------- detail pages
    def parse_detail(self, response):
        portal = self.portals[response.meta["portal_id"]]
        yield self._item(response)
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
        yield self._item(response)

    # ---------------------------------------------------------------- errors
    def on_error(self, failure):
        request = failure.request
        stats = self.crawler.stats
        if failure.check(HttpError):
            resp = failure.value.response
            stats.inc_value("harvester/fetch_errors")
            return self._error_item(request, f"HTTP {resp.status}", status=resp.status, final_url=resp.url,
                                    content_type=_header(resp, b"Content-Type"), kind=status_kind(resp.status))
        if failure.check(IgnoreRequest) and (kind := ignore_kind(failure.value)):  # gzip bomb, redirect loop
            stats.inc_value("harvester/fetch_errors")
            return self._error_item(request, f"{kind}: {failure.value}", kind=kind)
        if failure.check(IgnoreRequest):  # robots.txt, offsite, or a downloader middleware said no
            stats.inc_value("harvester/robots_forbidden" if "robots" in str(failure.value).lower()
                            else "harvester/ignored")
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

    # ---------------------------------------------------------------- helpers
    def _item(self, response) -> dict:
        kind = response.meta.get("kind", "document")
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
