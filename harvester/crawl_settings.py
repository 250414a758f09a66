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
# Safe defaults: Scrapy's remote-control extension (Scrapy >= 2.14, on by default) opens an HTTP
# endpoint that executes Python code sent to it and writes token/port job files into the user's
# profile; the older telnet console opens a Python shell. Both stay off.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Redirect loops end after 20 hops and a gzip bomb at DOWNLOAD_MAXSIZE once decompressed; both are
# recorded as typed errors on the document (harvester.runs: redirect_loop, decompression_bomb).
REDIRECT_MAX_TIMES = 20
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    # before HttpProxyMiddleware (750): points mapped hosts at a replay server / proxy
    "harvester.hostmap.HostMapMiddleware": 740,
    # a 3xx to itself setting a cookie, before RedirectMiddleware (600) follows it
    "harvester.blocked.CookieLoopMiddleware": 650,
    # challenges, WAF pages, JS shells, soft-404s: after decompression (590), before retries (550)
    "harvester.blocked.BlockedMiddleware": 580,
    # outermost: sees final responses (after redirects, meta refresh, retries, decompression)
    "harvester.incremental.IncrementalMiddleware": 50,
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    # per-portal run records, typed error counts and the change log (harvester.runs)
    "harvester.runs.RunRecorder": 500,
    # per-portal progress bars / plain lines (harvester.progress); on in `harvester crawl` and `nightly`
    "harvester.progress.CrawlProgress": 510,
}
HARVESTER_PROGRESS = False
#: conditional requests and unchanged-page detection (harvester.incremental)
HARVESTER_INCREMENTAL = True
HARVESTER_CONDITIONAL = True
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
