"""Per-portal fetch settings from the registry entry: http_only, a browser User-Agent, a cookie
warm-up in the portal's own cookie jar (every other portal sends no cookies), report_urls."""
from __future__ import annotations

import pytest

from harvester import registry
from harvester.registry import BROWSER_USER_AGENT
from harvester.errors import ConfigError
from harvester.spiders.portal import PortalSpider

TOML = '''
[[portal]]
id = "waf"
name = "x"
agency = "某市人民政府"
level = "city"
cms = "trs"
start_urls = ["https://www.waf.gov.cn/nb/"]
report_urls = ["https://www.waf.gov.cn/nb/202401/t20240119_1.html"]
http_only = true
user_agent = "browser"
warmup = "https://www.waf.gov.cn/"

[[portal]]
id = "plain"
name = "y"
agency = "某县人民政府"
level = "county"
cms = "generic"
start_urls = ["https://www.plain.gov.cn/nb/"]
'''


def test_warmup_portal_starts_with_its_warmup_in_its_own_cookie_jar_over_http_as_a_browser():
    waf, plain = registry.parse_toml(TOML, "t.toml")
    spider = PortalSpider(portals=[waf, plain])
    first, second = list(spider.start_requests())
    assert first.url == "http://www.waf.gov.cn/" and first.meta["kind"] == "warmup"
    assert first.meta["cookiejar"] == "waf" and "dont_merge_cookies" not in first.meta
    assert first.headers[b"User-Agent"] == BROWSER_USER_AGENT.encode()
    assert second.url == "https://www.plain.gov.cn/nb/"  # not http_only: https kept
    assert second.meta["dont_merge_cookies"] is True and "cookiejar" not in second.meta
    assert b"User-Agent" not in second.headers  # the crawler's own, set by Scrapy
    after = list(spider._portal_start(waf))  # what the warm-up's callback yields
    assert [r.url for r in after] == ["http://www.waf.gov.cn/nb/", "http://www.waf.gov.cn/nb/202401/t20240119_1.html"]
    assert after[1].meta["kind"] == "detail" and after[1].meta["report"] is True
    assert all(r.meta["cookiejar"] == "waf" for r in after)


def test_warmup_true_means_the_root_url_and_needs_one():
    entry = TOML.split("[[portal]]")[1].replace('warmup = "https://www.waf.gov.cn/"', "warmup = true")
    (p,) = registry.parse_toml("[[portal]]" + entry.replace("http_only = true", 'root_url = "http://www.waf.gov.cn/"'))
    assert p.warmup == "http://www.waf.gov.cn/"
    with pytest.raises(ConfigError, match="field 'warmup' = true needs 'root_url'"):
        registry.parse_toml("[[portal]]" + entry, "w.toml")
