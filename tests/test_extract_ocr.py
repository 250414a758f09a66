"""Scanned PDFs and tables pasted as images: offline OCR, grid rebuilt from ruling lines,
low-confidence value cells null (never a guess)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvester.extract import ExtractSettings, extract
from harvester.extract.golden import expected, score
from harvester.extract.interpret import interpret
from harvester.extract.layout import Cell, Layout
from harvester.extract.record import ReportRecord

FIX = Path(__file__).parent / "fixtures"
GOLDEN = json.loads((Path(__file__).parent / "goldens" / "seed_000.json").read_text(encoding="utf-8"))
# the derived scan is made from the filled template, which prints 行政规范性文件 as 0 / blank / 16
EXPECTED = expected(GOLDEN, {"table2.normative_docs": {"issued": 0, "repealed": 0, "in_force": 16}})


def _wrong_and_null(record) -> tuple[list[str], list[str]]:
    s = score(record.to_json(), EXPECTED)
    return s.wrong, s.null


@pytest.fixture(scope="module")
def scanned():
    return extract((FIX / "derived_scan" / "seed000_scanned.pdf").read_bytes(), source="seed000_scanned.pdf")


def test_scanned_pdf_without_text_layer_is_read_by_ocr_with_no_wrong_number(scanned):
    assert scanned.error is None
    assert (scanned.agency, scanned.year, scanned.template) == ("临淄区人民政府办公室", 2023, "2021")
    wrong, null = _wrong_and_null(scanned)
    assert wrong == []
    assert len(null) <= 3, null  # the rest of the 200 cells are read


def test_ocr_cells_keep_page_bbox_and_confidence(scanned):
    cell = next(c for c in scanned.cells if (c.table, c.row, c.column) == ("table3", "new_received", "total"))
    assert cell.value == 27 and cell.page == 3  # page 3 of the 4-page scan
    assert cell.bbox is not None and cell.bbox[0] < cell.bbox[2] and cell.bbox[1] < cell.bbox[3]
    assert 0.9 <= cell.confidence <= 1.0


def test_null_ocr_cells_are_recorded_as_unreadable_with_their_raw_text(scanned):
    _, null = _wrong_and_null(scanned)
    unreadable = {f"{c.table}.{c.row}.{c.column}" for c in scanned.cells if c.semantic == "unreadable"}
    assert set(null) <= unreadable | {n for n in null if n.startswith("table2.normative")}


def test_table_pasted_as_an_image_is_read_by_ocr():
    record = extract((FIX / "derived_scan" / "seed000_table3_page.png").read_bytes(), source="table.png")
    assert record.error is None and record.media_type == "image/png"
    for row in ("new_received", "carried_over", "granted", "partially_granted", "unable.not_held"):
        assert record.table3[row] == GOLDEN["table3"][row], row
    # rows printed on the next page are not in this image: null, not zero
    assert record.table3["total_processed"]["total"] is None


def test_low_confidence_value_cell_is_null_not_a_guess():
    cells = [Cell("一、本年新收政府信息公开申请数量"), Cell("26"), Cell("7", confidence=0.41, unreadable=True),
             *[Cell("0", confidence=0.99) for _ in range(4)], Cell("33")]
    rows = [cells, [Cell("二、上年结转政府信息公开申请数量"), *[Cell("0") for _ in range(7)]],
            [Cell("（一）予以公开"), *[Cell("0") for _ in range(7)]]]
    record = ReportRecord(source="x", sha256="0", media_type="image/png")
    interpret(Layout(text="", rows=rows), record)
    assert record.table3["new_received"]["commercial"] is None
    assert record.table3["new_received"]["natural_person"] == 26
    bad = next(c for c in record.cells if c.row == "new_received" and c.column == "commercial")
    assert (bad.semantic, bad.raw, bad.confidence) == ("unreadable", "7", 0.41)
    assert not any(c.rule == "table3.row_sum" and c.where == "new_received" for c in record.checks)


def test_ocr_turned_off_leaves_a_scan_as_an_empty_document_error():
    record = extract((FIX / "derived" / "seed004_scanned.pdf").read_bytes(), settings=ExtractSettings(ocr=False))
    assert record.error.kind == "empty" and "OCR is turned off" in record.error.message


def test_pdf_with_text_pages_and_image_only_table_pages_ocrs_only_the_images():
    record = extract((FIX / "derived_scan" / "seed000_mixed.pdf").read_bytes(), source="mixed.pdf")
    assert record.error is None and record.pages == 5
    wrong, null = _wrong_and_null(record)
    assert wrong == [] and null == []
    by_page = {c.page: c for c in record.cells if c.value is not None}
    assert by_page[3].confidence is None  # table 2: text layer, read as printed
    assert by_page[4].confidence is not None and by_page[5].confidence is not None  # scanned: OCR
