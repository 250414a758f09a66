"""Serve a saved portal tree on 127.0.0.1 for tests (see harvester/demo/server.py).

    with serve() as srv:                       # harvester/demo/portals, port 0
        srv.host_map()  -> ["www.linzi.gov.cn=127.0.0.1:PORT", ...]
        srv.served("www.linzi.gov.cn")  -> [(method, host, path, status), ...]

Requests are answered by original host + path (absolute-URI request line or Host
header); paths in ROOT/replay.json "fail" (or `serve(fail=…)`; a `host/path?query` key fails
that query only) answer their status; anything else missing is 404;
HTML goes out as `text/html` without a charset.

    .venv/bin/python tests/portal_server.py [ROOT] [--port N]
"""
from __future__ import annotations

import sys
from pathlib import Path

from harvester.demo.server import ReplayServer, main

PORTALS = Path(__file__).resolve().parents[1] / "harvester" / "demo" / "portals"
REGISTRY = PORTALS / "registry.toml"          # the demo portals
FAMILIES_REGISTRY = PORTALS / "families.toml"  # one example portal per further CMS family
BLOCKED_REGISTRY = PORTALS / "blocked.toml"    # one portal per blocked mode


def serve(root: str | Path = PORTALS, port: int = 0, fail: dict[str, int] | None = None,
          tls: bool = False) -> ReplayServer:
    """A started-on-enter ReplayServer (use `with serve() as srv:`)."""
    return ReplayServer(root, port, fail, tls)


__all__ = ["serve", "ReplayServer", "PORTALS", "REGISTRY", "FAMILIES_REGISTRY", "BLOCKED_REGISTRY"]

if __name__ == "__main__":
    main(sys.argv[1:] if len(sys.argv) > 1 else [str(PORTALS)])
