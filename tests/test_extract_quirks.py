"""Each real-world quirk of report-tables.md, pinned on the derived quirks page (seed 003's numbers)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from harvester.extract import ExtractSettings, extract

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def quirks():
    return extract((FIX / "derived_quirks" / "seed003_quirks.html").read_bytes(), source="seed003_quirks.html")


def test_2021_report_printing_one_other_row_uses_the_single_other_key(quirks):
    assert quirks.template == "2021"
    assert quirks.table3["other"] == {"natural_person": 2, "commercial": 0, "research": 0, "social_org": 0,
                                      "legal_service": 0, "other": 0, "total": 2}
    assert not any(k.startswith("other.") for k in quirks.table3)
    assert all(c.ok for c in quirks.checks if c.rule == "table3.column_sum")


def test_label_typo_from_the_spec_still_matches_its_key(quirks):  # 2.其他法律行政止公开, 1.属于国家机密
    assert quirks.table3["denied.prohibited_by_law"]["total"] == 0
    assert quirks.table3["denied.state_secret"]["total"] == 0
    assert "table3.denied.prohibited_by_law.total" not in quirks.blank_cells


def test_unit_inside_cell_and_full_width_digits_keep_their_raw_text(quirks):
    cells = {(c.row, c.column): c for c in quirks.cells}
    assert (cells["new_received", "natural_person"].value, cells["new_received", "natural_person"].raw) == (19, "19件")
    assert (cells["new_received", "total"].value, cells["new_received", "total"].raw) == (19, "１９")


@pytest.mark.parametrize("row", ["denied.three_safeties_one_stability", "denied.enforcement_case", "denied.inquiry"])
def test_slash_dash_and_wu_blank_marks_are_zero_and_listed_blank(quirks, row: str):
    assert set(quirks.table3[row].values()) == {0}
    assert f"table3.{row}.total" in quirks.blank_cells


def test_column_shifted_colspan_does_not_shift_values(quirks):
    assert quirks.table3["partially_granted"]["natural_person"] == 9
    assert quirks.table3["partially_granted"]["total"] == 9


def test_pre2019_prose_report_is_recognised_with_its_text_and_null_tables():
    record = extract((FIX / "derived_quirks" / "pre2019_prose.html").read_bytes())
    assert record.error is None
    assert (record.report_kind, record.year, record.agency) == ("pre2019_prose", 2017, "临淄区工业和信息化局")
    assert (record.template, record.table2, record.table3, record.table4) == (None, None, None, None)
    assert "依申请公开政府信息情况" in record.text


def test_standard_report_kind_and_document_without_title_has_no_kind(quirks):
    assert quirks.report_kind == "standard"
    assert extract("一些与年报无关的文字。\n".encode()).report_kind is None


def test_document_over_the_size_limit_is_refused_as_too_large():
    record = extract(b"x" * 2000, settings=ExtractSettings(max_bytes=1000))
    assert record.error.kind == "too_large" and record.table3 is None


def test_xlsx_zip_bomb_is_refused_before_decompression():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    record = extract(buf.getvalue(), source="bomb.xlsx")
    assert record.error.kind == "too_large" and "zip bomb" in record.error.message
