"""https portals replay like http ones: --host-map sends an https URL through a CONNECT tunnel to the
replay server, which speaks TLS with a self-signed certificate; the crawl accepts that certificate for
host-mapped hosts only and verifies every other https host."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.db.models import Document
from portal_server import serve

HARVESTER = Path(sys.executable).with_name("harvester")
LIST = '''<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body><ul>
<li><a href="./202401/t20240119_1234567.html">某区人民政府2023年政府信息公开工作年度报告</a></li></ul></body></html>'''


def tree(tmp: Path) -> Path:
    root = tmp / "site"
    col = root / "p" / "localhost" / "nb"
    (col / "202401").mkdir(parents=True)
    (col / "index.html").write_text(LIST, encoding="utf-8")
    seed = Path(__file__).parent / "fixtures" / "derived" / "seed001_hanweb_utf8.html"
    (col / "202401" / "t20240119_1234567.html").write_bytes(seed.read_bytes())
    return root


def crawl(tmp: Path, start: str, host_map: list[str]) -> tuple[subprocess.CompletedProcess, Path]:
    reg = tmp / "r.toml"
    reg.write_text(f'[[portal]]\nid = "tls"\nname = "x"\nagency = "某区人民政府"\nlevel = "district"\ncms = "generic"\n'
                   f'start_urls = ["{start}"]\n', encoding="utf-8")
    db = tmp / f"{len(host_map)}.sqlite"
    cmd = [str(HARVESTER), "crawl", "tls", "--registry", str(reg), "--data-dir", str(tmp / "data"),
           "--db", f"sqlite:///{db}", "--set", "RETRY_TIMES=0"]
    for h in host_map:
        cmd += ["--host-map", h]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp), db


def stored(db: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        urls = set(s.scalars(select(Document.url).where(Document.error_kind.is_(None))))
    engine.dispose()
    return urls


def test_https_portal_through_the_host_map_is_crawled_over_a_tls_tunnel(tmp_path):
    root = tree(tmp_path)
    with serve(root) as srv:
        proc, db = crawl(tmp_path, "https://localhost/nb/index.html", [f"localhost={srv.address}"])
        log = srv.served()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert stored(db) == {"https://localhost/nb/202401/t20240119_1234567.html"}
    assert ("CONNECT", "localhost", "localhost:443", 200) in log  # it went through the tunnel, TLS inside
    assert ("GET", "localhost", "/nb/202401/t20240119_1234567.html", 200) in log


def test_a_self_signed_certificate_is_refused_when_the_host_is_not_mapped(tmp_path):
    root = tree(tmp_path)
    with serve(root, tls=True) as srv:  # a plain https server, reached directly
        proc, db = crawl(tmp_path, f"https://localhost:{srv.port}/nb/index.html", [])
        log = srv.served()
    assert proc.returncode == 1
    assert "failed: tls" in proc.stdout and stored(db) == set()
    assert "certificate verify failed" in proc.stderr
    assert not [e for e in log if e[2].startswith("/nb/")]  # no request got through the TLS handshake
