"""A hostile portal: a timeout, an oversized file, a corrupt PDF, a zip bomb, a GBK page without a
charset and an attachment named to escape the data directory. The real crawl (Scrapy in a
subprocess) must finish, record every failure next to its document, keep what it harvested, and
write nothing outside the data directory."""
from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.db.models import Document

HARVESTER = Path(sys.executable).with_name("harvester")
SEED_000 = Path(__file__).parent / "fixtures" / "seeds" / "000_7ffb10b0611b3e96.txt"
HOST = "www.hostile.gov.cn"
BASE = f"http://{HOST}/gknb/"


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<" + b"a" * (80 * 1024 * 1024) + b">")
    return buf.getvalue()


def _pages() -> dict[str, tuple[int, str, bytes, float]]:
    """path -> (status, content type, body, delay seconds)."""
    seed = SEED_000.read_text(encoding="utf-8")
    paras = "".join(f"<p>{line}</p>" for line in seed.splitlines() if line.strip() and "\t" not in line)
    detail = (f"<html><head><title>临淄区人民政府办公室2023年政府信息公开工作年度报告</title></head><body>"
              f"<div class='article'>{paras}"
              "<a href='slow.pdf'>附件1</a> <a href='huge.pdf'>附件2</a> <a href='broken.pdf'>附件3</a>"
              "<a href='bomb.docx'>附件4</a> <a href='/gknb/..%2F..%2F..%2Fescape.pdf'>附件5</a>"
              "</div></body></html>").encode("gb18030")
    listing = ("<html><body><ul><li><a href='t20240119_1.html'>临淄区人民政府办公室2023年政府信息公开工作年度报告</a>"
               "</li></ul></body></html>").encode("gb18030")
    return {
        "/robots.txt": (200, "text/plain", b"User-agent: *\nAllow: /\n", 0),
        "/gknb/index.html": (200, "text/html", listing, 0),
        "/gknb/t20240119_1.html": (200, "text/html", detail, 0),  # GBK, no charset anywhere
        "/gknb/slow.pdf": (200, "application/pdf", b"%PDF-1.4\n", 5.0),
        "/gknb/huge.pdf": (200, "application/pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024), 0),
        "/gknb/broken.pdf": (200, "application/pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nbroken", 0),
        "/gknb/bomb.docx": (200, "application/octet-stream", _zip_bomb(), 0),
        "/gknb/..%2F..%2F..%2Fescape.pdf": (200, "application/pdf", b"%PDF-1.4\nnot really\n", 0),
    }


class _Handler(BaseHTTPRequestHandler):
    pages: dict = {}

    def do_GET(self):  # noqa: N802
        path = self.path.split(HOST, 1)[-1] if self.path.startswith("http") else self.path
        status, ctype, body, delay = self.pages.get(path, (404, "text/plain", b"not found", 0))
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if path.endswith(".pdf"):
                self.send_header("Content-Disposition", 'attachment; filename="../../../../tmp/evil.pdf"')
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    _Handler.pages = _pages()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    registry = tmp / "hostile.toml"
    registry.write_text(f'''[[portal]]
id = "hostile"
name = "hostile test portal"
agency = "临淄区人民政府办公室"
level = "district"
cms = "generic"
start_urls = ["{BASE}index.html"]
''', encoding="utf-8")
    data = tmp / "work" / "data"
    (tmp / "work").mkdir()
    before = {p for p in tmp.rglob("*")}
    cmd = [str(HARVESTER), "crawl", "hostile", "--registry", str(registry), "--data-dir", str(data),
           "--db", f"sqlite:///{data / 'h.sqlite'}", "--host-map", f"{HOST}=127.0.0.1:{httpd.server_address[1]}",
           "--set", "DOWNLOAD_TIMEOUT=2", "--set", "DOWNLOAD_MAXSIZE=1000000", "--set", "RETRY_TIMES=0",
           "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=false"]
    proc = subprocess.run(cmd, cwd=tmp / "work", capture_output=True, text=True, timeout=300)
    httpd.shutdown()
    engine = create_engine(f"sqlite:///{data / 'h.sqlite'}")
    with Session(engine) as s:
        docs = {d.url: d for d in s.scalars(select(Document))}
    engine.dispose()
    created = {p for p in tmp.rglob("*")} - before
    return {"proc": proc, "docs": docs, "created": created, "tmp": tmp, "data": data}


def test_hostile_portal_crawl_finishes(crawled):
    assert crawled["proc"].returncode == 0, crawled["proc"].stderr[-4000:]


def test_gbk_report_page_without_charset_is_harvested(crawled):
    page = crawled["docs"][BASE + "t20240119_1.html"]
    assert (page.agency_name, page.year, page.error_kind) == ("临淄区人民政府办公室", 2023, None)


@pytest.mark.parametrize("name,kind", [("slow.pdf", "fetch"), ("huge.pdf", "fetch"),
                                       ("broken.pdf", "corrupt"), ("bomb.docx", "too_large")])
def test_each_bad_attachment_is_recorded_with_its_error(crawled, name: str, kind: str):
    doc = crawled["docs"][BASE + name]
    assert doc.error_kind == kind, (doc.error_kind, doc.error_message)
    assert doc.error_message


def test_nothing_is_written_outside_the_data_directory(crawled):
    data = crawled["data"].resolve()
    outside = [p for p in crawled["created"] if not p.resolve().is_relative_to(data)]
    assert outside == []
    assert not Path("/tmp/evil.pdf").exists()
    escape = crawled["docs"][BASE + "..%2F..%2F..%2Fescape.pdf"]
    assert escape.raw_path and not escape.raw_path.startswith(("/", ".."))
    archived = list((data / "archive").rglob("*"))
    assert archived and all(p.resolve().is_relative_to(data / "archive") for p in archived)
