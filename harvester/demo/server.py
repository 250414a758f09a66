"""A replay server for saved portals: answers requests by original host + path.

Layout of a saved tree::

    ROOT/<portal_id>/<host>/<path...>       files exactly as served
    ROOT/replay.json                        optional {"fail": {"host/path": 500, ...}}

A request is resolved from its absolute-URI request line (`GET http://host/path`,
what Scrapy sends to a proxy, i.e. through `--host-map`) or else from its `Host`
header. `path/` serves `path/index.html`. A query string first selects
`<file>@<query>` (e.g. `downfile.jsp@classid=0&filename=a.pdf`), then `<file>`.
Paths listed in `fail` answer with that status; anything missing is 404.
HTML is served as `text/html` with no charset (like many GBK portals), so the
client has to sniff the encoding. Files carry ETag / Last-Modified and conditional GETs
(If-None-Match, If-Modified-Since) get 304 Not Modified, like a static nginx.

    python -m harvester.demo.server ROOT [--port N]
"""
from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_TYPES = {".html": "text/html", ".htm": "text/html", ".shtml": "text/html", ".pdf": "application/pdf",
          ".doc": "application/msword", ".wps": "application/octet-stream", ".txt": "text/plain",
          ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          ".xml": "text/xml; charset=UTF-8"}


class ReplayServer:
    """Serve `root` on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self, root: str | Path, port: int = 0, fail: dict[str, int] | None = None) -> None:
        self.root = Path(root)
        self.fail: dict[str, int] = {}
        cfg = self.root / "replay.json"
        if cfg.exists():
            self.fail.update(json.loads(cfg.read_text(encoding="utf-8")).get("fail", {}))
        self.fail.update(fail or {})
        self.hosts: dict[str, Path] = {}
        for portal_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for host_dir in sorted(h for h in portal_dir.iterdir() if h.is_dir()):
                self.hosts.setdefault(host_dir.name.lower(), host_dir)
        self.log: list[tuple[str, str, str, int]] = []  # (method, host, path?query, status)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def host_map(self) -> list[str]:
        """`--host-map` values sending every saved host here."""
        return [f"{h}={self.address}" for h in self.hosts]

    def start(self) -> "ReplayServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ resolution
    def resolve(self, host: str, path: str, query: str) -> tuple[int, Path | None]:
        key = f"{host}{path}"
        if key in self.fail:
            return self.fail[key], None
        base = self.hosts.get(host)
        if base is None:
            return 404, None
        rel = unquote(path).lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        target = (base / rel).resolve()
        if base.resolve() not in target.parents:
            return 404, None
        if query:  # browsers/Scrapy percent-encode non-ASCII queries in UTF-8 or the page's GBK
            for enc in ("utf-8", "gb18030"):
                with_query = target.with_name(f"{target.name}@{unquote(query, encoding=enc)}")
                if with_query.is_file():
                    return 200, with_query
        return (200, target) if target.is_file() else (404, None)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, send_body: bool) -> None:
                if self.command == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    self.rfile.read(length)
                parts = urlsplit(self.path)
                if parts.scheme in ("http", "https") and parts.hostname:
                    host = parts.hostname
                else:
                    host = (self.headers.get("Host") or "").split(":")[0]
                host = host.lower()
                status, file = server.resolve(host, parts.path or "/", parts.query)
                with server._lock:
                    server.log.append((self.command, host, parts.path + (f"?{parts.query}" if parts.query else ""),
                                       status))
                body = file.read_bytes() if file else f"{status}\n".encode()
                validators = _validators(file, body) if file and self.command == "GET" else {}
                if validators and _not_modified(self.headers, validators):
                    with server._lock:
                        server.log[-1] = server.log[-1][:3] + (304,)
                    self.send_response(304)
                    for name, value in validators.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", _content_type(file, body) if file else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                for name, value in validators.items():
                    self.send_header(name, value)
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                self._serve(True)

            def do_POST(self):  # noqa: N802
                self._serve(True)

            def do_HEAD(self):  # noqa: N802
                self._serve(False)

            def log_message(self, fmt, *args):  # quiet
                pass

        return Handler

    def served(self, host: str | None = None) -> list[tuple[str, str, str, int]]:
        with self._lock:
            return [e for e in self.log if host is None or e[1] == host]


def _validators(file: Path, body: bytes) -> dict[str, str]:
    """ETag (a hash of the bytes) and Last-Modified (the file's mtime), as nginx sends for static files."""
    import hashlib
    from email.utils import formatdate

    return {"ETag": f'"{hashlib.sha256(body).hexdigest()[:20]}"',
            "Last-Modified": formatdate(int(file.stat().st_mtime), usegmt=True)}


def _not_modified(headers, validators: dict[str, str]) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
    from email.utils import parsedate_to_datetime

    match = headers.get("If-None-Match")
    if match is not None:
        return validators["ETag"] in [t.strip() for t in match.split(",")] or match.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return parsedate_to_datetime(validators["Last-Modified"]) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _content_type(file: Path, body: bytes) -> str:
    name = file.name.split("@", 1)
    if len(name) == 2:  # downfile.jsp@...filename=x.pdf: type of the named file
        ext = Path(name[1]).suffix.lower()
        if body.lstrip()[:5] in (b"<?xml", b"<data"):
            return "text/xml;charset=UTF-8"
        return _TYPES.get(ext, "application/octet-stream")
    ext = file.suffix.lower()
    if ext == ".jsp":
        return "text/xml;charset=UTF-8" if body.lstrip()[:5] in (b"<?xml", b"<data") else "application/octet-stream"
    return _TYPES.get(ext) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"


def main(argv: list[str] | None = None) -> None:
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Serve saved portals by host + path.")
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    with ReplayServer(args.root, args.port) as srv:
        print(f"serving {args.root} on {srv.address}; --host-map " + " ".join(srv.host_map()), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
