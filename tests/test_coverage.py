"""`harvester coverage`: expected agency × year from history and the registry, its statuses, the
heatmap, and the HTML report rendered by a real headless Chromium."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from harvester.cli import app
from harvester.coverage import COLOURS, coverage, heatmap_png, html_report
from harvester.registry import parse_toml
from harvester.store import Store

from test_export import ingest_seeds

REGISTRY = """
[[portal]]
id = "linzi-gov"
name = "临淄区人民政府办公室 年报"
agency = "临淄区人民政府办公室"
level = "district"
cms = "trs"
start_urls = ["http://www.linzi.gov.cn/zwgk/zfxxgknb/index.html"]
years = [2021, 2022, 2023]

[[portal]]
id = "zhangdian"
name = "张店区 年报"
agency = "淄博市张店区人民政府"
level = "district"
cms = "trs"
start_urls = ["http://www.zhangdian.gov.cn/nb/index.html"]
years = [2022, 2023]
division_code = "370303"

[[portal]]
id = "boshan"
name = "博山区 年报"
agency = "淄博市博山区人民政府"
level = "district"
cms = "trs"
start_urls = ["http://www.boshan.gov.cn/nb/index.html"]
years = [2023]
division_code = "370304"
"""


def seeded(store: Store) -> list:
    """The seeds, three registry portals: zhangdian blocked, boshan with an unreadable 2023 document."""
    ingest_seeds(store)
    portals = parse_toml(REGISTRY, "test-registry.toml")
    for p in portals:
        store.ensure_portal(p.id, name=p.name, agency=p.agency, level=p.level, cms=p.cms, start_urls=p.start_urls)
    store.add_document("http://www.boshan.gov.cn/nb/2023.pdf", b"%PDF-1.4 broken", portal_id="boshan")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE portals SET status = 'blocked' WHERE id = 'zhangdian'"))
        conn.execute(text("UPDATE documents SET year = 2023 WHERE portal_id = 'boshan'"))
    return portals


def test_coverage_from_history_and_registry_with_every_status(store: Store) -> None:
    portals = seeded(store)
    with store.engine.connect() as conn:
        rows = {(r.agency, r.year): r for r in coverage(conn, portals)}
    gov = rows[("临淄区人民政府办公室", 2023)]
    assert (gov.status, gov.expected_by, gov.portal_id) == ("failed_checks", "history+registry", "linzi-gov")
    assert gov.failed_checks == 1 and gov.report_id is not None
    assert (rows[("临淄区人民政府办公室", 2021)].status, rows[("临淄区人民政府办公室", 2021)].expected_by) == \
        ("missing", "registry")
    assert rows[("临淄区工业和信息化局", 2021)].status == "found"
    assert [rows[("临淄区工业和信息化局", y)].status for y in (2022, 2023)] == ["missing", "missing"]
    assert rows[("临淄区工业和信息化局", 2023)].expected_by == "history"
    zd = rows[("淄博市张店区人民政府", 2022)]
    assert (zd.status, zd.agency_id, zd.division_code) == ("blocked", None, "370303")
    bs = rows[("淄博市博山区人民政府", 2023)]
    assert (bs.status, bs.failed_documents) == ("failed", 1)
    assert {r.status for r in rows.values()} == {"found", "failed_checks", "failed", "blocked", "missing"}


def test_coverage_without_registry_is_the_view_and_the_csv(store: Store, tmp_path: Path) -> None:
    """The coverage view, `harvester coverage --no-registry -f csv` and export's coverage.csv agree."""
    from harvester.export import export

    seeded(store)
    export(store, tmp_path / "out")
    with store.engine.connect() as conn:
        view = sorted(tuple("" if v is None else str(v) for v in r) for r in conn.execute(text(
            "SELECT agency_id, agency, year, status, report_id, documents, failed_documents, failed_checks "
            "FROM coverage")))
    result = CliRunner().invoke(app, ["coverage", "--no-registry", "-f", "csv", "--db", store.db_url,
                                      "--data-dir", str(store.data_dir)])
    assert result.exit_code == 0, result.output
    cols = ["agency_id", "agency", "year", "status", "report_id", "documents", "failed_documents", "failed_checks"]
    cli = sorted(tuple(r[c] for c in cols) for r in csv.DictReader(io.StringIO(result.output)))
    exported = sorted(tuple(r[c] for c in cols) for r in csv.DictReader(
        (tmp_path / "out" / "coverage.csv").open(encoding="utf-8")))
    assert view == cli == exported and len(view) == 7


def test_coverage_filters_apply_to_registry_expectations_too(store: Store) -> None:
    from harvester.export import Filters

    portals = seeded(store)
    with store.engine.connect() as conn:
        rows = coverage(conn, portals, Filters(regions=("370303",)))
        years = coverage(conn, portals, Filters(years=(2022,)))
    assert {(r.agency, r.year) for r in rows} == {("淄博市张店区人民政府", 2022), ("淄博市张店区人民政府", 2023)}
    assert {r.year for r in years} == {2022} and len(years) == 3


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: it is in the Makefile's APT_PACKAGES (make install)")
    return path


def browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"  # a fresh profile every run
    return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def test_html_report_renders_in_headless_chromium(store: Store, tmp_path: Path) -> None:
    from PIL import Image

    seeded(store)
    page = tmp_path / "coverage.html"
    png = tmp_path / "heatmap.png"
    result = CliRunner().invoke(app, ["coverage", "--registry", str(_registry(tmp_path)), "--html", str(page),
                                      "--heatmap", str(png), "--db", store.db_url, "--data-dir", str(store.data_dir)])
    assert result.exit_code == 0, result.output
    source = page.read_text(encoding="utf-8")
    assert "data:image/png;base64," in source and "src=\"http" not in source and "<link" not in source

    dom = browser(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr
    import re

    size = re.search(r'data-heatmap="(\d+)x(\d+)"', dom.stdout)
    assert size and int(size.group(1)) > 300 and int(size.group(2)) > 200  # the inlined PNG decoded
    assert (int(size.group(1)), int(size.group(2))) == Image.open(png).size
    assert "临淄区工业和信息化局" in dom.stdout and "淄博市张店区人民政府" in dom.stdout
    assert dom.stdout.count('<tr class="missing">') >= 3 and '<tr class="blocked">' in dom.stdout

    shot = tmp_path / "shot.png"
    run = browser(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri())
    assert run.returncode == 0 and shot.exists(), run.stderr
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # not a blank page
    found = tuple(int(COLOURS["found"][i:i + 2], 16) for i in (1, 3, 5))
    assert any(rgb == found for _n, rgb in colours)  # the heatmap's "found" cells are on screen


def _registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


def test_heatmap_by_region_and_empty_heatmap_are_pngs(store: Store) -> None:
    from PIL import Image

    portals = seeded(store)
    with store.engine.connect() as conn:
        rows = coverage(conn, portals)
    for data in (heatmap_png(rows, by="region"), heatmap_png(rows), heatmap_png([])):
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size[0] > 300
    assert "0 expected agency-years" in html_report([], heatmap_png([]))  # the page still builds


TWO_CHAOYANG = """
[[portal]]
id = "bj-chaoyang"
name = "北京市朝阳区 年报"
agency = "朝阳区人民政府办公室"
level = "district"
cms = "trs"
start_urls = ["http://www.bjchy.gov.cn/zfxxgk/zfxxgknb/"]
years = [2022, 2023]
division_code = "110105"

[[portal]]
id = "cc-chaoyang"
name = "长春市朝阳区 年报"
agency = "朝阳区人民政府办公室"
level = "district"
cms = "trs"
start_urls = ["http://cy.changchun.gov.cn/zwgk/ndbg/"]
years = [2022, 2023]
division_code = "220104"
"""


def test_registry_portals_find_their_agency_by_identity_not_by_a_shared_name(store: Store) -> None:
    """Two portals of two 朝阳区 (Beijing, Changchun) expect two agencies: each portal's agency is
    resolved with its division code, as link files the documents, never merged by name; a parent
    government without reports (北京市朝阳区人民政府) is not expected."""
    from conftest import SEED_000

    body = SEED_000.read_bytes().replace("临淄区人民政府办公室".encode(), "朝阳区人民政府办公室".encode())
    portals = parse_toml(TWO_CHAOYANG, "test-registry.toml")
    for p in portals:
        store.ensure_portal(p.id, name=p.name, agency=p.agency, level=p.level, cms=p.cms, start_urls=p.start_urls,
                            division_code=p.division_code)
        store.add_document(f"{p.start_urls[0]}2023.txt", body, portal_id=p.id)
    store.link()
    with store.engine.connect() as conn:
        agencies = dict(conn.execute(text("SELECT division_code, id FROM agencies "
                                          "WHERE name = '朝阳区人民政府办公室'")).all())
        rows = coverage(conn, portals)
    assert set(agencies) == {"110105", "220104"}
    got = {(r.portal_id, r.year): (r.agency_id, r.division_code, r.status, r.expected_by) for r in rows}
    assert got == {
        ("bj-chaoyang", 2022): (agencies["110105"], "110105", "missing", "registry"),
        ("bj-chaoyang", 2023): (agencies["110105"], "110105", "failed_checks", "history+registry"),
        ("cc-chaoyang", 2022): (agencies["220104"], "220104", "missing", "registry"),
        ("cc-chaoyang", 2023): (agencies["220104"], "220104", "failed_checks", "history+registry"),
    }
