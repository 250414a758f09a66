"""StorePipeline in a real (tiny) Scrapy crawl of a loopback server."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select

from harvester.db.models import CrawlRun, Document, Report, ReportDocument
from harvester.store import Store

from conftest import ROOT, SEED_000

SPIDER = textwrap.dedent('''
    import sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    base, db_url, data_dir = sys.argv[1:4]

    class TinySpider(scrapy.Spider):
        name = "tiny"
        portal_ids = ["loopback"]
        handle_httpstatus_list = [500]

        async def start(self):
            yield scrapy.Request(base + "/detail.html", callback=self.parse_page)

        def parse_page(self, response):
            yield {"url": response.url, "final_url": response.url, "status": response.status,
                   "content_type": response.headers.get("Content-Type", b"").decode(), "body": response.body,
                   "portal_id": "loopback", "parent_url": None, "fetch_error": None}
            yield {"broken": "an item without a url must not stop the crawl"}
            for href in ("/report.txt", "/down.pdf"):
                yield response.follow(href, callback=self.parse_attachment, cb_kwargs={"parent": response.url})

        def parse_attachment(self, response, parent):
            failed = response.status >= 400
            yield {"url": response.url, "final_url": response.url, "status": response.status,
                   "content_type": response.headers.get("Content-Type", b"").decode(),
                   "body": None if failed else response.body, "portal_id": "loopback", "parent_url": parent,
                   "fetch_error": f"HTTP {response.status}" if failed else None}

    process = CrawlerProcess({"ITEM_PIPELINES": {"harvester.pipelines.store.StorePipeline": 300},
                              "HARVESTER_DB_URL": db_url, "HARVESTER_DATA_DIR": data_dir,
                              "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "INFO"})
    process.crawl(TinySpider)
    process.start()
''')


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/detail.html":
            body = ('<html><head><meta charset="utf-8"></head><body><p>临淄区人民政府办公室2023年政府信息公开'
                    '工作年度报告</p><a href="/report.txt">附件</a></body></html>').encode()
            self._send(200, "text/html; charset=utf-8", body)
        elif self.path == "/report.txt":
            self._send(200, "text/plain; charset=utf-8", SEED_000.read_bytes())
        else:
            self._send(500, "text/plain", b"server error")

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def crawl(tmp_path: Path, base: str, db_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "tiny_spider.py"
    script.write_text(SPIDER, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), base, db_url, str(data_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_crawled_items_are_stored_linked_and_a_bad_item_does_not_stop_the_crawl(
        server: str, tmp_path: Path, db_url: str, data_dir: Path) -> None:
    proc = crawl(tmp_path, server, db_url, data_dir)
    assert "could not store item" in proc.stderr  # the broken item was logged, not fatal
    with Store(db_url, data_dir) as store, store.session() as s:
        docs = {d.url.removeprefix(server): d for d in s.scalars(select(Document))}
        assert set(docs) == {"/detail.html", "/report.txt", "/down.pdf"}
        assert (docs["/down.pdf"].error_kind, docs["/down.pdf"].error_message) == ("fetch", "HTTP 500")
        report_txt = docs["/report.txt"]
        assert report_txt.parent_document_id == docs["/detail.html"].id
        assert (report_txt.agency_name, report_txt.year, report_txt.portal_id) == ("临淄区人民政府办公室", 2023,
                                                                                  "loopback")
        run = s.scalars(select(CrawlRun)).one()
        assert run.kind == "crawl" and run.portals == ["loopback"] and run.finished_at is not None
        assert run.stats["documents_new"] == 3 and run.stats["store_errors"] == 1
        assert run.stats["link"]["reports"] == 1
        [report] = s.scalars(select(Report)).all()
        assert report.canonical_document_id == report_txt.id
        assert s.scalar(select(func.count()).select_from(ReportDocument)) >= 1


def test_crawling_the_same_site_twice_adds_no_documents(server: str, tmp_path: Path, db_url: str,
                                                        data_dir: Path) -> None:
    crawl(tmp_path, server, db_url, data_dir)
    crawl(tmp_path, server, db_url, data_dir)
    with Store(db_url, data_dir) as store, store.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 3
        stats = [r.stats for r in s.scalars(select(CrawlRun).order_by(CrawlRun.id))]
        assert stats[1]["documents_known"] == 3 and "documents_new" not in stats[1]
