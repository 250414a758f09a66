"""Blocked, not empty: responses that are a portal's defence or a dead stub, never a document.

A response is judged by `classify(...)` against `RULES` (data: first match wins). A match is
either `blocked` (the portal refused us: a JavaScript challenge, a WAF page, a cookie redirect
loop, a JavaScript shell) or `gone` (a soft-404 stub or a deleted document's meta-refresh to its
folder). Either way the spider yields a *block item* instead of a document item, the store
pipeline records it in `fetch_blocks` with the body archived as evidence, and the crawl summary
names the portal (`harvester crawl` exits 1 for a blocked portal unless its entry says
`expect = ["blocked"]`).

Two downloader middlewares apply the rules:

- `CookieLoopMiddleware` (650, before RedirectMiddleware 600 sees a 3xx): a redirect to the same
  URL that sets a cookie (moj.gov.cn's WAF, `wzwschallenge=` loops). A portal with a cookie
  warm-up (`warmup = …`) gets one retry carrying the cookie; a second loop, or any loop on a
  portal without cookies, is `blocked`.
- `BlockedMiddleware` (580, after decompression): every other rule, on the final response.

Both raise `Blocked` (an `IgnoreRequest`), which the spider's errback turns into a block item.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from scrapy.exceptions import IgnoreRequest
from datetime import UTC

BLOCKED, GONE = "blocked", "gone"


@dataclass(frozen=True)
class Rule:
    """One way a response is not a document. Every given condition must hold."""

    name: str
    kind: str                                  # BLOCKED | GONE
    reason: str                                # recorded, with the HTTP status
    statuses: tuple[int, ...] = ()             # () = any status
    body: str | None = None                    # regex searched in the decoded body
    cookie: str | None = None                  # regex on the Set-Cookie headers
    html_only: bool = False                    # only text/html-looking bodies
    max_text: int | None = None                # visible text (tags, scripts removed) at most this long
    needs_script: bool = False                 # the body has a <script>
    no_links: bool = False                     # the body has no <a href>


#: First match wins. Statuses 412/521/403 are refusals whatever the body says.
RULES: tuple[Rule, ...] = (
    Rule("js-challenge", BLOCKED, "JavaScript challenge (HTTP 412)", statuses=(412,)),
    Rule("jsl-challenge", BLOCKED, "加速乐 JavaScript challenge (HTTP 521, __jsl cookie)", statuses=(521,)),
    Rule("waf-403", BLOCKED, "WAF / access refused (HTTP 403)", statuses=(403,)),
    Rule("wzws-challenge", BLOCKED, "wzws JavaScript challenge page",
         body=r"wzwschallenge|wzwstemplate|wzws_cid|WZWS_CONFIRM_PREFIX_LABEL"),
    Rule("waf-page", BLOCKED, "WAF block page served with HTTP 200", html_only=True, max_text=600,
         body=r"(您的访问|访问请求|请求).{0,12}(被拦截|已被拦截|被阻断|存在安全风险)|网站防火墙|"
              r"Web应用防火墙|安全狗|云锁|知道创宇|创宇盾|Request blocked"),
    Rule("js-shell", BLOCKED, "JavaScript shell: no content without running its script",
         html_only=True, max_text=40, needs_script=True,
         body=r"document\.cookie|window\.location|location\.(href|replace)|eval\(|"
              r"setTimeout\(|document\.write|\$_ts|<noscript"),
    Rule("soft-404", GONE, "soft-404 page (\"page not found\" with HTTP 200)", html_only=True, max_text=300,
         body=r"页面不存在|页面找不到|找不到(该|您要访问的)?页面|您访问的页面|页面已删除|信息已删除|"
              r"文章不存在|内容不存在|已被删除|404\s*(Not\s*Found|错误|页面)|错误代码\s*[:：]?\s*404"),
    Rule("meta-refresh", GONE, "stub that only redirects (meta refresh), e.g. a deleted document",
         html_only=True, max_text=40, body=r"<meta[^>]+http-equiv=[\"']?refresh"),
    Rule("empty-stub", GONE, "stub page with no text and no links", html_only=True, max_text=10, no_links=True),
)
RULE_BY_NAME: Mapping[str, Rule] = {r.name: r for r in RULES}
#: The cookie loop (redirect to itself setting a cookie), judged before redirects are followed.
COOKIE_LOOP = Rule("cookie-loop", BLOCKED, "redirect loop setting a cookie (cookie-challenge WAF)",
                   statuses=(301, 302, 303, 307, 308))

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>|&nbsp;|&#\d+;", re.S | re.I)
_HTMLISH = re.compile(rb"^\s*(<!doctype|<html|<head|<meta|<script|<body|<title)", re.I)


class Blocked(IgnoreRequest):
    """Raised by the middlewares; carries the response and the rule that matched."""

    def __init__(self, rule: Rule, response: Any) -> None:
        super().__init__(f"{rule.kind}: {rule.reason}")
        self.rule = rule
        self.response = response


def _decode(body: bytes) -> str:
    head = body[:2048].lower()
    m = re.search(rb"charset=[\"']?([\w-]+)", head)
    enc = m.group(1).decode("ascii", "replace") if m else "utf-8"
    for e in (enc, "utf-8", "gb18030"):
        try:
            return body.decode(e)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


def visible_text(html: str) -> str:
    return " ".join(_TAGS.sub(" ", html).split())


def is_html(body: bytes, content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    if "html" in ct:
        return True
    if ct and not ct.startswith(("text/plain", "application/octet-stream")):
        return False
    return bool(_HTMLISH.match(body[:512]))


def classify(status: int, body: bytes, content_type: str | None = None,
             set_cookies: tuple[str, ...] = ()) -> Rule | None:
    """The first rule of `RULES` this response matches, or None (a normal response)."""
    html = is_html(body, content_type)
    text: str | None = None
    visible: str | None = None
    for rule in RULES:
        if rule.statuses and status not in rule.statuses:
            continue
        if not rule.statuses and not 200 <= status < 300:
            continue
        if rule.html_only and not html:
            continue
        if rule.cookie and not any(re.search(rule.cookie, c) for c in set_cookies):
            continue
        if rule.body or rule.max_text is not None or rule.needs_script or rule.no_links:
            if text is None:
                if not html and not rule.statuses:
                    continue  # a PDF is never a challenge page
                text = _decode(body[:200_000])
            if rule.needs_script and "<script" not in text.lower():
                continue
            if rule.no_links and re.search(r"<a\s[^>]*href", text, re.I):
                continue
            if rule.max_text is not None:
                if visible is None:
                    visible = visible_text(text)
                if len(visible) > rule.max_text:
                    continue
            if rule.body and not re.search(rule.body, text, re.I):
                continue
        return rule
    return None


def _set_cookies(response) -> tuple[str, ...]:
    return tuple(v.decode("latin-1") for v in response.headers.getlist(b"Set-Cookie"))


def _content_type(response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


class CookieLoopMiddleware:
    """A 3xx back to the same URL (or to a `wzwschallenge=` URL) that sets a cookie."""

    def process_response(self, request, response, spider=None):
        if response.status not in COOKIE_LOOP.statuses or not _set_cookies(response):
            return response
        location = response.headers.get(b"Location", b"").decode("latin-1")
        target = request.url if not location else response.urljoin(location)
        if target.split("#")[0] != request.url.split("#")[0] and "wzwschallenge" not in target:
            return response
        if request.meta.get("cookiejar") is not None and not request.meta.get("cookie_loop_retry"):
            # cookies are on for this portal: CookiesMiddleware (700) stored the cookie; ask again
            return request.replace(dont_filter=True, meta={**request.meta, "cookie_loop_retry": True})
        raise Blocked(COOKIE_LOOP, response)


class BlockedMiddleware:
    """Every other rule of `RULES`, on the final (decompressed, redirected) response."""

    def process_response(self, request, response, spider=None):
        if request.url.endswith("/robots.txt"):
            return response
        rule = classify(response.status, response.body, _content_type(response), _set_cookies(response))
        if rule is None:
            return response
        raise Blocked(rule, response)


def record_block(store, run_id: int | None, item: Mapping[str, Any]) -> bool:
    """Store one block item (see `harvester.spiders.portal`) in `fetch_blocks`, its body in the
    archive. Idempotent per (run, url, reason). Returns True when a row was added."""
    from datetime import datetime

    from sqlalchemy import select

    from harvester.db.models import FetchBlock, Portal

    sha = raw = None
    if item.get("body"):
        sha, raw = store.archive.put(item["body"])
    rule = RULE_BY_NAME.get(item["block_rule"], COOKIE_LOOP)
    reason = f"{rule.reason}; HTTP {item.get('status')}"
    with store.session() as s, s.begin():
        if item.get("portal_id") and s.get(Portal, item["portal_id"]) is None:
            s.add(Portal(id=item["portal_id"]))
            s.flush()
        exists = s.scalar(select(FetchBlock.id).where(FetchBlock.crawl_run_id == run_id,
                                                      FetchBlock.url == item["url"], FetchBlock.reason == reason))
        if exists is not None:
            return False
        s.add(FetchBlock(crawl_run_id=run_id, portal_id=item.get("portal_id"), url=item["url"],
                         final_url=item.get("final_url"), http_status=item.get("status"), rule=rule.name,
                         kind=rule.kind, reason=reason, sha256=sha, raw_path=raw,
                         at=datetime.now(UTC)))
    return True
