"""Hanweb jcms columns that page as `index.html?uid=<uid>&pageNum=N` (saved portal
example-hanweb-jingmen: 荆门市东宝区's column on www.jingmen.gov.cn, 12 records, 5 a page, 3 pages,
the pager written by a script). Crawled through the real Scrapy stack and the replay server like the
other example portals; the count variants are checked on the spider with the saved pages."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester import registry
from harvester.db.models import Document
from harvester.spiders.cms import FAMILIES
from harvester.spiders.portal import PortalSpider
from portal_server import FAMILIES_REGISTRY, PORTALS, serve

HARVESTER = Path(sys.executable).with_name("harvester")
PORTAL = "example-hanweb-jingmen"
HOST = "www.jingmen.gov.cn"
SITE = f"https://{HOST}"
COLUMN = f"{SITE}/col/col17801/index.html"
SAVED = PORTALS / PORTAL / HOST / "col" / "col17801"


def page_url(n: int) -> str:
    return f"{COLUMN}?uid=4938271&pageNum={n}"


PAGE_1_REPORTS = {f"{SITE}/art/2024/1/26/art_17801_1186420.html",   # 东宝区人民政府 2023
                  f"{SITE}/art/2024/1/22/art_17801_1184735.html"}   # 东宝区发展和改革局 2023
PAGE_2_REPORTS = {f"{SITE}/art/2023/1/18/art_17801_968214.html",    # 东宝区人民政府 2022 (+ PDF)
                  f"{SITE}/art/2023/1/16/art_17801_966503.html"}    # 东宝区教育局 2022
PAGE_3_REPORTS = {f"{SITE}/art/2022/1/29/art_17801_867943.html"}    # 东宝区人民政府 2021 (the real URL)
PDF_2022 = f"{SITE}/module/download/downfile.jsp?classid=0&filename=7c2e41b09a5d4f8e9b3a6d1c0e5f2a48.pdf"


def crawl(srv, tmp: Path, registry_file: Path) -> dict[str, Document]:
    db = tmp / "x.sqlite"
    cmd = [str(HARVESTER), "crawl", PORTAL, "--registry", str(registry_file),
           "--data-dir", str(tmp / "data"), "--db", f"sqlite:///{db}"]
    for host_map in srv.host_map():
        cmd += ["--host-map", host_map]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        docs = {d.url: d for d in s.scalars(select(Document))}
        s.expunge_all()
    engine.dispose()
    return docs


def column_requests(srv) -> list[str]:
    """The list pages the replay server was asked for, in order (`path?query`)."""
    return [path for _m, _h, path, _s in srv.served(HOST) if path.startswith("/col/col17801/")]


def test_hanweb_uid_pagenum_column_is_followed_to_its_last_page(tmp_path: Path):
    with serve() as srv:
        docs = crawl(srv, tmp_path, FAMILIES_REGISTRY)
        pages = column_requests(srv)
    assert sorted(pages) == ["/col/col17801/index.html", "/col/col17801/index.html?uid=4938271&pageNum=2",
                             "/col/col17801/index.html?uid=4938271&pageNum=3"]  # each once, no page 4, no 首页 again
    assert set(docs) == PAGE_1_REPORTS | PAGE_2_REPORTS | PAGE_3_REPORTS | {PDF_2022}
    parents = {url: d.parent_url for url, d in docs.items()}
    assert {parents[u] for u in PAGE_1_REPORTS} == {COLUMN}
    assert {parents[u] for u in PAGE_2_REPORTS} == {page_url(2)}
    assert {parents[u] for u in PAGE_3_REPORTS} == {page_url(3)}
    assert parents[PDF_2022] == f"{SITE}/art/2023/1/18/art_17801_968214.html"
    assert all(d.http_status == 200 and d.error_message is None for d in docs.values())


def test_hanweb_pager_claiming_more_pages_than_exist_stops_at_its_count_and_records_the_missing_pages(
        tmp_path: Path):
    """The same column whose pager claims 25 records on 5 pages: pages 4 and 5 answer 404."""
    root = tmp_path / "portals"
    shutil.copytree(PORTALS / PORTAL, root / PORTAL)
    for page in (root / PORTAL / HOST / "col" / "col17801").iterdir():
        html = page.read_text(encoding="utf-8")
        page.write_text(html.replace("共<span>12</span>条", "共<span>25</span>条").replace("/3页", "/5页"),
                        encoding="utf-8")
    entry = next(e for e in FAMILIES_REGISTRY.read_text(encoding="utf-8").split("[[portal]]") if PORTAL in e)
    reg = tmp_path / "portal.toml"
    reg.write_text("[[portal]]" + entry, encoding="utf-8")
    missing = {f"{HOST}/col/col17801/index.html?uid=4938271&pageNum={n}": 404 for n in (4, 5)}
    with serve(root, fail=missing) as srv:
        docs = crawl(srv, tmp_path, reg)
        pages = column_requests(srv)
    assert sorted(pages) == ["/col/col17801/index.html"] + [
        f"/col/col17801/index.html?uid=4938271&pageNum={n}" for n in (2, 3, 4, 5)]  # each once: no loop
    for n in (4, 5):
        gone = docs.pop(page_url(n))
        assert (gone.http_status, gone.error_message, gone.parent_url) == (404, "HTTP 404", COLUMN)
    assert set(docs) == PAGE_1_REPORTS | PAGE_2_REPORTS | PAGE_3_REPORTS | {PDF_2022}


# ---------------------------------------------------------------------- the spider, page by page
@pytest.fixture(scope="module")
def spider() -> PortalSpider:
    reg = registry.load([FAMILIES_REGISTRY], include_default=False, use_env=False)
    return PortalSpider.from_crawler(get_crawler(PortalSpider), portals=[reg[PORTAL]])


def saved_page(n: int) -> str:
    return (SAVED / ("index.html" if n == 1 else f"index.html@uid=4938271&pageNum={n}")).read_text(encoding="utf-8")


def response(url: str, html: str, meta: dict | None = None) -> HtmlResponse:
    request = Request(url, meta={"portal_id": PORTAL, "parent_url": None, "kind": "list", **(meta or {})})
    return HtmlResponse(url=url, body=html.encode(), request=request, headers={"Content-Type": "text/html"})


def list_requests(spider: PortalSpider, resp: HtmlResponse) -> list[Request]:
    """The column pages a list page asks for (its nav links back to the column itself are left to
    Scrapy's duplicate filter: the crawls above see the column page served once)."""
    return [r for r in spider.parse_list(resp)
            if isinstance(r, Request) and r.callback == spider.parse_list and "pageNum=" in r.url]


def test_hanweb_uid_page_count_is_records_over_the_items_of_page_one_without_a_page_count(spider):
    html = saved_page(1).replace("1/3页", "")  # 共<span>12</span>条, 5 <li> in <div id="4938271">
    assert [r.url for r in list_requests(spider, response(COLUMN, html))] == [page_url(2), page_url(3)]


def test_hanweb_uid_pager_without_any_count_is_followed_by_its_next_page_links(spider):
    strip = lambda html, n: html.replace("共<span>12</span>条", "").replace(f"{n}/3页", "")  # noqa: E731
    (second,) = list_requests(spider, response(COLUMN, strip(saved_page(1), 1)))
    assert second.url == page_url(2)
    (third,) = list_requests(spider, response(second.url, strip(saved_page(2), 2), second.meta))
    assert third.url == page_url(3)
    assert list_requests(spider, response(third.url, strip(saved_page(3), 3), third.meta)) == []


def test_hanweb_uid_pager_with_a_short_page_count_follows_the_next_page_link_past_it(spider):
    short = lambda html: html.replace("/3页", "/2页")  # noqa: E731  (page 2 still links 下一页 → pageNum=3)
    (second,) = list_requests(spider, response(COLUMN, short(saved_page(1))))
    assert second.url == page_url(2)
    (third,) = list_requests(spider, response(second.url, short(saved_page(2)), second.meta))
    assert third.url == page_url(3)
    assert list_requests(spider, response(third.url, short(saved_page(3)), third.meta)) == []


def test_hanweb_uid_pager_built_from_its_uid_variable_alone_still_pages(spider):
    """The pager's links concatenated in the script (`"?uid=" + uid + "&pageNum=" + n`): the uid comes
    from its variable, which names the list module `<div id="4938271">`."""
    html = saved_page(1).replace("index.html?uid=4938271&pageNum=", "index.html?uid=' + uid + '&pageNum=")
    assert "uid=4938271&" not in html
    assert [r.url for r in list_requests(spider, response(COLUMN, html))] == [page_url(2), page_url(3)]
    unrelated = html.replace('<div id="4938271">', '<div class="list-module">')
    assert list_requests(spider, response(COLUMN, unrelated)) == []


def test_hanweb_uid_pages_asked_for_by_the_column_ask_for_nothing_more(spider):
    (second, third) = list_requests(spider, response(COLUMN, saved_page(1)))
    assert list_requests(spider, response(second.url, saved_page(2), second.meta)) == []
    assert list_requests(spider, response(third.url, saved_page(3), third.meta)) == []


def test_hanweb_uid_pager_links_in_the_page_are_pages_not_sub_columns(spider):
    """A pager rendered into the DOM (no script): each page is asked for once, by the paging."""
    html = saved_page(1)
    start, end = html.index("<script type=\"text/javascript\">\nvar uid"), html.index("</script></div>")
    dom = html[start:end].split("document.write('")[1:]
    html = html[:start] + "".join(part.split("');")[0] for part in dom) + html[end + len("</script>"):]
    assert '<a href="index.html?uid=4938271&pageNum=2"' in html and "document.write" not in html
    assert [r.url for r in list_requests(spider, response(COLUMN, html))] == [page_url(2), page_url(3)]


def test_hanweb_uid_pager_claiming_absurdly_many_pages_is_capped(spider):
    html = saved_page(1).replace("1/3页", "1/99999页")
    urls = [r.url for r in list_requests(spider, response(COLUMN, html))]
    cap = FAMILIES["hanweb"].MAX_PAGES
    assert len(urls) == cap - 1 and urls[-1] == page_url(cap)
