"""Volatile parts of report pages, removed before deciding whether a page changed.

Portals print things on every article page that change on every visit without the report
changing: view counters (浏览次数：1234), "today is" clocks, session ids in links, CSRF tokens,
cache-busting query parameters. Hashing the raw bytes would make every nightly run store a new
"version" of every page. The rules below (data, one per quirk; ``cms`` limits a rule to one CMS
family, ``"*"`` applies everywhere) rewrite the decoded page text; `content_hash` is the SHA-256
of the result.

Decision (where and what is hashed): the archive keeps the raw bytes exactly as fetched, and
`documents.sha256` stays the hash of those raw bytes (the archive is content-addressed). Change
detection for HTML pages — is this a new version of the stored page? — compares
`content_hash` of the fetched page with `content_hash` of the stored version, in one place,
`harvester.incremental.IncrementalMiddleware`. When they are equal the stored version is kept and
the fetched copy adds nothing (no new document, no new archive file). Attachments (PDF, Word,
pictures) carry no such noise and are compared by their raw SHA-256.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replacement: str
    cms: str = "*"


def _r(name: str, pattern: str, replacement: str, cms: str = "*") -> Rule:
    return Rule(name, re.compile(pattern, re.IGNORECASE | re.DOTALL), replacement, cms)


_COUNTER_LABELS = r"(?:浏览次数|浏览量|访问量|访问次数|阅读次数|阅读量|点击数|点击量|点击次数|查看次数)"
_TAGS = r"(?:\s|&nbsp;|<[^>]{0,200}>)*"

RULES: tuple[Rule, ...] = (
    # 浏览次数：<span id="hits">1234</span> / 访问量: 56 次
    _r("view_counter", rf"({_COUNTER_LABELS}{_TAGS}[:：]?{_TAGS})\d[\d,]*", r"\1#"),
    # counters filled by script: <span id="hits">1234</span>, <font id="visitcount">12</font>
    _r("counter_element", r"(<(span|font|em|b|i)\b[^>]*\bid=[\"']?[^\"'>]*(?:hits|count|click|visit|views?)"
                          r"[^\"'>]*[\"']?[^>]*>)\s*\d[\d,]*\s*(</\2>)", r"\1#\3"),
    # 今天是2024年1月22日 星期一 / 当前时间：2024-01-22 10:31:07
    _r("clock", r"((?:今天是|今日|当前时间|现在时间|系统时间)\s*[:：]?\s*)[\d年月日\-/:\s星期一二三四五六日天]+", r"\1#"),
    # session ids in URLs and links
    _r("jsessionid", r";jsessionid=[0-9A-Za-z._\-!]+", ""),
    _r("session_param", r"([?&](?:jsessionid|phpsessid|sid|sessionid|aspsessionid\w*|token)=)[0-9A-Za-z._\-%]+",
       r"\1#"),
    # CSRF tokens in meta tags and hidden inputs, ASP.NET view state
    _r("csrf_meta", r"(<meta\b[^>]*\bname=[\"']?(?:csrf[-_]?token|_csrf|csrf-param)[\"']?[^>]*\bcontent=)"
                    r"[\"'][^\"']*[\"']", r"\1\"#\""),
    _r("csrf_input", r"(<input\b[^>]*\bname=[\"']?(?:_csrf|csrf_?token|csrfmiddlewaretoken|authenticity_token"
                     r"|__RequestVerificationToken|__VIEWSTATE|__VIEWSTATEGENERATOR|__EVENTVALIDATION)[\"']?"
                     r"[^>]*\bvalue=)[\"'][^\"']*[\"']", r"\1\"#\""),
    # cache busters: app.js?v=1705900000, ?_=1705900000123, &t=1705900000
    _r("cache_buster", r"([?&](?:v|_|t|ts|timestamp|rnd|random)=)\d{6,}", r"\1#"),
    # Hanweb (大汉) pages embed the render time: <!--页面生成时间 2024-01-22 10:31:07-->
    _r("hanweb_render_time", r"<!--\s*(?:页面生成时间|生成时间|create ?time)[^>]*-->", "", cms="hanweb"),
    # TRS WCM (拓尔思) publishing comments carry the publish job time: <!--<TRS_...> 2024-01-22 ...-->
    _r("trs_publish_comment", r"<!--\s*(?:发布时间戳|publish(?:ed)? ?at)[^>]*-->", "", cms="trs"),
)


def decode(body: bytes, content_type: str | None = None) -> str:
    """The page text, decoded the way Scrapy decodes it (declared charset, <meta>, BOM, sniffing)."""
    from w3lib.encoding import html_to_unicode

    _encoding, text = html_to_unicode(content_type, body)
    return text


def normalize(text: str, cms: str | None = None) -> str:
    """`text` with every volatile part replaced by a fixed marker."""
    for rule in RULES:
        if rule.cms == "*" or (cms is not None and cms.startswith(rule.cms)):
            text = rule.pattern.sub(rule.replacement, text)
    return text


def is_html(body: bytes, content_type: str | None = None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def content_hash(body: bytes, content_type: str | None = None, cms: str | None = None) -> str:
    """SHA-256 used for change detection: of the normalised text for HTML, of the raw bytes otherwise."""
    if not is_html(body, content_type):
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(normalize(decode(body, content_type), cms).encode("utf-8")).hexdigest()
