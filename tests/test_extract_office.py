"""Legacy DOC/WPS (via LibreOffice), XLS/XLSX attachments: detected from bytes, same numbers as the seed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract.sniff import OLE, XLSX, sniff

FIX = Path(__file__).parent / "fixtures"
GOLDEN = json.loads((Path(__file__).parent / "goldens" / "seed_000.json").read_text(encoding="utf-8"))
OFFICE = FIX / "derived_office"
#: The derived office files print the 行政规范性文件 row as 0 / blank / 16 (see make_fixtures.py).
NORMATIVE = {"issued": 0, "repealed": 0, "in_force": 16}


@pytest.mark.parametrize("name", ["seed000_template.doc", "seed000_tables.xlsx", "seed000_tables.xls"])
def test_office_formats_give_the_seed_numbers(name: str):
    record = extract((OFFICE / name).read_bytes(), source=name)
    assert record.error is None, record.error
    assert (record.agency, record.year, record.template) == ("临淄区人民政府办公室", 2023, "2021")
    assert record.table3 == GOLDEN["table3"] and record.table4 == GOLDEN["table4"]
    assert record.table2 == {**GOLDEN["table2"], "normative_docs": NORMATIVE}
    assert all(c.ok for c in record.checks)


def test_wps_file_is_read_as_the_word_document_it_is():
    record = extract((OFFICE / "seed004_template.wps").read_bytes(), source="x.wps")
    assert record.media_type == OLE and record.error is None
    assert (record.agency, record.year) == ("临淄区工业和信息化局", 2021)
    assert record.table3 == json.loads((Path(__file__).parent / "goldens" / "seed_004.json").read_text())["table3"]


def test_format_is_detected_from_bytes_not_from_the_file_name(tmp_path: Path):
    data = (OFFICE / "seed000_tables.xlsx").read_bytes()
    assert sniff(data, "report.pdf") == XLSX
    assert extract(data, source="misnamed.pdf").table3 == GOLDEN["table3"]


def test_header_total_cell_followed_by_merged_blanks_does_not_shadow_the_total_row():
    # regression: in the XLSX the 总计 column header is followed by five empty merged cells,
    # which once read as an all-blank （七）总计 row and hid the real one.
    record = extract((OFFICE / "seed000_tables.xlsx").read_bytes())
    assert record.table3["total_processed"]["total"] == 31


def test_missing_libreoffice_gives_a_converter_missing_error_naming_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    record = extract((OFFICE / "seed000_template.doc").read_bytes(), source="x.doc")
    assert record.error is not None and record.error.kind == "converter_missing"
    assert "libreoffice" in record.error.message.lower() and record.table3 is None
