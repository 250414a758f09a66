"""End to end: a report page whose table 3 is a picture (saved portal zibo-qxnb), crawled with
the real Scrapy stack (subprocess `harvester crawl`) through --host-map, then exported.
One picture is OCR'd once (the second crawl stores nothing new)."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from harvester.db.models import Cell, Document, Report, ReportDocument
from portal_server import REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")
ZIBO = "http://www.zibo.gov.cn/gongkai/qxnb/"
PAGE = ZIBO + "202401/t20240122_2222222.html"
TABLE3_PNG = ZIBO + "202401/W020240122512345678.png"
DECORATIONS = {"/images/logo.png", "/images/zwgk_logo.png", "/images/print.gif", "/images/ewm_t20240122.png"}


def crawl(srv, tmp: Path) -> None:
    cmd = [str(HARVESTER), "crawl", "zibo-qxnb", "--registry", str(REGISTRY), "--data-dir", str(tmp / "data"),
           "--db", f"sqlite:///{tmp / 'x.sqlite'}"]
    for entry in srv.host_map():
        cmd += ["--host-map", entry]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]


def counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Document, Report, ReportDocument, Cell)}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl_images")
    with serve() as srv:
        crawl(srv, tmp)
        engine = create_engine(f"sqlite:///{tmp / 'x.sqlite'}")
        first, log = counts(engine), list(srv.served())
        crawl(srv, tmp)
        second = counts(engine)
    export = tmp / "export"
    proc = subprocess.run([str(HARVESTER), "export", "--out", str(export), "--data-dir", str(tmp / "data"),
                           "--db", f"sqlite:///{tmp / 'x.sqlite'}"], cwd=tmp, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    yield {"engine": engine, "log": log, "counts": (first, second), "export": export}
    engine.dispose()


def docs(engine) -> dict[str, Document]:
    with Session(engine) as s:
        return {d.url: d for d in s.scalars(select(Document))}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_table_picture_in_the_article_is_fetched_and_stored_with_its_page(crawled):
    d = docs(crawled["engine"])
    assert set(d) == {PAGE, TABLE3_PNG}
    image = d[TABLE3_PNG]
    assert (image.media_type, image.parent_url, image.parent_document_id) == ("image/png", PAGE, d[PAGE].id)
    assert image.error_kind is None and image.http_status == 200


def test_logo_icon_and_qr_code_pictures_are_never_requested(crawled):
    paths = {path for _m, _h, path, _s in crawled["log"]}
    assert "/gongkai/qxnb/202401/W020240122512345678.png" in paths
    assert not paths & DECORATIONS


def test_ocr_reads_table_3_from_the_picture(crawled):
    image = docs(crawled["engine"])[TABLE3_PNG]
    with Session(crawled["engine"]) as s:
        values = {(r, c): v for r, c, v in s.execute(
            select(Cell.row_key, Cell.column_key, Cell.value_text)
            .where(Cell.document_id == image.id, Cell.table == "table3"))}
        tables = set(s.scalars(select(Cell.table).where(Cell.document_id == image.id)))
    assert tables == {"table3"}
    assert values[("new_received", "natural_person")] == "26" and values[("new_received", "total")] == "27"
    assert values[("carried_over", "total")] == "6" and values[("granted", "total")] == "7"


def test_page_and_its_table_picture_are_one_report(crawled):
    d = docs(crawled["engine"])
    with Session(crawled["engine"]) as s:
        report_of = dict(s.execute(select(ReportDocument.document_id, ReportDocument.report_id)).all())
        n_reports = s.scalar(select(func.count()).select_from(Report))
    assert n_reports == 1 and report_of[d[PAGE].id] == report_of[d[TABLE3_PNG].id]
    assert (d[PAGE].agency_name, d[PAGE].year) == ("临淄区人民政府办公室", 2023)


def test_exported_report_has_table_2_from_the_page_and_table_3_from_the_picture(crawled):
    d = docs(crawled["engine"])
    [report] = read(crawled["export"] / "reports.csv")
    assert (report["agency"], report["year"], report["documents"]) == ("临淄区人民政府办公室", "2023", "2")
    cells = {(c["table"], c["row"], c["column"]): c for c in read(crawled["export"] / "cells.csv")}
    t2 = [c for k, c in cells.items() if k[0] == "table2" and c["value"] != ""]
    t3 = [c for k, c in cells.items() if k[0] == "table3" and c["value"] != ""]
    assert t2 and {(c["document_id"], c["source_url"]) for c in t2} == {(str(d[PAGE].id), PAGE)}
    assert t3 and {(c["document_id"], c["source_url"]) for c in t3} == {(str(d[TABLE3_PNG].id), TABLE3_PNG)}
    assert cells[("table2", "regulations", "issued")]["value"] == "0"
    assert cells[("table3", "new_received", "total")]["value"] == "27"
    wide3 = {r["row"]: r for r in read(crawled["export"] / "table3.csv")}
    assert (wide3["new_received"]["natural_person"], wide3["new_received"]["commercial"]) == ("26", "1")


def test_second_crawl_of_the_picture_portal_adds_nothing(crawled):
    first, second = crawled["counts"]
    assert first["documents"] == 2 and first["reports"] == 1
    assert second == first
