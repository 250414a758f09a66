"""Plain-text reports: the seeds against their hand-checked goldens, and the quirks they carry."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract.layout import Cell, Layout
from harvester.extract.record import ReportRecord
from harvester.extract.interpret import interpret

FIX = Path(__file__).parent / "fixtures"
GOLDENS = Path(__file__).parent / "goldens"
SEEDS = sorted((FIX / "seeds").glob("*.txt"))


def _golden(seed: Path) -> dict:
    return json.loads((GOLDENS / f"seed_{seed.name[:3]}.json").read_text(encoding="utf-8"))


def _from_rows(rows: list[list[str]], text: str = "") -> ReportRecord:
    record = ReportRecord(source="t", sha256="0", media_type="text/plain")
    interpret(Layout(text=text, rows=[[Cell(c) for c in r] for r in rows]), record)
    return record


def _t3_rows(values: dict[str, list]) -> list[list[str]]:
    """A 2021-template table 3 with the given rows (label → 7 values), others all 0."""
    labels = [("本年新收政府信息公开申请数量", "new_received"), ("上年结转政府信息公开申请数量", "carried_over"),
              ("（一）予以公开", "granted"), ("（七）总计", "total_processed"), ("四、结转下年度继续办理", "carried_forward")]
    return [[label, *[str(v) for v in values.get(key, [0] * 7)]] for label, key in labels]


def test_seed_count_is_five():
    assert len(SEEDS) == 5


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_every_seed_matches_its_golden_cell_for_cell(seed: Path):
    got = extract(seed.read_bytes(), source=str(seed)).to_json()
    want = _golden(seed)
    got.pop("source")
    for key in ("table2", "table3", "table4"):
        assert got[key] == want[key], key
    assert got == want


@pytest.mark.slow
def test_cli_extract_json_prints_one_line_per_input_in_input_order(tmp_path: Path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage that is not a pdf")
    args = [str(SEEDS[2]), str(bad), str(SEEDS[0])]
    proc = subprocess.run([sys.executable, "-m", "harvester", "extract", *args, "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr  # one input failed: non-zero, but the others still went on
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["source"] for line in lines] == args
    assert lines[0]["table3"] == _golden(SEEDS[2])["table3"]
    assert lines[1]["error"]["kind"] in {"corrupt", "extract_failed"} and lines[1]["table3"] is None
    assert lines[2]["table3"]["new_received"]["total"] == 27


def test_row_with_fewer_values_than_columns_is_null_not_guessed():
    record = extract((FIX / "seeds" / SEEDS[0].name).read_bytes())
    assert record.table2["normative_docs"] == {"issued": 0, "repealed": None, "in_force": None}  # 0 in every reading
    assert {"rule": "table2.alignment", "where": "normative_docs", "expected": 3, "found": 2, "ok": False} in \
        [c.to_json() for c in record.checks]


def test_table3_printing_only_totals_lists_every_other_cell_as_blank():
    record = extract(SEEDS[2].read_bytes())
    assert record.table3["new_received"] == {k: 0 for k in record.table3["new_received"]}
    blanks = set(record.blank_cells)
    assert "table3.new_received.natural_person" in blanks and "table3.new_received.total" not in blanks
    assert "table4.review.total" not in blanks and "table4.review.pending" in blanks


def test_label_split_over_two_lines_in_one_cell_per_line_dump_still_matches():
    record = extract(SEEDS[3].read_bytes())  # 5.要求行政机关确认或重新 / 出具已获取信息
    assert record.table3["not_processed.confirmation"] == {k: 0 for k in record.table3["granted"]}
    assert record.table3["other.other"]["total"] == 2


def test_label_typos_and_wrong_numbering_still_match():
    rows = _t3_rows({}) + [["（三）不予公开", "1. 属于国家机密", *"1000001"],
                           ["", "2. 其他法律法规禁止公开", *"0200002"],
                           ["一、上年结转政府信息公开申请数量", *"0030003"]]
    rows = rows[:1] + rows[2:]  # carried_over comes only from the mis-numbered 一、 row
    record = _from_rows(rows)
    assert record.table3["denied.state_secret"]["natural_person"] == 1
    assert record.table3["denied.prohibited_by_law"]["commercial"] == 2
    assert record.table3["carried_over"]["research"] == 3


def test_printed_totals_that_do_not_add_up_are_kept_and_the_check_fails():
    record = _from_rows(_t3_rows({"granted": [5, 1, 0, 0, 0, 0, 9]}))
    assert record.table3["granted"]["total"] == 9
    bad = [c for c in record.checks if not c.ok]
    assert any(c.rule == "table3.row_sum" and c.where == "granted" and c.expected == 6 and c.found == 9 for c in bad)


def test_full_width_digits_thousands_separators_units_and_blank_marks_are_read():
    record = _from_rows(_t3_rows({"new_received": ["１２", "1,234", "3件", "/", "—", "无", "1,249"]}))
    assert record.table3["new_received"] == {"natural_person": 12, "commercial": 1234, "research": 3,
                                             "social_org": 0, "legal_service": 0, "other": 0, "total": 1249}
    assert {"table3.new_received.social_org", "table3.new_received.other"} <= set(record.blank_cells)
    assert all(c.ok for c in record.checks if c.where == "new_received")


def test_template_2019_is_recognised_with_its_own_table2_keys_and_single_other_row():
    record = extract((FIX / "derived_text" / "seed000_as_2019_template.tsv.txt").read_bytes())
    assert (record.template, record.year, record.agency) == ("2019", 2020, "临淄区人民政府办公室")
    assert record.table2["licensing"] == {"prev_year_items": 12, "change": -2, "decisions": 1204}
    assert record.table2["procurement"] == {"items": 4, "total_amount": "75.3万元"}
    assert record.table2["fees"] == {"prev_year_items": 1, "change": 0}
    assert "other" in record.table3 and "other.other" not in record.table3
    assert record.table3["other"]["total"] == 1
    assert all(c.ok for c in record.checks)


def test_publication_date_is_read_but_year_is_the_year_reported_on():
    record = extract(SEEDS[3].read_bytes())
    assert record.year == 2023 and record.publication_date == "2024-01-19"


@pytest.mark.parametrize("data,kind", [(b"", "empty"), (b"   \n\n", "empty"),
                                        (b"\x00\x01\x02binary\xff" * 10, "unsupported_format")])
def test_unreadable_input_gives_an_error_record_with_null_tables(data: bytes, kind: str):
    record = extract(data, source="x")
    assert record.error is not None and record.error.kind == kind
    assert record.table3 is None and record.to_json()["error"]["kind"] == kind


def test_prose_without_tables_has_null_tables_and_null_template():
    text = "某某县人民政府2015年政府信息公开工作年度报告\n一、概述\n2015年，我县主动公开政府信息1200条。\n".encode()
    record = extract(text)
    assert record.error is None
    assert (record.template, record.table2, record.table3, record.table4) == (None, None, None, None)
    assert record.year == 2015 and record.agency == "某某县人民政府"


def test_markdown_tables_of_a_real_ocr_report_are_read_row_by_row():
    record = extract((FIX / "corpus" / "shuyang_2025_ocr_markdown.txt").read_bytes())
    assert (record.agency, record.year) == ("沐阳县人民政府", 2025)  # as printed: the OCR reads 沭 as 沐
    assert record.table2["licensing"] == {"decisions": 517645}
    assert record.table2["fees"] == {"amount_10k_yuan": 4068.208}
    assert record.table3["total_processed"]["total"] == 718


def test_table4_printed_as_three_separate_group_tables_is_read_group_by_group():
    record = extract((FIX / "corpus" / "shuyang_2025_ocr_markdown.txt").read_bytes())
    assert record.table4 == {
        "review": {"upheld": 27, "corrected": 10, "other": 9, "pending": 15, "total": 61},
        "litigation_direct": {"upheld": 3, "corrected": 0, "other": 0, "pending": 0, "total": 3},
        "litigation_after_review": {"upheld": 8, "corrected": 0, "other": 1, "pending": 1, "total": 10},
    }


def test_shou_li_count_including_carried_over_requests_passes_the_narrative_check():
    record = extract((FIX / "corpus" / "shuyang_2025_ocr_markdown.txt").read_bytes())
    check = next(c for c in record.checks if c.rule == "narrative.new_received")
    assert (check.expected, check.found, check.ok) == (749, 749, True)  # 713 new + 36 carried over


def test_page_furniture_above_a_year_first_title_is_not_taken_for_the_agency():
    from harvester.extract.metadata import read_metadata

    assert read_metadata("正文\n2024 年上海市科委政府信息公开工作\n年度报告\n").agency == "上海市科委"


def test_pdf_text_dump_with_rows_as_space_separated_lines_is_read():
    record = extract((FIX / "derived_flat" / "seed000_pdf_text.txt").read_bytes())
    assert record.table3["partially_granted"]["total"] == 1  # label wrapped, its last value on the next line
    assert record.table4["litigation_direct"] == {"upheld": 2, "corrected": 0, "other": 1, "pending": 0, "total": 3}


def test_spaced_numbers_are_not_mistaken_for_glued_digits():
    # regression: "规章 0 0 0" once switched the whole dump to glued-digit decoding
    from harvester.extract.text import parse_text

    layout = parse_text("规章 0 0 0\n行政规范性文件 4 0 21\n".encode())
    assert [c.text for c in layout.rows[0]] == ["规章", "0", "0", "0", "行政规范性文件", "4", "0", "21"]


def test_number_stated_in_prose_decides_a_glued_table2_row():
    # "4021" alone reads 4|0|21, 40|2|1, 402|1|_, …; the prose says 本年度制发4件: only 4|0|21 fits
    text = ("某某区人民政府办公室\n2023年政府信息公开工作年度报告\n本年度制发4件规范性文件。\n"
            "第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章000行政规范性文件4021\n"
            "第二十条第（五）项信息内容本年处理决定数量行政许可0\n")
    record = extract(text.encode())
    assert record.table2["normative_docs"] == {"issued": 4, "repealed": 0, "in_force": 21}
    assert any(c.rule == "narrative.normative_docs" and c.ok for c in record.checks)
