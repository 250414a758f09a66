"""Per-portal run records over real loopback failures: every error kind a portal can cause
(timeout, dns, connection, http_4xx, http_5xx, blocked, too_large, redirect_loop,
decompression_bomb, store_error) is typed, counted on its portal, written onto its document, and
shown by `harvester status`; portal statuses ok / blocked / empty / failed; nightly exits 1."""
from __future__ import annotations

import gzip
from collections import Counter
import hashlib
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.db.models import Document, PortalRun
from harvester.runs import ERROR_KINDS, exception_kind, portal_status, status_kind

HARVESTER = Path(sys.executable).with_name("harvester")
SEED = Path(__file__).parent / "fixtures" / "seeds" / "000_7ffb10b0611b3e96.txt"
KINDS = "www.kinds.gov.cn"
GOOD = SEED.read_bytes()
DOOMED = b"%PDF-1.4\n% this report cannot be stored: its archive folder is blocked\n"
BOMB = gzip.compress(b"\0" * (4 * 1024 * 1024))

#: link on the list page -> the kind it must be recorded as
LINKS = {
    "/gknb/good.txt": None,
    "/gknb/slow.pdf": "timeout",
    "http://nx.kinds.invalid/gknb/a.pdf": "dns",
    "http://closed.kinds.gov.cn/gknb/a.pdf": "connection",
    "/gknb/missing.pdf": "http_4xx",
    "/gknb/error.pdf": "http_5xx",
    "/gknb/waf.pdf": "blocked",
    "/gknb/huge.pdf": "too_large",
    "/gknb/loop.pdf": "redirect_loop",    # A -> B -> A
    "/gknb/chain.pdf": "redirect_loop",   # an endless chain of new URLs
    "/gknb/bomb.pdf": "decompression_bomb",
}
#: a portal whose one report cannot be stored (its archive folder is blocked by a file: a full or broken disk)
DISK = {"/gknb/doomed.pdf": "store_error"}


def _listing(links) -> bytes:
    items = "".join(f"<li><a href='{href}'>2023年政府信息公开工作年度报告（{i}）</a></li>" for i, href in enumerate(links))
    return f"<html><body><ul>{items}</ul></body></html>".encode()


_CHAIN = itertools.count(1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        host = (self.headers.get("Host") or "").split(":")[0]
        path = self.path.split(host, 1)[-1] if self.path.startswith("http") else self.path
        headers: dict[str, str] = {}
        status, body = 200, b""
        if path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        elif host == "www.waf.gov.cn":
            status, body = 521, b"<script>document.cookie='__jsl_clearance=1';location.reload()</script>"
        elif host == "www.disk.gov.cn" and path == "/gknb/index.html":
            body = _listing(DISK)
        elif host == "www.nothing.gov.cn":
            body = b"<html><body><a href='/about.html'>About us</a></body></html>"
        elif path == "/gknb/index.html":
            body = _listing(LINKS)
        elif path == "/gknb/good.txt":
            body = GOOD
        elif path == "/gknb/doomed.pdf":
            body = DOOMED
        elif path == "/gknb/slow.pdf":
            time.sleep(3)
            body = b"%PDF-1.4\n"
        elif path == "/gknb/error.pdf":
            status, body = 503, b"busy"
        elif path == "/gknb/waf.pdf":
            status, body = 412, b"<html>rs challenge</html>"
        elif path == "/gknb/huge.pdf":
            body = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)
        elif path.startswith("/gknb/chain.pdf"):
            status, headers["Location"] = 302, f"/gknb/chain.pdf?n={next(_CHAIN)}"  # never the same URL
        elif path.startswith("/gknb/loop"):
            status, headers["Location"] = 302, "/gknb/loop2.pdf" if path == "/gknb/loop.pdf" else "/gknb/loop.pdf"
        elif path == "/gknb/bomb.pdf":
            body, headers["Content-Encoding"] = BOMB, "gzip"
        else:
            status, body = 404, b"not found"
        try:
            self.send_response(status)
            for k, v in {"Content-Type": "application/octet-stream" if path.endswith(".pdf") else "text/html",
                         **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


REGISTRY = """
[[portal]]
id = "kinds"
name = "kinds 年报"
level = "district"
agency = "试验市各类错误区人民政府办公室"
cms = "generic"
start_urls = ["http://www.kinds.gov.cn/gknb/index.html"]
allowed_hosts = ["nx.kinds.invalid", "closed.kinds.gov.cn"]

[[portal]]
id = "waf"
name = "waf 年报"
level = "district"
agency = "试验市防火墙区人民政府办公室"
cms = "generic"
start_urls = ["http://www.waf.gov.cn/gknb/index.html"]

[[portal]]
id = "nothing"
name = "nothing 年报"
level = "district"
agency = "试验市空栏目区人民政府办公室"
cms = "generic"
start_urls = ["http://www.nothing.gov.cn/gknb/index.html"]

[[portal]]
id = "disk"
name = "disk 年报"
level = "district"
agency = "试验市磁盘已满区人民政府办公室"
cms = "generic"
start_urls = ["http://www.disk.gov.cn/gknb/index.html"]

[[portal]]
id = "dead"
name = "dead 年报"
level = "district"
agency = "试验市已关闭网站区人民政府办公室"
cms = "generic"
start_urls = ["http://www.dead.kinds.invalid/gknb/index.html"]
"""


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kinds")
    (tmp / "registry.toml").write_text(REGISTRY, encoding="utf-8")
    data = tmp / "data"
    sha = hashlib.sha256(DOOMED).hexdigest()
    (data / "archive" / sha[:2]).mkdir(parents=True)
    (data / "archive" / sha[:2] / sha[2:4]).write_text("a file where the archive needs a folder")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    addr = f"127.0.0.1:{httpd.server_address[1]}"
    cmd = [str(HARVESTER), "nightly", "kinds", "waf", "nothing", "disk", "dead", "--registry", str(tmp / "registry.toml"), "--backfill",
           "--data-dir", str(data), "--host-map", f"{KINDS}={addr}", "--host-map", f"www.waf.gov.cn={addr}",
           "--host-map", f"www.nothing.gov.cn={addr}", "--host-map", f"www.disk.gov.cn={addr}", "--host-map", f"closed.kinds.gov.cn=127.0.0.1:{closed}",
           "--set", "DOWNLOAD_TIMEOUT=1", "--set", "RETRY_TIMES=0", "--set", "DOWNLOAD_MAXSIZE=1000000",
           "--set", "REDIRECT_MAX_TIMES=3", "--set", "DNS_TIMEOUT=5"]
    try:
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300)
    finally:
        httpd.shutdown()
    status = subprocess.run([str(HARVESTER), "status", "--data-dir", str(data)], cwd=tmp, capture_output=True,
                            text=True, timeout=60, env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    as_json = subprocess.run([str(HARVESTER), "status", "portals", "-f", "json", "--data-dir", str(data)],
                             cwd=tmp, capture_output=True, text=True, timeout=60)
    engine = create_engine(f"sqlite:///{data / 'harvester.sqlite'}")
    yield {"proc": proc, "status": status, "json": as_json, "engine": engine}
    engine.dispose()


def test_nightly_over_failing_portals_exits_1_and_says_which(crawled):
    proc = crawled["proc"]
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "portals: ok 1, empty 1, blocked 1, failed 2" in proc.stdout
    assert "result: FAILED" in proc.stdout


def test_every_failure_kind_is_counted_on_its_portal(crawled):
    with Session(crawled["engine"]) as s:
        runs = {r.portal_id: r for r in s.scalars(select(PortalRun))}
    expected = dict(Counter(kind for kind in LINKS.values() if kind))
    assert expected["redirect_loop"] == 2
    assert runs["kinds"].errors == expected
    assert (runs["kinds"].status, runs["kinds"].found, runs["kinds"].new) == ("ok", 1, 1)
    assert (runs["waf"].status, runs["waf"].errors) == ("blocked", {"blocked": 1})
    assert (runs["nothing"].status, runs["nothing"].errors, runs["nothing"].pages) == ("empty", {}, 1)
    assert (runs["disk"].status, runs["disk"].errors, runs["disk"].found) == ("failed", {"store_error": 1}, 0)
    assert (runs["dead"].status, runs["dead"].errors, runs["dead"].pages) == ("failed", {"dns": 1}, 0)


def test_every_failure_kind_appears_in_harvester_status(crawled):
    out = crawled["status"]
    assert out.returncode == 0, out.stderr
    for kind in [*LINKS.values(), *DISK.values()]:
        if kind:
            assert f"{kind}=" in out.stdout, kind
    for agency in ("试验市各类错误区人民政府办公室", "试验市防火墙区人民政府办公室", "试验市空栏目区人民政府办公室",
                   "试验市已关闭网站区人民政府办公室", "试验市磁盘已满区人民政府办公室"):
        assert agency in out.stdout  # whole, on an 80-column terminal
    assert "failing portals" in out.stdout
    rows = {r["portal_id"]: r for r in map(json.loads, crawled["json"].stdout.splitlines())}
    assert rows["kinds"]["last_success"] is not None and rows["dead"]["last_success"] is None
    assert [r["status"] for r in rows.values()] == ["failed", "failed", "blocked", "empty", "ok"]  # failing first


def test_redirect_loops_and_gzip_bombs_are_typed_errors_on_their_documents(crawled):
    with Session(crawled["engine"]) as s:
        kinds = dict(s.execute(select(Document.url, Document.fetch_error_kind)
                               .where(Document.error_kind == "fetch")).all())
    base = f"http://{KINDS}"
    assert kinds[base + "/gknb/loop.pdf"] == "redirect_loop"
    assert kinds[base + "/gknb/chain.pdf"] == "redirect_loop"
    assert kinds[base + "/gknb/bomb.pdf"] == "decompression_bomb"
    assert kinds[base + "/gknb/huge.pdf"] == "too_large"
    assert kinds[base + "/gknb/slow.pdf"] == "timeout"
    assert kinds["http://nx.kinds.invalid/gknb/a.pdf"] == "dns"
    assert kinds["http://closed.kinds.gov.cn/gknb/a.pdf"] == "connection"


def test_status_table_maps_http_statuses():
    assert [status_kind(s) for s in (200, 304, 404, 410, 403, 412, 429, 521, 500, 503)] == [
        None, None, "http_4xx", "http_4xx", "blocked", "blocked", "blocked", "blocked", "http_5xx", "http_5xx"]


def test_unknown_exceptions_are_other_and_every_kind_is_listed():
    assert exception_kind(ValueError("x")) == "other"
    from scrapy.exceptions import IgnoreRequest

    assert exception_kind(IgnoreRequest("Forbidden by robots.txt")) == "other"
    assert {*LINKS.values(), *DISK.values()} - {None} <= set(ERROR_KINDS)


def test_portal_status_rules():
    assert portal_status(3, 2, {"http_5xx": 1}) == "ok"
    assert portal_status(3, 2, {"store_error": 1}) == "failed"
    assert portal_status(0, 0, {"blocked": 1}) == "blocked"
    assert portal_status(2, 0, {}) == "empty"
    assert portal_status(0, 0, {}) == "failed"
    assert portal_status(1, 0, {"timeout": 2}) == "failed"
