"""Discovery from a saved portal's home page finds its 年报 column (and sub-columns); `portals
discover --write` adds a loadable entry; `portals check` lists what a crawl would fetch, storing
nothing. Every page comes from the replay server on loopback through --host-map."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harvester import registry
from harvester.discover import discover, http_fetcher
from harvester.hostmap import parse_host_map
from portal_server import BLOCKED_REGISTRY, FAMILIES_REGISTRY, REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")
SAVED = [e for reg in (REGISTRY, FAMILIES_REGISTRY) for e in tomllib.loads(reg.read_text(encoding="utf-8"))["portal"]]


def _same(a: str, b: str) -> bool:
    strip = lambda u: u[: -len("index.html")] if u.endswith("index.html") else u  # noqa: E731
    return strip(a) == strip(b)


@pytest.fixture(scope="module")
def server():
    with serve() as srv:
        yield srv


@pytest.mark.parametrize("entry", SAVED, ids=lambda e: e["id"])
def test_discovery_from_the_home_page_finds_the_saved_portals_column(entry: dict, server):
    start = entry["start_urls"][0]
    home = f"{urlsplit(start).scheme}://{urlsplit(start).netloc}/"
    result = discover(home, http_fetcher(parse_host_map(server.host_map())), budget=30)
    assert result.blocked is None
    assert [c for c in result.columns if _same(c.url, start)], (start, result.column_urls, result.pages)
    col = next(c for c in result.columns if _same(c.url, start))
    assert col.cms == entry["cms"] or entry["cms"] == "generic", col.cms
    assert len(result.pages) <= 30


def test_discovery_finds_year_sub_folders_and_department_sub_trees(server):
    result = discover("https://www.bjdch.gov.cn/", http_fetcher(parse_host_map(server.host_map())), budget=30)
    (col,) = result.columns
    subs = {s.url: [x.url for x in s.sub_columns] for s in col.sub_columns}
    base = "https://www.bjdch.gov.cn/zfxxgkzl/zfxxgknb/"
    assert subs == {base + "2023nb/": [base + "2023nb/dcqzf2023/index.html", base + "2023nb/dcgzfbm2023/index.html"],
                    base + "2022n/index.htm": []}


def test_discovery_stays_within_its_page_budget(server):
    result = discover("https://www.bjdch.gov.cn/", http_fetcher(parse_host_map(server.host_map())), budget=3)
    assert len(result.pages) == 3 and all(not c.sub_columns for c in result.columns)


def test_discovery_of_a_blocked_root_says_blocked(server):
    result = discover("http://www.gansu.gov.cn/", http_fetcher(parse_host_map(server.host_map())), budget=10)
    assert result.blocked and "412" in result.blocked and result.columns == []


def _host_maps(server) -> list[str]:
    return [x for h in server.host_map() for x in ("--host-map", h)]


def test_discover_command_writes_an_entry_that_loads_and_refuses_a_duplicate(server, tmp_path):
    out = tmp_path / "mine.toml"
    cmd = [str(HARVESTER), "portals", "discover", "http://www.taian.gov.cn/", "--agency", "泰安市人民政府",
           "--level", "city", "--division-code", "370900", "--write", str(out), *_host_maps(server)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'start_urls = ["http://www.taian.gov.cn/col/col232135/index.html"]' in proc.stdout
    (p,) = registry.load_file(out)
    assert (p.id, p.cms, p.level, p.division_code, p.status) == ("taian-col232135", "hanweb", "city", "370900",
                                                                  "unverified")
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert again.returncode == 2 and "already registered" in again.stderr
    assert len(registry.load_file(out)) == 1


def test_discover_command_takes_agency_and_level_from_a_known_root(server, tmp_path):
    # http://www.moj.gov.cn/ is a root of roots.toml (司法部, national-department); its WAF sets a
    # cookie on a 302 to the same URL, which discovery follows like a browser
    proc = subprocess.run([str(HARVESTER), "portals", "discover", "http://www.moj.gov.cn/", *_host_maps(server)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (p,) = registry.parse_toml(proc.stdout, "out")
    assert (p.agency, p.level, p.province, p.cms) == ("司法部", "national-department", "全国", "trs")
    assert p.start_urls == ("http://www.moj.gov.cn/pub/sfbgwapp/zwgk/xxgknb/index.html",)


def test_discover_command_without_a_known_root_asks_for_agency_and_level(server, tmp_path):
    proc = subprocess.run([str(HARVESTER), "portals", "discover", "http://www.ynyx.gov.cn/", *_host_maps(server)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "give --agency and --level" in proc.stderr


def test_check_lists_the_reports_a_crawl_would_fetch_and_stores_nothing(server, tmp_path):
    proc = subprocess.run([str(HARVESTER), "portals", "check", "example-gkmlpt-whly", "--registry",
                           str(FAMILIES_REGISTRY), "-f", "tsv", *_host_maps(server)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "year\tkind\ttitle\turl" and len(lines) == 4
    assert {line.split("\t")[0] for line in lines[1:]} == {"2021", "2022", "2023"}
    assert list(tmp_path.iterdir()) == []  # no data directory, no database
    fetched = [path for _m, host, path, _s in server.served("whly.gd.gov.cn")]
    assert not any("/gkmlpt/content/" in p for p in fetched)  # reports listed, not fetched


def test_check_of_a_blocked_portal_exits_1_naming_the_block(server, tmp_path):
    proc = subprocess.run([str(HARVESTER), "portals", "check", "blocked-521-nhc", "--registry", str(BLOCKED_REGISTRY),
                           *_host_maps(server)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 1
    assert "blocked: http://www.nhc.gov.cn/wjw/xxgkndbg/list.shtml (jsl-challenge, HTTP 521)" in proc.stderr


def test_discovery_also_starts_from_the_disclosure_page(server):
    result = discover("http://www.linzi.gov.cn/zwgk/index.html", http_fetcher(parse_host_map(server.host_map())), 10)
    assert result.column_urls == ["http://www.linzi.gov.cn/zwgk/zfxxgknb/index.html"]
    assert result.columns[0].cms == "trs" and len(result.pages) == 2
