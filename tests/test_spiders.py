"""PortalSpider callbacks on saved pages (City Scrapers `file_response` style): no network."""
from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import FormRequest, Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure
from twisted.internet.error import DNSLookupError, TimeoutError as TxTimeoutError
from scrapy.spidermiddlewares.httperror import HttpError

from harvester import registry
from harvester.hostmap import HostMapMiddleware, parse_host_map
from harvester.errors import ConfigError
from harvester.spiders import links as L
from harvester.spiders.portal import PortalSpider

PORTALS = Path(__file__).resolve().parents[1] / "harvester" / "demo" / "portals"
ITEM_KEYS = {"url", "final_url", "status", "content_type", "body", "portal_id", "parent_url", "fetch_error"}


@pytest.fixture(scope="module")
def spider():
    reg = registry.load([PORTALS / "registry.toml"], include_default=False, use_env=False)
    crawler = get_crawler(PortalSpider)
    return PortalSpider.from_crawler(crawler, portals=list(reg.values()))


def file_response(portal_id: str, url: str, *, cls=HtmlResponse, meta=None, request_cls=Request,
                  headers=None, status=200) -> Response:
    """A response whose body is the saved file for `url` (served without a charset, like the portals)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + ("index.html" if parts.path.endswith("/") else "")
    body = (PORTALS / portal_id / parts.hostname / path.lstrip("/")).read_bytes()
    request = request_cls(url, meta={"portal_id": portal_id, "parent_url": None, "kind": "list", **(meta or {})})
    return cls(url=url, body=body, request=request, status=status,
               headers=headers or {"Content-Type": "text/html"})


def split(results):
    reqs = [r for r in results if isinstance(r, Request)]
    items = [r for r in results if isinstance(r, dict)]
    return reqs, items


LINZI = "http://www.linzi.gov.cn/zwgk/zfxxgknb/"


def test_trs_first_list_page_yields_its_report_and_every_createpagehtml_page(spider):
    reqs, items = split(list(spider.parse_list(file_response("linzi-zfxxgknb", LINZI + "index.html"))))
    assert items == []  # list pages are navigation, not documents
    details = [r for r in reqs if r.callback == spider.parse_detail]
    pages = {r.url for r in reqs if r.callback == spider.parse_list}
    assert [r.url for r in details] == [LINZI + "202401/t20240119_1234567.html"]
    assert pages == {LINZI + "index.html", LINZI + "index_1.html", LINZI + "index_2.html"}
    # nav links 政府信息公开 / 政府信息公开指南 / 制度 are not reports
    assert all("zn/" not in r.url and "zd/" not in r.url for r in reqs)
    assert details[0].meta["parent_url"] == LINZI + "index.html"
    assert details[0].errback == spider.on_error


def test_trs_list_link_straight_to_a_pdf_is_an_attachment_request(spider):
    reqs, _ = split(list(spider.parse_list(file_response("linzi-zfxxgknb", LINZI + "index_1.html"))))
    by_url = {r.url: r.callback for r in reqs}
    assert by_url[LINZI + "202401/W020240119384712345678.pdf"] == spider.parse_attachment
    assert by_url[LINZI + "202201/t20220125_7654321.html"] == spider.parse_detail


def test_offsite_report_link_is_not_followed(spider):
    reqs, _ = split(list(spider.parse_list(file_response("linzi-zfxxgknb", LINZI + "index_2.html"))))
    assert not any("zibo.gov.cn" in r.url for r in reqs)
    # robots.txt, not the spider, keeps /old/ out: the request is still made
    assert LINZI + "old/t20200110_1000001.html" in {r.url for r in reqs}


def test_gbk_detail_page_yields_itself_and_its_pdf_attachment(spider):
    url = LINZI + "202401/t20240119_1234567.html"
    resp = file_response("linzi-zfxxgknb", url, meta={"kind": "detail", "parent_url": LINZI + "index.html"})
    assert "临淄区人民政府办公室" in resp.text  # decoded without a charset header or meta
    reqs, items = split(list(spider.parse_detail(resp)))
    assert len(items) == 1 and set(items[0]) == ITEM_KEYS
    assert items[0]["url"] == url and items[0]["body"] == resp.body and items[0]["fetch_error"] is None
    assert items[0]["parent_url"] == LINZI + "index.html" and items[0]["portal_id"] == "linzi-zfxxgknb"
    assert [(r.url, r.callback) for r in reqs] == [(LINZI + "202401/P020240119384712345678.pdf",
                                                    spider.parse_attachment)]
    assert reqs[0].meta["parent_url"] == url


def test_detail_page_attachments_include_docx_pdf_and_downfile_jsp(spider):
    reqs, _ = split(list(spider.parse_detail(file_response("linzi-zfxxgknb", LINZI + "202201/t20220125_7654321.html"))))
    assert {r.url for r in reqs} == {LINZI + "202201/P020220125500000000001.docx",
                                     LINZI + "202201/P020220125500000000002.pdf"}
    url = "http://www.laishan.gov.cn/zfb/gknb/202401/3f2a9c0d4b5e4f6a8b7c6d5e4f3a2b1c.shtml"
    reqs, items = split(list(spider.parse_detail(file_response("laishan-gknb", url))))
    assert len(items) == 1
    assert [r.url.split("?")[0] for r in reqs] == ["http://www.laishan.gov.cn/module/download/downfile.jsp"]


def test_hanweb_column_page_posts_to_dataproxy_with_the_column_parameters(spider):
    url = "http://www.yaodu.gov.cn/col/col1229/index.html"
    reqs, items = split(list(spider.parse_list(file_response("yaodu-col1229", url))))
    assert items == []
    details = [r.url for r in reqs if r.callback == spider.parse_detail]
    assert details == ["http://www.yaodu.gov.cn/art/2024/1/22/art_1229_3456789.html"]  # inline record
    (proxy,) = [r for r in reqs if isinstance(r, FormRequest)]
    assert proxy.method == "POST" and proxy.callback == spider.parse_list
    assert proxy.url == ("http://www.yaodu.gov.cn/module/web/jpage/dataproxy.jsp"
                         "?startrecord=1&endrecord=45&perpage=15")
    form = dict(x.split("=", 1) for x in proxy.body.decode().split("&"))
    assert form["columnid"] == "1229" and form["unitid"] == "4521" and form["webid"] == "1"


def test_hanweb_dataproxy_xml_yields_detail_requests_within_allowed_years(spider):
    url = "http://www.yaodu.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15"
    resp = file_response("yaodu-col1229", url.split("?")[0], cls=XmlResponse,
                         headers={"Content-Type": "text/xml;charset=UTF-8"})
    resp = resp.replace(url=url)
    reqs, _ = split(list(spider.parse_list(resp)))
    # 2 records; the 2022 one is outside years = [2023]; totalrecord 2 <= 45: no further window
    assert [r.url for r in reqs] == ["http://www.yaodu.gov.cn/art/2024/1/22/art_1229_3456789.html"]


def test_hanweb_dataproxy_asks_for_the_next_window_while_records_remain(spider):
    body = ("<datastore><totalrecord>100</totalrecord><recordset>"
            "<record><![CDATA[<li><a href=\"/art/2024/1/2/art_1229_1.html\">2023年政府信息公开工作年度报告</a></li>]]>"
            "</record></recordset></datastore>").encode()
    url = "http://www.yaodu.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15"
    req = FormRequest(url, formdata={"columnid": "1229"},
                      meta={"portal_id": "yaodu-col1229", "hanweb_params": {"columnid": "1229", "unitid": "1"}})
    reqs, _ = split(list(spider.parse_list(XmlResponse(url=url, body=body, request=req))))
    assert [r.url for r in reqs if r.callback == spider.parse_list] == [
        "http://www.yaodu.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15"]


def test_generic_list_follows_next_page_link_and_skips_non_reports(spider):
    url = "http://www.laishan.gov.cn/zfb/gknb/index.shtml"
    reqs, _ = split(list(spider.parse_list(file_response("laishan-gknb", url))))
    assert [r.url for r in reqs if r.callback == spider.parse_detail] == []  # 工作方案 is not a report
    assert {r.url for r in reqs if r.callback == spider.parse_list} == {
        "http://www.laishan.gov.cn/zfb/gknb/index_2.shtml"}


def test_fetch_failures_become_items_with_fetch_error(spider):
    req = Request(LINZI + "202201/P020220125500000000002.pdf",
                  meta={"portal_id": "linzi-zfxxgknb", "parent_url": LINZI + "x.html", "kind": "attachment"})
    resp = Response(req.url, status=500, request=req, headers={"Content-Type": "text/html"})
    failure = Failure(HttpError(resp))
    failure.request = req
    item = spider.on_error(failure)
    assert set(item) == ITEM_KEYS | {"fetch_error_kind"}
    assert (item["url"], item["status"], item["body"], item["fetch_error"]) == (req.url, 500, None, "HTTP 500")
    assert item["fetch_error_kind"] == "http_5xx"
    for exc, name, kind in ((DNSLookupError("nx.example.gov.cn"), "DNSLookupError", "dns"),
                            (TxTimeoutError(), "TimeoutError", "timeout")):
        f = Failure(exc)
        f.request = req
        item = spider.on_error(f)
        assert item["fetch_error"].startswith(name) and item["status"] is None and item["body"] is None
        assert item["fetch_error_kind"] == kind


def test_link_classification():
    assert L.looks_like_report("临淄区人民政府办公室2023年政府信息公开工作年度报告", "http://x/a.html")
    assert L.looks_like_report("2022年年报", "http://x/a.html")
    assert not L.looks_like_report("政府信息公开", "http://x/zwgk/")
    assert not L.looks_like_report("政府信息公开指南", "http://x/zn/")
    assert not L.looks_like_report("2023年政府信息公开工作年度报告解读", "http://x/jd.html")
    assert L.looks_like_report("", "http://x/zwgk/202401/t20240119_1234567.html")
    assert L.is_attachment("http://x/module/download/downfile.jsp?classid=0&filename=a.pdf")
    assert all(L.is_attachment(f"http://x/a.{e}") for e in ("pdf", "PDF", "doc", "docx", "wps", "xls", "xlsx",
                                                            "ofd", "zip"))
    assert not L.is_attachment("http://x/a.html")
    assert L.report_year("临淄区2021年政府信息公开工作年度报告") == 2021


def test_host_map_points_the_connection_elsewhere_and_leaves_the_url_alone():
    mw = HostMapMiddleware(parse_host_map(["www.linzi.gov.cn=127.0.0.1:8080"]))
    req = Request(LINZI + "index.html")
    mw.process_request(req)
    assert req.meta["proxy"] == "http://127.0.0.1:8080" and req.url == LINZI + "index.html"
    other = Request("http://www.zibo.gov.cn/")
    mw.process_request(other)
    assert "proxy" not in other.meta
    with pytest.raises(ConfigError, match="--host-map value 'www.linzi.gov.cn:8080'"):
        parse_host_map(["www.linzi.gov.cn:8080"])


def test_non_text_response_to_a_list_request_is_kept_as_a_document(spider):
    req = Request("http://www.linzi.gov.cn/a.pdf", meta={"portal_id": "linzi-zfxxgknb", "kind": "list"})
    resp = Response(req.url, body=b"%PDF-1.4", request=req, headers={"Content-Type": "application/pdf"})
    _, items = split(list(spider.parse_list(resp)))
    assert items[0]["body"] == b"%PDF-1.4" and items[0]["content_type"] == "application/pdf"
    assert not isinstance(resp, TextResponse)


def test_navigation_link_back_to_the_column_is_not_a_report():
    assert not L.looks_like_report("政府信息公开年报", "http://www.linzi.gov.cn/zwgk/zfxxgknb/index.html")
    assert not L.looks_like_report("政府信息公开年报", "http://www.linzi.gov.cn/zwgk/zfxxgknb/")
    assert not L.looks_like_report("年报", "http://x.gov.cn/zfxxgk/gknb/list_2.shtml")


def _portal_spider(toml: str) -> PortalSpider:
    portals = registry.parse_toml(toml, "inline.toml")
    return PortalSpider.from_crawler(get_crawler(PortalSpider), portals=portals)


def test_registry_selectors_drive_a_generic_portal_without_code():
    spider = _portal_spider('''
[[portal]]
id = "sel"
name = "n"
agency = "a"
level = "county"
cms = "generic"
start_urls = ["http://www.x.gov.cn/nb/list.shtml"]
[portal.selectors]
list_item = "ul.reports li"
next_page = "a.pg-next"
''')
    body = '''<html><body><a href="/news/1.html">2023年政府信息公开工作年度报告</a>
<ul class="reports"><li><a href="/nb/2024/a1.shtml">县教育局</a></li><li><a href="/nb/2024/a2.pdf">县卫健委</a></li></ul>
<a class="pg-next" href="list_2.shtml">›</a></body></html>'''.encode()
    req = Request("http://www.x.gov.cn/nb/list.shtml", meta={"portal_id": "sel", "kind": "list"})
    reqs, _ = split(list(spider.parse_list(HtmlResponse(req.url, body=body, request=req))))
    got = {(r.url, r.callback.__name__) for r in reqs}
    assert got == {("http://www.x.gov.cn/nb/2024/a1.shtml", "parse_detail"),
                   ("http://www.x.gov.cn/nb/2024/a2.pdf", "parse_attachment"),
                   ("http://www.x.gov.cn/nb/list_2.shtml", "parse_list")}  # the link outside list_item is ignored


def test_trs_countpage_script_with_shtml_suffix_gives_every_page():
    spider = _portal_spider('''
[[portal]]
id = "t"
name = "n"
agency = "a"
level = "city"
cms = "trs"
start_urls = ["http://www.km.gov.cn/bm/zfxxgknb/index.shtml"]
''')
    body = b'''<html><body><script>var countPage = 4;var currentPage = 0;
createPageHTML(countPage, currentPage, "index", "shtml");</script></body></html>'''
    req = Request("http://www.km.gov.cn/bm/zfxxgknb/index.shtml", meta={"portal_id": "t", "kind": "list"})
    reqs, _ = split(list(spider.parse_list(HtmlResponse(req.url, body=body, request=req))))
    assert {r.url.rsplit("/", 1)[1] for r in reqs} == {"index.shtml", "index_1.shtml", "index_2.shtml",
                                                       "index_3.shtml"}
