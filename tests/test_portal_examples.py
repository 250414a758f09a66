"""Every CMS family has a saved example portal, and every saved portal a golden of what a crawl of it
stores (juriscraper style): a family or portal without them fails here. Each saved portal is then
crawled alone through the real Scrapy stack and must store exactly its golden documents."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.db.models import Document, FetchBlock
from portal_server import FAMILIES_REGISTRY, PORTALS, REGISTRY, serve
from harvester.spiders.cms import FAMILIES

HARVESTER = Path(sys.executable).with_name("harvester")
ENTRIES = [{**e, "_registry": reg} for reg in (REGISTRY, FAMILIES_REGISTRY)
           for e in tomllib.loads(reg.read_text(encoding="utf-8"))["portal"]]
GOLDENS = Path(__file__).parent / "goldens" / "portals"


def test_every_cms_family_has_a_saved_example_portal():
    saved = {e["cms"] for e in ENTRIES if (PORTALS / e["id"]).is_dir()}
    assert set(FAMILIES) <= saved, f"no saved example portal for {set(FAMILIES) - saved}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_every_saved_portal_has_its_pages_and_a_golden(entry: dict):
    root = PORTALS / entry["id"]
    assert root.is_dir() and any(p.suffix in {".html", ".htm", ".shtml", ".jsp"} for p in root.rglob("*")), \
        f"{entry['id']}: no saved pages"
    golden = json.loads((GOLDENS / f"{entry['id']}.json").read_text(encoding="utf-8"))
    assert golden["portal"] == entry["id"] and golden["documents"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_crawl_of_each_saved_portal_stores_exactly_its_golden_documents(entry: dict, tmp_path: Path):
    golden = json.loads((GOLDENS / f"{entry['id']}.json").read_text(encoding="utf-8"))
    db = tmp_path / "x.sqlite"
    with serve() as srv:
        cmd = [str(HARVESTER), "crawl", entry["id"], "--registry", str(entry["_registry"]),
               "--data-dir", str(tmp_path / "data"), "--db", f"sqlite:///{db}"]
        for host_map in srv.host_map():
            cmd += ["--host-map", host_map]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        stored = set(s.scalars(select(Document.url)))
        blocks = set(s.scalars(select(FetchBlock.url)))
    engine.dispose()
    assert stored == set(golden["documents"])
    assert blocks == set(golden.get("blocks", []))
