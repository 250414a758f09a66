"""A replay server for saved portals: answers requests by original host + path.

Layout of a saved tree::

    ROOT/<portal_id>/<host>/<path...>       files exactly as served
    ROOT/replay.json                        optional {"fail": {"host/path": 500, ...},
                                                      "respond": {"host/path-prefix": {...}, ...}}

A request is resolved from its absolute-URI request line (`GET http://host/path`,
what Scrapy sends to a proxy, i.e. through `--host-map`) or else from its `Host`
header. `path/` serves `path/index.html`. A query string first selects
`<file>@<query>` (e.g. `downfile.jsp@classid=0&filename=a.pdf`), then `<file>`.
Paths listed in `fail` answer with that status (a `host/path?query` key fails that query only,
e.g. one `?pageNum=N` of a page); anything missing is 404. A `respond` rule
(longest matching host+path prefix) mimics a defended site: `{"status": 412, "body": "host/path
of the body file", "set_cookie": "wzws_cid=…", "location": "self", "unless_cookie": "wzws_cid"}`
answers that status, headers and body unless the request carries the named cookie.
HTML is served as `text/html` with no charset (like many GBK portals), so the
client has to sniff the encoding. Files carry ETag / Last-Modified and conditional GETs
(If-None-Match, If-Modified-Since) get 304 Not Modified, like a static nginx.

https: a `CONNECT host:443` (what Scrapy and urllib send to a proxy for an https URL, i.e.
through `--host-map`) is answered `200`, then the tunnel is wrapped in TLS with a self-signed
certificate made on first use (`tls_cert()`), and the requests inside are served by their
`Host` header like any other. `ReplayServer(..., tls=True)` instead listens with TLS directly
(a plain https server, for testing certificate verification).

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

    def __init__(self, root: str | Path, port: int = 0, fail: dict[str, int] | None = None, tls: bool = False) -> None:
        self.root = Path(root)
        self.fail: dict[str, int] = {}
        self.respond: dict[str, dict] = {}
        cfg = self.root / "replay.json"
        if cfg.exists():
            data = json.loads(cfg.read_text(encoding="utf-8"))
            self.fail.update(data.get("fail", {}))
            self.respond.update(data.get("respond", {}))
        self.fail.update(fail or {})
        self.hosts: dict[str, Path] = {}
        for portal_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for host_dir in sorted(h for h in portal_dir.iterdir() if h.is_dir()):
                self.hosts.setdefault(host_dir.name.lower(), host_dir)
        self.log: list[tuple[str, str, str, int]] = []  # (method, host, path?query, status)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        if tls:
            self.httpd.socket = tls_context().wrap_socket(self.httpd.socket, server_side=True)
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
        for failing in ((f"{key}?{query}", key) if query else (key,)):
            if failing in self.fail:
                return self.fail[failing], None
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

    def rule_for(self, host: str, path: str, cookie_header: str) -> dict | None:
        key = f"{host}{path}"
        matches = [k for k in self.respond if key.startswith(k)]
        if not matches:
            return None
        rule = self.respond[max(matches, key=len)]
        wanted = rule.get("unless_cookie")
        if wanted and any(c.strip().startswith(wanted + "=") for c in cookie_header.split(";")):
            return None
        return rule

    def file_of(self, host_path: str) -> Path | None:
        host, _, path = host_path.partition("/")
        return self.resolve(host, "/" + path, "")[1]

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
                extra: dict[str, str] = {}
                rule = server.rule_for(host, parts.path or "/", self.headers.get("Cookie") or "")
                if rule is not None:
                    status = rule["status"]
                    file = server.file_of(rule["body"]) if rule.get("body") else None
                    if rule.get("set_cookie"):
                        extra["Set-Cookie"] = rule["set_cookie"]
                    if rule.get("location"):
                        extra["Location"] = self.path if rule["location"] == "self" else rule["location"]
                else:
                    status, file = server.resolve(host, parts.path or "/", parts.query)
                body = file.read_bytes() if file else f"{status}\n".encode()
                validators = _validators(file, body) if file and self.command == "GET" else {}
                not_modified = bool(validators) and _not_modified(self.headers, validators)
                # logged once, with the status actually sent (threads answer concurrently: never
                # patch "the last entry", which may be another request's)
                with server._lock:
                    server.log.append((self.command, host, parts.path + (f"?{parts.query}" if parts.query else ""),
                                       304 if not_modified else status))
                if not_modified:
                    self.send_response(304)
                    for name, value in validators.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", _content_type(file, body) if file else "text/plain")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                for name, value in validators.items():
                    self.send_header(name, value)
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                self._serve(True)

            def do_CONNECT(self):  # noqa: N802 - an https URL through the host map: TLS tunnel to ourselves
                with server._lock:
                    server.log.append(("CONNECT", self.path.rsplit(":", 1)[0].lower(), self.path, 200))
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                try:
                    tls = tls_context().wrap_socket(self.connection, server_side=True)
                except OSError:
                    self.close_connection = True
                    return
                Handler(tls, self.client_address, self.server)  # serves the requests inside the tunnel
                self.close_connection = True

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


_TLS: dict[str, object] = {}
_TLS_LOCK = threading.Lock()


def tls_cert() -> tuple[Path, Path]:
    """(certificate, key) PEM files of a self-signed certificate for 127.0.0.1 / localhost /
    *.gov.cn, made once per process in a temporary directory."""
    with _TLS_LOCK:
        if "files" not in _TLS:
            import datetime as dt
            import ipaddress
            import tempfile

            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import NameOID

            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harvester replay")])
            now = dt.datetime.now(dt.UTC)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                    .not_valid_after(now + dt.timedelta(days=30))
                    .add_extension(x509.SubjectAlternativeName([
                        x509.DNSName("localhost"), x509.DNSName("*.gov.cn"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                    .sign(key, hashes.SHA256()))
            folder = Path(tempfile.mkdtemp(prefix="harvester-replay-tls-"))
            (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                               serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
            _TLS["files"] = (folder / "cert.pem", folder / "key.pem")
        return _TLS["files"]  # type: ignore[return-value]


def tls_context():
    import ssl

    cert, key = tls_cert()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def _sniff(body: bytes) -> str | None:
    head = body.lstrip()[:100].lower()
    if head[:5] in (b"<?xml", b"<data"):
        return "text/xml;charset=UTF-8"
    if head[:1] in (b"{", b"["):
        return "application/json;charset=UTF-8"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<script")):
        return "text/html"
    if head.startswith(b"%pdf"):
        return "application/pdf"
    return None
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
    if file.suffix.lower() in ("", ".jsp") or "@" in file.name:
        sniffed = _sniff(body)
        if sniffed:
            return sniffed
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
