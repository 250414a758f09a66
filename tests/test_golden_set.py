"""The golden set (tests/goldens/manifest.toml): no wrong cell anywhere; a null only where the
input admits several readings, and then a check on that row says why."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract.golden import expected, score

HERE = Path(__file__).parent
MANIFEST = tomllib.loads((HERE / "goldens" / "manifest.toml").read_text(encoding="utf-8"))["file"]
#: Inputs whose nature allows a value the golden has to come out null (OCR confidence).
MAY_BE_NULL = ("derived_scan/",)
FAST = [e for e in MANIFEST if not e["path"].startswith("derived_scan/")]  # the OCR file has its own tests


@pytest.mark.parametrize("entry", FAST, ids=lambda e: e["path"])
def test_golden_file_has_no_wrong_cell_and_nulls_only_where_a_check_explains(entry: dict):
    record = extract((HERE / "fixtures" / entry["path"]).read_bytes(), entry["path"])
    golden = json.loads((HERE / "goldens" / f"{entry['golden']}.json").read_text(encoding="utf-8"))
    want = expected(golden, entry.get("override"))
    s = score(record.to_json(), want)
    assert s.wrong == []
    if not entry["path"].startswith(MAY_BE_NULL):
        assert s.null == []
    explained = {(c.rule.split(".")[0], c.where) for c in record.checks if not c.ok}
    golden_nulls = [f"{t}.{row}.{col}" for t in ("table2", "table3", "table4") for row, cols in (want[t] or {}).items()
                    for col, v in cols.items() if v is None]
    for name in s.null + golden_nulls:
        table, row = name.split(".")[0], name.split(".", 1)[1].rsplit(".", 1)[0]
        assert (table, row) in explained or (table, "table4") in explained, name


def test_every_fixture_with_report_tables_is_in_the_golden_set():
    listed = {e["path"] for e in MANIFEST}
    for folder in ("seeds", "derived", "derived_office", "derived_text", "derived_flat", "derived_scan",
                   "derived_quirks", "derived_ofd"):
        for path in (HERE / "fixtures" / folder).iterdir():
            if path.suffix in {".py", ".md"} or "encrypted" in path.name or path.name.startswith(("seed004_scanned", "pre2019")):
                continue
            if path.name.endswith(".png") or path.name == "README.md":
                continue  # a single page: its own test pins which rows it holds
            assert f"{folder}/{path.name}" in listed, f"{folder}/{path.name} has no golden"


def test_glued_digit_string_is_decoded_by_the_row_and_column_arithmetic():
    record = extract((HERE / "fixtures" / "derived_flat" / "seed000_trs_gbk_flat.txt").read_bytes())
    assert record.table3["new_received"] == {"natural_person": 26, "commercial": 1, "research": 0, "social_org": 0,
                                             "legal_service": 0, "other": 0, "total": 27}
    assert record.table3["total_processed"]["total"] == 31


def test_glued_string_with_several_readings_is_null_with_a_check_saying_why():
    record = extract((HERE / "fixtures" / "derived_flat" / "seed000_trs_gbk_flat.txt").read_bytes())
    # "000222010300000": the review group is fixed by its total, the direct-suit group is not
    assert record.table4["review"] == {"upheld": 0, "corrected": 0, "other": 0, "pending": 2, "total": 2}
    assert record.table4["litigation_direct"]["total"] is None
    assert any(c.rule == "table4.glued_ambiguous" and not c.ok for c in record.checks)


def test_glued_negative_number_keeps_its_sign_and_undecidable_neighbours_stay_null():
    record = extract((HERE / "fixtures" / "derived_flat" / "seed000_as_2019_flat.txt").read_bytes())
    assert record.template == "2019"
    # "12-21204": 12 | -2 | 1204, 12 | -21 | 204, 12 | -2120 | 4, 12 | -21204 | blank; a minus
    # sign can only open 本年增/减, so 上一年项目数量 is 12 in every reading, the rest undecidable
    assert record.table2["licensing"] == {"prev_year_items": 12, "change": None, "decisions": None}
    assert any(c.rule == "table2.glued_ambiguous" and c.where == "licensing" for c in record.checks)
