"""Send a host's requests to another address while every URL stays the real one.

`harvester crawl --host-map www.example.gov.cn=127.0.0.1:8080` (repeatable) fills the
`HARVESTER_HOST_MAP` setting; `HostMapMiddleware` then sets
`request.meta["proxy"] = "http://127.0.0.1:8080"` on requests to that host. Scrapy's
HTTP/1.1 handler talks to a proxy with an absolute-URI request line
(`GET http://www.example.gov.cn/path HTTP/1.1`) and the original `Host` header, so the
request URL, the response URL, the item URLs, the Referer and the robots.txt request
(it goes through the downloader middlewares too) all keep the portal's real host.
The target must answer absolute-URI requests by host + path: a replay server
(`harvester.demo.server`), or a real forward proxy to reach a site through a tunnel.

An `https://` URL behind the proxy is a CONNECT tunnel; the replay server answers CONNECT and
speaks TLS inside it with a self-signed certificate. `HostMapContextFactory` therefore skips
certificate verification for host-mapped hosts only: every other https host is verified
(`DOWNLOAD_VERIFY_CERTIFICATES = True` in crawl_settings; a portal whose TLS is broken is
fetched over http with `http_only = true` in its entry).
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from scrapy.core.downloader.contextfactory import _ScrapyClientContextFactory
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from harvester.errors import ConfigError

SETTING = "HARVESTER_HOST_MAP"
_ENTRY_RE = re.compile(r"^(?P<host>[A-Za-z0-9.-]+)=(?P<addr>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")


def parse_host_map(entries: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """`["host=addr:port", ...]` (or a host -> "addr:port" mapping) -> {host: "addr:port"}."""
    if not entries:
        return {}
    if isinstance(entries, Mapping):
        entries = [f"{h}={a}" for h, a in entries.items()]
    out: dict[str, str] = {}
    for entry in entries:
        m = _ENTRY_RE.match(entry.strip())
        if not m or not 0 < int(m["port"]) < 65536:
            raise ConfigError(f"--host-map value {entry!r}: expected HOST=ADDR:PORT, e.g. "
                              "www.example.gov.cn=127.0.0.1:8080")
        out[m["host"].lower()] = f"{m['addr']}:{int(m['port'])}"
    return out


class HostMapMiddleware:
    """Downloader middleware; must run before HttpProxyMiddleware (750)."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)

    @classmethod
    def from_crawler(cls, crawler):
        mapping = parse_host_map(crawler.settings.getlist(SETTING))
        if not mapping:
            raise NotConfigured
        return cls(mapping)

    def process_request(self, request):
        host = (urlparse_cached(request).hostname or "").lower()
        target = self.mapping.get(host)
        if target is not None:
            request.meta["proxy"] = f"http://{target}"
        return None


class HostMapContextFactory(_ScrapyClientContextFactory):
    """Scrapy's TLS context factory, verifying certificates (per `DOWNLOAD_VERIFY_CERTIFICATES`)
    except for `--host-map`ped hosts, whose TLS ends at the replay server / tunnel."""

    unverified: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        factory = super().from_crawler(crawler, *args, **kwargs)
        factory.unverified = frozenset(parse_host_map(crawler.settings.getlist(SETTING)))
        return factory

    def creatorForNetloc(self, hostname: bytes, port: int):  # noqa: N802 - Twisted's interface name
        if hostname.decode("ascii").lower() not in self.unverified:
            return super().creatorForNetloc(hostname, port)
        verify, self._verify_certificates = self._verify_certificates, False
        try:
            return super().creatorForNetloc(hostname, port)
        finally:
            self._verify_certificates = verify


class HostMapDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with `HostMapContextFactory` (the DOWNLOADER_CLIENTCONTEXTFACTORY
    setting is deprecated in Scrapy 2.19); registered for https in crawl_settings.DOWNLOAD_HANDLERS."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._contextFactory = HostMapContextFactory.from_crawler(crawler)
