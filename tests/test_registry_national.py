"""The bundled registry at national scale: generated from the seed list, holding every row of it;
`--all` with a user's file; closest-id suggestions; `portals list`; a 5,000-entry registry loads
and validates (its speed is measured by bench/registry.py, not here)."""
from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harvester import registry
from harvester.cli import app
from harvester.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "fixtures" / "portals"
HARVESTER = Path(sys.executable).with_name("harvester")


def rows(name: str) -> list[dict[str, str]]:
    with (SEED / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def build_script():
    spec = importlib.util.spec_from_file_location("build_registry", REPO / "scripts" / "build_registry.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bundled() -> registry.Registry:
    return registry.load(use_env=False)


def test_bundled_files_are_exactly_what_the_build_script_generates():
    portals, roots = build_script().build(SEED)
    assert (REPO / "harvester" / "portals.toml").read_text(encoding="utf-8") == portals
    assert (REPO / "harvester" / "roots.toml").read_text(encoding="utf-8") == roots


def test_every_row_of_columns_tsv_is_an_entry_with_its_fields(bundled):
    entries = list(bundled.values())
    assert len(entries) == len(rows("columns.tsv")) == 187
    for row, p in zip(rows("columns.tsv"), entries):
        column, report = row["column_url"].split("#")[0], row["example_report_url"]
        assert (column in p.start_urls) or (report in p.report_urls and not p.start_urls), (p.id, row)
        if report:
            assert report in p.report_urls or column.startswith(report.split("?")[0]), p.id
        assert (p.agency, p.level, p.province, p.division_code or "") == \
            (row["agency"], row["level"], row["province"], row["division_code"])
        assert p.status == "unverified" and p.source == row["evidence"]
        assert p.root_url.rstrip("/") in row["root_url"] or row["root_url"].rstrip("/") in p.root_url


def test_guangdong_gkmlpt_entries_are_http_only_and_keep_the_category_of_the_fragment(bundled):
    gk = [p for p in bundled.values() if p.cms == "gkmlpt"]
    assert len(gk) == 7 and all(p.http_only for p in gk)
    whly = next(p for p in gk if p.root_url == "http://whly.gd.gov.cn/")
    assert whly.start_urls == ("http://whly.gd.gov.cn/gkmlpt/annualreport",) and whly.param("category") == "2629"
    assert whly.fetch_url("https://whly.gd.gov.cn/gkmlpt/x") == "http://whly.gd.gov.cn/gkmlpt/x"


def test_every_row_of_roots_tsv_is_a_root_and_blocked_reachability_is_kept():
    roots = registry.load_roots()
    assert len(roots) == len(rows("roots.tsv")) == 817
    for row, r in zip(rows("roots.tsv"), roots):
        assert r.agency == row["agency"] and r.level == row["level"] and r.url.startswith("http")
        assert (r.status == "blocked") == ("coverage status=BLOCKED" in row["notes"]
                                           or "coverage status=ANTI-BOT" in row["notes"])
    assert next(r for r in roots if r.agency == "云南省人民政府").url == "http://yn.gov.cn/"  # bare domain as listed


def test_five_thousand_entries_load_and_one_bad_entry_is_named(tmp_path, bundled):
    entries = [e for e in (REPO / "harvester" / "portals.toml").read_text(encoding="utf-8").split("\n[[portal]]\n")[1:]]
    text = ""
    for n in range(5000):
        e = entries[n % len(entries)]
        pid = e.split('"', 2)[1]
        text += "\n[[portal]]\n" + e.replace(f'id = "{pid}"', f'id = "{pid}-{n}"', 1)
    big = tmp_path / "big.toml"
    big.write_text(text, encoding="utf-8")
    reg = registry.load([big], include_default=False, use_env=False)
    assert len(reg) == 5000 and reg["km-zfxxgkndbgzt-" + str(list(bundled).index("km-zfxxgkndbgzt"))].cms
    big.write_text(text.replace('level = "city"', 'level = "metropolis"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"big.toml: portal '[a-z0-9-]+': field 'level' = 'metropolis'"):
        registry.load([big], include_default=False, use_env=False)


def test_all_with_a_users_file_crawls_only_that_file_unless_bundled_is_asked(tmp_path, bundled):
    user = tmp_path / "mine.toml"
    user.write_text('[[portal]]\nid = "mine"\nname = "x"\nagency = "某县人民政府"\nlevel = "county"\ncms = "trs"\n'
                    'start_urls = ["http://www.x.gov.cn/nb/"]\n', encoding="utf-8")
    reg = registry.load([user], use_env=False)
    assert [p.id for p in reg.for_all()] == ["mine"]
    assert len(reg.for_all(with_bundled=True)) == len(bundled) + 1
    assert len(bundled.for_all()) == len(bundled)
    assert reg.select(["km-zfxxgkndbgzt"])  # ids still resolve against the bundled file


@pytest.mark.slow
def test_a_portal_id_typo_suggests_the_closest_ids(tmp_path):
    proc = subprocess.run([str(HARVESTER), "crawl", "hanyang-zfxxgkndb", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown portal id 'hanyang-zfxxgkndb'; did you mean: hanyang-zfxxgkndbg" in proc.stderr
    assert "km-zfxxgkndbgzt" not in proc.stderr  # not the whole registry


def test_portals_list_filters_by_province_level_cms_and_status():
    result = CliRunner().invoke(app, ["portals", "list", "--province", "广东", "--cms", "gkmlpt", "-f", "json"])
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.output.splitlines()]
    assert len(listed) == 7 and {r["province"] for r in listed} == {"广东"} and {r["cms"] for r in listed} == {"gkmlpt"}
    result = CliRunner().invoke(app, ["portals", "list", "--level", "township", "--status", "verified", "-f", "json"])
    assert result.exit_code == 0 and result.output == ""
    result = CliRunner().invoke(app, ["portals", "list", "--roots", "--status", "blocked", "-f", "csv"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1 + 28
