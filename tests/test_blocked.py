"""Blocked, not empty: challenge pages, WAF pages, cookie loops, JavaScript shells and soft-404s are
recognised by the rules of harvester/blocked.py, recorded in fetch_blocks with their body archived,
never stored as documents, and make the crawl exit 1 naming the portal (unless expected)."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.blocked import classify
from harvester.db.models import Document, FetchBlock, Portal
from portal_server import BLOCKED_REGISTRY, PORTALS, serve

HARVESTER = Path(sys.executable).with_name("harvester")
DERIVED = Path(__file__).parent / "fixtures" / "derived"
ENTRIES = {e["id"]: e for e in tomllib.loads(BLOCKED_REGISTRY.read_text(encoding="utf-8"))["portal"]}
#: portal -> (outcome printed in the summary, rule recorded in fetch_blocks or None)
EXPECTED = {
    "blocked-412-gansu": ("blocked", "js-challenge"),
    "blocked-521-nhc": ("blocked", "jsl-challenge"),
    "blocked-cookie-moj": ("blocked", "cookie-loop"),
    "blocked-403-henan": ("blocked (expected)", "waf-403"),
    "blocked-jsshell-chengdu": ("blocked", "js-shell"),
    "gone-soft404-fengtai": ("gone", "soft-404"),
    "robots-shunyi": ("robots", None),
}


def crawl(ids: list[str], tmp: Path) -> tuple[subprocess.CompletedProcess, Path]:
    db = tmp / "x.sqlite"
    with serve() as srv:
        cmd = [str(HARVESTER), "crawl", *ids, "--registry", str(BLOCKED_REGISTRY), "--data-dir", str(tmp / "data"),
               "--db", f"sqlite:///{db}", "--log-level", "WARNING"]
        for entry in srv.host_map():
            cmd += ["--host-map", entry]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=240)
    return proc, db


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("blocked")
    proc, db = crawl(list(EXPECTED), tmp)
    engine = create_engine(f"sqlite:///{db}")
    yield {"proc": proc, "engine": engine, "data": tmp / "data"}
    engine.dispose()


def test_every_blocked_mode_has_a_saved_portal():
    assert set(EXPECTED) | {"blocked-cookie-moj-warmup"} == set(ENTRIES)
    for pid in EXPECTED:
        assert (PORTALS / pid).is_dir()


def test_crawl_of_blocked_portals_exits_1_and_names_each_with_its_outcome(crawled):
    proc = crawled["proc"]
    assert proc.returncode == 1, proc.stderr[-3000:]
    for pid, (outcome, _rule) in EXPECTED.items():
        assert f"{outcome}: {pid} — 0 reports" in proc.stdout, (pid, proc.stdout)
    not_ok = proc.stderr.split("not ok: ", 1)[1].split("\n", 1)[0].split(", ")
    assert set(not_ok) == set(EXPECTED) - {"blocked-403-henan"}  # henan declares expect = ["blocked"]


def test_each_block_is_recorded_with_its_rule_and_the_body_archived_as_evidence(crawled):
    with Session(crawled["engine"]) as s:
        blocks = {b.portal_id: b for b in s.scalars(select(FetchBlock))}
    assert {pid: b.rule for pid, b in blocks.items()} == {pid: r for pid, (_, r) in EXPECTED.items() if r}
    for b in blocks.values():
        body = (crawled["data"] / b.raw_path).read_bytes()
        assert hashlib.sha256(body).hexdigest() == b.sha256 and body
        assert b.crawl_run_id is not None and b.url.startswith("http://")
    assert blocks["blocked-412-gansu"].http_status == 412 and b"$_ts" in (crawled["data"] / blocks[
        "blocked-412-gansu"].raw_path).read_bytes()
    assert blocks["gone-soft404-fengtai"].kind == "gone" and blocks["blocked-521-nhc"].kind == "blocked"


def test_blocked_responses_are_never_documents(crawled):
    with Session(crawled["engine"]) as s:
        assert list(s.scalars(select(Document.url))) == []


def test_portal_status_becomes_blocked_or_gone(crawled):
    with Session(crawled["engine"]) as s:
        status = {p.id: p.status for p in s.scalars(select(Portal))}
    assert status["blocked-412-gansu"] == status["blocked-cookie-moj"] == status["blocked-jsshell-chengdu"] == "blocked"
    assert status["gone-soft404-fengtai"] == "gone"
    assert status["robots-shunyi"] == "unverified"


def test_expected_block_alone_exits_0(tmp_path):
    proc, _ = crawl(["blocked-403-henan"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "blocked (expected): blocked-403-henan" in proc.stdout


def test_cookie_warmup_gets_through_the_cookie_loop_waf(tmp_path):
    proc, db = crawl(["blocked-cookie-moj-warmup"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        assert list(s.scalars(select(Document.url))) == [
            "http://www.moj.gov.cn/pub/sfbgwapp/zwgk/xxgknb/202403/t20240329_496563.html"]
        assert list(s.scalars(select(FetchBlock))) == []
    engine.dispose()


# ---------------------------------------------------------------- the rules on single responses
@pytest.mark.parametrize("path, status, rule", [
    ("blocked-412-gansu/www.gansu.gov.cn/_challenge.html", 412, "js-challenge"),
    ("blocked-521-nhc/www.nhc.gov.cn/_jsl.html", 521, "jsl-challenge"),
    ("blocked-403-henan/www.henan.gov.cn/_waf.html", 403, "waf-403"),
    ("blocked-403-henan/www.henan.gov.cn/_waf.html", 200, "waf-page"),
    ("blocked-jsshell-chengdu/www.chengdu.gov.cn/chengdu/c147336/nb.shtml", 200, "js-shell"),
    ("gone-soft404-fengtai/www.bjft.gov.cn/ftq/zfxxgknb/index.shtml", 200, "soft-404"),
    ("example-fjsearch-pingtan/www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202203/t20220310_60001.htm", 200,
     "meta-refresh"),
    ("example-ucap-dt/www.dt.gov.cn/dtszf/gkndbgz/index_2.shtml", 200, "empty-stub"),
])
def test_rule_recognises_the_saved_defence_page(path: str, status: int, rule: str):
    got = classify(status, (PORTALS / path).read_bytes(), "text/html")
    assert got is not None and got.name == rule


@pytest.mark.parametrize("path, content_type", [
    (DERIVED / "seed000_trs_gbk.html", "text/html"),
    (DERIVED / "seed001_hanweb_utf8.html", "text/html; charset=utf-8"),
    (DERIVED / "seed003_gb2312.html", None),
    (DERIVED / "seed000_template.pdf", "application/pdf"),
    (PORTALS / "yaodu-col1229/www.yaodu.gov.cn/module/web/jpage/dataproxy.jsp", "text/xml;charset=UTF-8"),
    (PORTALS / "linzi-zfxxgknb/www.linzi.gov.cn/zwgk/zfxxgknb/index_2.html", "text/html"),
    (PORTALS / "example-gkmlpt-whly/whly.gd.gov.cn/gkmlpt/annualreport", "text/html"),
    (PORTALS / "example-hanweb-taian/www.taian.gov.cn/col/col232135/index.html", "text/html"),
    (PORTALS / "example-hanweb-jingmen/www.jingmen.gov.cn/col/col17801/index.html@uid=4938271&pageNum=3", "text/html"),
])
def test_real_report_pages_lists_and_files_are_not_blocked(path: Path, content_type):
    assert classify(200, path.read_bytes(), content_type) is None


def test_a_pdf_with_a_403_is_still_a_refusal_but_a_404_is_a_plain_error():
    pdf = (DERIVED / "seed000_template.pdf").read_bytes()
    assert classify(403, pdf, "application/pdf").name == "waf-403"
    assert classify(404, b"<html><body>404</body></html>", "text/html") is None
