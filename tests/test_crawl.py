"""End to end: the real Scrapy stack (subprocess `harvester crawl`) against saved portals
replayed on 127.0.0.1 through --host-map, then the SQLite database checked with SQLAlchemy."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from harvester.db.models import Cell, Document, ExtractionErrorRow, Report, ReportDocument
from portal_server import REGISTRY, serve

REPO = Path(__file__).resolve().parents[1]
HARVESTER = Path(sys.executable).with_name("harvester")
PORTAL_IDS = ["linzi-zfxxgknb", "yaodu-col1229", "laishan-gknb"]

LINZI = "http://www.linzi.gov.cn/zwgk/zfxxgknb/"
LINZI_2023_HTML = LINZI + "202401/t20240119_1234567.html"
LINZI_2023_PDF = LINZI + "202401/P020240119384712345678.pdf"
LINZI_2023_PDF_ALT = LINZI + "202401/W020240119384712345678.pdf"
GXJ_2021_HTML = LINZI + "202201/t20220125_7654321.html"
GXJ_2021_DOCX = LINZI + "202201/P020220125500000000001.docx"
GXJ_2021_PDF_500 = LINZI + "202201/P020220125500000000002.pdf"
YAODU_2023_HTML = "http://www.yaodu.gov.cn/art/2024/1/22/art_1229_3456789.html"
LAISHAN_2023_HTML = "http://www.laishan.gov.cn/zfb/gknb/202401/3f2a9c0d4b5e4f6a8b7c6d5e4f3a2b1c.shtml"
LAISHAN_DOWNFILE = ("http://www.laishan.gov.cn/module/download/downfile.jsp?filename="
                    "%E7%83%9F%E5%8F%B0%E5%B8%82%E8%8E%B1%E5%B1%B1%E5%8C%BA%E4%BA%BA%E6%B0%91%E6%94%BF"
                    "%E5%BA%9C%E5%8A%9E%E5%85%AC%E5%AE%A42023%E5%B9%B4%E5%BA%A6%E6%94%BF%E5%BA%9C%E4%BF"
                    "%A1%E6%81%AF%E5%85%AC%E5%BC%80%E5%B7%A5%E4%BD%9C%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf")

GOLDENS = Path(__file__).parent / "goldens" / "portals"
ZIBO_URLS = {"http://www.zibo.gov.cn/gongkai/qxnb/202401/t20240122_2222222.html",
             "http://www.zibo.gov.cn/gongkai/qxnb/202401/W020240122512345678.png"}  # demo only
EXPECTED_URLS = {LINZI_2023_HTML, LINZI_2023_PDF, LINZI_2023_PDF_ALT, GXJ_2021_HTML, GXJ_2021_DOCX,
                 GXJ_2021_PDF_500, YAODU_2023_HTML, LAISHAN_2023_HTML, LAISHAN_DOWNFILE}


def run_crawl(srv, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [str(HARVESTER), "crawl", *PORTAL_IDS, "--registry", str(REGISTRY),
           "--data-dir", str(tmp / "data"), "--db", f"sqlite:///{tmp / 'x.sqlite'}"]
    for entry in srv.host_map():
        cmd += ["--host-map", entry]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return proc


def counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {name: s.scalar(select(func.count()).select_from(model))
                for name, model in (("documents", Document), ("reports", Report), ("cells", Cell),
                                    ("report_documents", ReportDocument))}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl")
    with serve() as srv:
        first = run_crawl(srv, tmp)
        engine = create_engine(f"sqlite:///{tmp / 'x.sqlite'}")
        after_first = counts(engine)
        log_first = list(srv.served())
        second = run_crawl(srv, tmp)
        after_second = counts(engine)
    yield {"engine": engine, "log": log_first, "first": first, "second": second,
           "counts": (after_first, after_second)}
    engine.dispose()


def docs(engine) -> dict[str, Document]:
    with Session(engine) as s:
        return {d.url: d for d in s.scalars(select(Document))}


def test_crawl_stores_exactly_the_report_pages_and_attachments(crawled):
    assert set(docs(crawled["engine"])) == EXPECTED_URLS


def test_crawl_keeps_real_portal_urls_never_the_replay_address(crawled):
    for d in docs(crawled["engine"]).values():
        for value in (d.url, d.final_url, d.parent_url):
            assert value is None or ("127.0.0.1" not in value and "localhost" not in value), value
    assert docs(crawled["engine"])[LINZI_2023_PDF].parent_url == LINZI_2023_HTML


def test_failing_attachment_is_recorded_with_its_http_error(crawled):
    bad = docs(crawled["engine"])[GXJ_2021_PDF_500]
    assert (bad.http_status, bad.error_kind, bad.error_message) == (500, "fetch", "HTTP 500")
    assert bad.parent_url == GXJ_2021_HTML
    with Session(crawled["engine"]) as s:
        kinds = s.scalars(select(ExtractionErrorRow.kind).where(ExtractionErrorRow.document_id == bad.id)).all()
    assert kinds == ["fetch"]
    missing = docs(crawled["engine"])[LAISHAN_DOWNFILE]
    assert (missing.http_status, missing.error_message) == (404, "HTTP 404")


def test_offsite_robots_refused_and_out_of_year_links_are_never_requested(crawled):
    log = crawled["log"]
    hosts = {host for _m, host, _p, _s in log}
    assert hosts == {"www.linzi.gov.cn", "www.yaodu.gov.cn", "www.laishan.gov.cn"}  # no www.zibo.gov.cn
    paths = {path for _m, _h, path, _s in log}
    assert not any("/old/" in p for p in paths)                      # Disallow: /zwgk/zfxxgknb/old/
    assert "/art/2023/1/20/art_1229_3300001.html" not in paths       # 2022 report, years = [2023]
    assert not any(p.startswith("/zfb/zwgk/") for p in paths)         # 工作方案: not a report


def test_robots_txt_and_every_list_page_go_through_the_host_map(crawled):
    seen = {(m, h, p.split("?")[0]) for m, h, p, _s in crawled["log"]}
    assert ("GET", "www.linzi.gov.cn", "/robots.txt") in seen
    for page in ("index.html", "index_1.html", "index_2.html"):                 # createPageHTML(3, ...)
        assert ("GET", "www.linzi.gov.cn", f"/zwgk/zfxxgknb/{page}") in seen
    assert ("POST", "www.yaodu.gov.cn", "/module/web/jpage/dataproxy.jsp") in seen  # Hanweb records
    assert ("GET", "www.laishan.gov.cn", "/zfb/gknb/index_2.shtml") in seen       # 下一页


def test_report_page_and_its_pdf_attachment_are_linked_into_one_report(crawled):
    d = docs(crawled["engine"])
    with Session(crawled["engine"]) as s:
        report_of = dict(s.execute(select(ReportDocument.document_id, ReportDocument.report_id)).all())
    html, pdf = d[LINZI_2023_HTML], d[LINZI_2023_PDF]
    assert pdf.media_type == "application/pdf"
    assert report_of[html.id] == report_of[pdf.id]
    assert report_of[d[GXJ_2021_HTML].id] == report_of[d[GXJ_2021_DOCX].id]
    assert report_of[html.id] != report_of[d[GXJ_2021_HTML].id]
    # the same PDF published at a second URL: stored under that URL too, and part of the same report
    assert d[LINZI_2023_PDF_ALT].sha256 == pdf.sha256
    assert report_of[d[LINZI_2023_PDF_ALT].id] == report_of[html.id]


def test_gbk_page_served_without_charset_is_decoded_and_extracted(crawled):
    page = docs(crawled["engine"])[LINZI_2023_HTML]
    assert (page.agency_name, page.year) == ("临淄区人民政府办公室", 2023)


def test_second_crawl_adds_nothing(crawled):
    first, second = crawled["counts"]
    assert first["documents"] == len(EXPECTED_URLS)
    assert first["reports"] >= 4 and first["cells"] > 0
    assert second == first


def test_demo_crawls_the_bundled_portals_offline_links_and_exports_csv(tmp_path):
    proc = subprocess.run([str(HARVESTER), "demo", "--data-dir", str(tmp_path / "data")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    out = proc.stdout
    for agency in ("临淄区人民政府办公室", "临淄区工业和信息化局", "临汾市尧都区人民政府办公室", "烟台市莱山区人民政府办公室"):
        assert agency in out
    # 9 documents of the three portals above + zibo-qxnb's page and its table picture (same 临淄 2023 report)
    # + the two 朝阳区 portals' pages and tjhp's four years (tests/test_identity_portals.py)
    assert "documents: 17 stored, 2 fetch errors" in out
    export = tmp_path / "data" / "export"
    assert (export / "reports.csv").read_text(encoding="utf-8").count("\n") == 1 + 4 + 2 + 4
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'harvester.sqlite'}")
    identity = {u for pid in ("bjchy-zfxxgknb", "cccy-ndbg", "tjhp-series")
                for u in json.loads((GOLDENS / f"{pid}.json").read_text(encoding="utf-8"))["documents"]}
    assert set(docs(engine)) == EXPECTED_URLS | ZIBO_URLS | identity
    engine.dispose()
