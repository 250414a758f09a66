"""Report pages that paste their tables as pictures: which <img> the spider fetches
(saved pages as Scrapy responses, City Scrapers `file_response` style; no network)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from harvester import registry
from harvester.spiders import links as L
from harvester.spiders.portal import PortalSpider

PORTALS = Path(__file__).resolve().parents[1] / "harvester" / "demo" / "portals"
ITEM_KEYS = {"url", "final_url", "status", "content_type", "body", "portal_id", "parent_url", "fetch_error"}
ZIBO = "http://www.zibo.gov.cn/gongkai/qxnb/"
ZIBO_PAGE = ZIBO + "202401/t20240122_2222222.html"
ZIBO_TABLE3 = ZIBO + "202401/W020240122512345678.png"


@pytest.fixture(scope="module")
def spider():
    reg = registry.load([PORTALS / "registry.toml"], include_default=False, use_env=False)
    return PortalSpider.from_crawler(get_crawler(PortalSpider), portals=list(reg.values()))


def file_response(portal_id: str, url: str, *, kind: str = "detail", parent: str | None = None,
                  content_type: str = "text/html") -> Response:
    parts = urlsplit(url)
    body = (PORTALS / portal_id / parts.hostname / parts.path.lstrip("/")).read_bytes()
    request = Request(url, meta={"portal_id": portal_id, "parent_url": parent, "kind": kind})
    cls = HtmlResponse if content_type == "text/html" else Response
    return cls(url=url, body=body, request=request, status=200, headers={"Content-Type": content_type})


def inline_spider(cms: str, content: str | None = None, allowed_hosts: str = "") -> PortalSpider:
    toml = f'''
[[portal]]
id = "p"
name = "n"
agency = "a"
level = "county"
cms = "{cms}"
start_urls = ["http://www.x.gov.cn/nb/index.html"]
{f'allowed_hosts = ["{allowed_hosts}"]' if allowed_hosts else ""}
'''
    if content:
        toml += f'[portal.selectors]\ncontent = "{content}"\n'
    return PortalSpider.from_crawler(get_crawler(PortalSpider), portals=registry.parse_toml(toml, "inline.toml"))


def detail_requests(spider: PortalSpider, body: str, url: str = "http://www.x.gov.cn/nb/202401/t1.html"):
    req = Request(url, meta={"portal_id": "p", "parent_url": None, "kind": "detail"})
    out = list(spider.parse_detail(HtmlResponse(url, body=body.encode(), request=req)))
    return [r.url for r in out if isinstance(r, Request)]


def test_report_page_requests_its_table_picture_and_not_its_logos_icons_or_qr_code(spider):
    resp = file_response("zibo-qxnb", ZIBO_PAGE, parent=ZIBO + "index.html")
    out = list(spider.parse_detail(resp))
    items = [o for o in out if isinstance(o, dict)]
    reqs = [o for o in out if isinstance(o, Request)]
    assert [i["url"] for i in items] == [ZIBO_PAGE]
    assert [(r.url, r.callback) for r in reqs] == [(ZIBO_TABLE3, spider.parse_attachment)]
    assert reqs[0].meta["parent_url"] == ZIBO_PAGE and reqs[0].meta["kind"] == "image"
    assert "logo" in resp.text and "print.gif" in resp.text and "ewm_" in resp.text  # they are on the page


def test_table_picture_is_yielded_like_an_attachment_with_its_page_as_parent(spider):
    resp = file_response("zibo-qxnb", ZIBO_TABLE3, kind="image", parent=ZIBO_PAGE, content_type="image/png")
    items = list(spider.parse_attachment(resp))
    assert len(items) == 1 and set(items[0]) == ITEM_KEYS
    item = items[0]
    assert (item["url"], item["parent_url"], item["portal_id"], item["fetch_error"]) == (
        ZIBO_TABLE3, ZIBO_PAGE, "zibo-qxnb", None)
    assert item["body"].startswith(b"\x89PNG") and item["content_type"] == "image/png"


def test_pages_without_pictures_request_no_images(spider):
    url = "http://www.linzi.gov.cn/zwgk/zfxxgknb/202401/t20240119_1234567.html"
    reqs = [o for o in spider.parse_detail(file_response("linzi-zfxxgknb", url)) if isinstance(o, Request)]
    assert [r.meta["kind"] for r in reqs] == ["attachment"]


def test_only_pictures_inside_the_cms_content_container_are_requested():
    body = '''<html><body><div class="banner"><img src="/uploadfiles/2024/top_pic.jpg"></div>
<div class="TRS_Editor"><p><img src="./W0202401.jpg" width="900"></p></div>
<div class="footer"><img src="/uploadfiles/2024/partner.jpg"></div></body></html>'''
    assert detail_requests(inline_spider("trs"), body) == ["http://www.x.gov.cn/nb/202401/W0202401.jpg"]


def test_portal_content_selector_overrides_the_cms_container_and_body_is_the_fallback():
    body = '''<html><body><div class="zw"><img src="a.png"></div><div class="TRS_Editor"><img src="b.png"></div>
</body></html>'''
    assert detail_requests(inline_spider("trs", content="div.zw"), body) == ["http://www.x.gov.cn/nb/202401/a.png"]
    bare = '<html><body><p>正文</p><img src="c.gif"><p><img src="/d.bmp" height="300"></p></body></html>'
    assert detail_requests(inline_spider("generic"), bare) == ["http://www.x.gov.cn/nb/202401/c.gif",
                                                                 "http://www.x.gov.cn/d.bmp"]


def test_offsite_and_data_uri_pictures_are_not_requested_but_allowed_hosts_are():
    body = '''<html><body><div class="TRS_Editor"><img src="http://cdn.example.com/t3.png">
<img src="data:image/png;base64,iVBORw0KGgo="><img src="http://file.x.gov.cn/upload/t2.png">
<img src="t4.png"><img src="t4.png"></div></body></html>'''
    assert detail_requests(inline_spider("trs", allowed_hosts="file.x.gov.cn"), body) == [
        "http://file.x.gov.cn/upload/t2.png", "http://www.x.gov.cn/nb/202401/t4.png"]


@pytest.mark.parametrize("src, attrs, wanted", [
    ("http://x/2024/W020240122512345678.png", {}, True),
    ("http://x/2024/table.JPEG?v=2", {}, True),
    ("http://x/uploadfiles/2024/01/3f2a9c0d4b5e", {}, True),           # extension-less upload
    ("http://x/picture/0/e1f2a3b4c5d6", {}, True),                     # Hanweb picture store
    ("http://x/module/download/downfile.jsp?classid=0&filename=t3.png", {}, True),
    ("http://x/2024/t20240122_2222222.html", {}, False),                # not an image
    ("http://x/static/3f2a9c0d4b5e", {}, False),                        # extension-less outside uploads
    ("http://x/images/logo.png", {}, False),
    ("http://x/images/zfxxgk_logo2.png", {}, False),
    ("http://x/images/icon-pdf.gif", {}, False),
    ("http://x/images/btn_print.gif", {}, False),
    ("http://x/images/ewm.jpg", {}, False),
    ("http://x/images/banner.jpg", {}, False),
    ("http://x/2024/a.png", {"class": "site-logo"}, False),
    ("http://x/2024/a.png", {"alt": "扫一扫在手机打开"}, False),
    ("http://x/2024/a.png", {"width": "16", "height": "16"}, False),
    ("http://x/2024/a.png", {"width": "120px"}, False),
    ("http://x/2024/a.png", {"width": "100%", "height": "auto"}, True),
    ("http://x/2024/a.png", {"width": "800", "height": "1100"}, True),
    ("data:image/png;base64,iVBORw0KGgo=", {}, False),
])
def test_table_image_rules(src, attrs, wanted):
    assert L.is_table_image(src, attrs) is wanted


def test_lazy_loaded_pictures_are_found_by_their_data_src():
    assert L.image_src({"src": "/images/loading.gif", "data-src": "/upload/t3.png"}) == "/upload/t3.png"
    assert L.image_src({"src": " t3.png "}) == "t3.png"
    assert L.image_src({}) == ""
