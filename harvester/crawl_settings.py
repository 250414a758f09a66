"""Scrapy settings for the harvester (`scrapy.cfg` points here; `harvester crawl` loads it).

Politeness is on by default: robots.txt obeyed, 2 concurrent requests per host,
0.5 s delay with AutoThrottle, 2 retries, 60 s timeout, 200 MB size cap. Tests and
the demo replay local copies and set the delays to 0.

Scale-out: one portal crawl per Celery task (`harvester worker`, `harvester enqueue`,
`harvester/tasks.py`), so per-host politeness holds within each crawl.
"""
from __future__ import annotations

BOT_NAME = "govreports-harvester"
SPIDER_MODULES = ["harvester.spiders"]
NEWSPIDER_MODULE = "harvester.spiders"

USER_AGENT = ("govreports-harvester/0.1 (+政府信息公开工作年度报告 collector; "
              "polite research crawler, obeys robots.txt)")

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 % around DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

RETRY_ENABLED = True
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024

# https: certificates verified, except for --host-map'ped hosts (harvester.hostmap)
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_HANDLERS = {"https": "harvester.hostmap.HostMapDownloadHandler"}

HTTPCACHE_ENABLED = False
# Cookies only for portals with a cookie warm-up (`warmup = …`): the spider gives every other
# request `dont_merge_cookies`, and each portal its own cookie jar.
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    # before HttpProxyMiddleware (750): points mapped hosts at a replay server / proxy
    "harvester.hostmap.HostMapMiddleware": 740,
    # a 3xx to itself setting a cookie, before RedirectMiddleware (600) follows it
    "harvester.blocked.CookieLoopMiddleware": 650,
    # challenges, WAF pages, JS shells, soft-404s: after decompression (590), before retries (550)
    "harvester.blocked.BlockedMiddleware": 580,
}
ITEM_PIPELINES = {
    "harvester.pipelines.store.StorePipeline": 300,
}

#: host -> "addr:port" entries ("host=addr:port"); see harvester.hostmap
HARVESTER_HOST_MAP: list[str] = []

LOG_LEVEL = "INFO"


#: Delays off, for replaying saved portals on 127.0.0.1 (tests, demo).
LOCAL_REPLAY = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY_JITTER": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_TIMEOUT": 20,
}
