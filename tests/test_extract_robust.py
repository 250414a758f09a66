"""Every number right or null: prose naming several categories, damaged labels, units kept apart."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harvester.extract import extract

HERE = Path(__file__).parent
FIX = HERE / "fixtures"
SEED0 = (FIX / "seeds" / "000_7ffb10b0611b3e96.txt").read_text(encoding="utf-8")
MANIFEST = tomllib.loads((HERE / "goldens" / "manifest.toml").read_text(encoding="utf-8"))["file"]


def _with_prose(sentence: str) -> bytes:
    return SEED0.replace("五、存在的主要问题及改进情况", sentence + "\n五、存在的主要问题及改进情况", 1).encode("utf-8")


def test_prose_naming_two_categories_is_compared_with_the_sum_of_their_rows():
    # seed 000: 予以公开 7, 部分公开 1; 不予公开 1 (…其他法律? no: all 0) — 无法提供 21
    record = extract(_with_prose("全年予以公开及部分公开8件，不予公开和无法提供共21件。"))
    got = {c.where: c for c in record.checks if c.rule.startswith("narrative.")}
    assert got["table3.granted+partially_granted.total"].ok
    assert got["table3.granted+partially_granted.total"].found == 8
    assert got["table3.denied.*+unable.*.total"].ok
    assert "table3.partially_granted.total" not in got  # never compared with one of them


def test_prose_that_really_disagrees_with_the_table_fails_with_the_sum_it_was_compared_with():
    record = extract(_with_prose("全年予以公开及部分公开9件。"))
    check = next(c for c in record.checks if c.where == "table3.granted+partially_granted.total")
    assert (check.expected, check.found, check.ok) == (9, 8, False)


def test_single_categories_listed_one_after_another_are_each_their_own_statement():
    record = extract(_with_prose("其中予以公开7件、部分公开1件。"))
    got = {c.where: c.ok for c in record.checks if c.rule.startswith("narrative.")}
    assert got["table3.granted.total"] and got["table3.partially_granted.total"]


def _damaged(old: str, new: str) -> bytes:
    assert old in SEED0
    return SEED0.replace(old, new, 1).encode("utf-8")


@pytest.mark.parametrize("old,new,key", [
    ("2．其他法律行政法规禁止公开", "2．其他法行政规禁止公开", "denied.prohibited_by_law"),
    ("2．重复申请", "2．复申", "not_processed.repeat"),  # two of four characters gone: the row order decides
    ("3．要求提供公开出版物", "3．要提供开出版", "not_processed.publication"),
    ("二、上年结转政府信息公开申请数量", "二、上结转政府信公开申请数量", "carried_over"),
])
def test_table3_label_with_characters_dropped_is_matched_by_order_and_similarity(old, new, key):
    record = extract(_damaged(old, new))
    clean = extract(SEED0.encode("utf-8"))
    assert record.table3[key] == clean.table3[key]
    assert record.table3 == clean.table3


def test_table3_row_no_label_fits_is_named_in_a_check_and_its_null_row_says_why():
    record = extract(_damaged("2．重复申请", "2．XYZ"))
    assert any(c.rule == "table3.unmatched_label" and "XYZ" in c.where for c in record.checks)
    assert record.table3["not_processed.repeat"]["total"] is None
    assert any(c.rule == "table3.row_missing" and c.where == "not_processed.repeat" for c in record.checks)


def test_amount_with_a_unit_keeps_its_number_and_the_unit_apart():
    record = extract((FIX / "derived_text" / "seed000_as_2019_template.tsv.txt").read_bytes())
    cell = next(c for c in record.cells if c.row == "procurement" and c.column == "total_amount")
    assert (cell.value, cell.number, cell.unit) == ("75.3万元", 75.3, "万元")


@pytest.mark.parametrize("entry", [e for e in MANIFEST if not e["path"].startswith("derived_scan/")],
                         ids=lambda e: e["path"])
def test_no_golden_cell_is_a_number_without_a_numeric_value(entry):
    record = extract((FIX / entry["path"]).read_bytes(), entry["path"])
    empty = [f"{c.table}.{c.row}.{c.column}" for c in record.cells if c.semantic == "number" and c.number is None]
    assert empty == []


def test_stored_amount_cell_holds_its_number_with_the_unit_apart(store):  # SQLite and PostgreSQL
    from sqlalchemy import select

    from harvester.db.models import Cell

    body = (FIX / "derived_text" / "seed000_as_2019_template.tsv.txt").read_bytes()
    doc = store.add_document("file:///as2019.txt", body).document_id
    with store.session() as s:
        cell = s.execute(select(Cell).where(Cell.document_id == doc, Cell.row_key == "procurement",
                                            Cell.column_key == "total_amount")).scalar_one()
        numbers_without_value = s.execute(select(Cell).where(Cell.document_id == doc, Cell.semantic == "number",
                                                             Cell.value.is_(None))).all()
    assert (cell.value, cell.unit, cell.value_text) == (75.3, "万元", "75.3万元")
    assert numbers_without_value == []


def test_front_end_keyword_lists_derive_from_the_template_labels():
    from harvester.extract import labels as L
    from harvester.extract import pdf, text

    assert pdf.TABLE_MARKERS == L.TABLE_WORDS
    for label in L.ROW_LABELS:  # every row label glued to its digits marks table text
        assert text._GLUED_ROW.search(f"{label}016"), label


def test_every_arithmetic_check_comes_from_the_one_rule_table():
    from harvester.extract.checks import RULES

    record = extract(SEED0.encode("utf-8"))
    names = {r.name for r in RULES}
    arithmetic = [c for c in record.checks if c.rule.split(".")[1] in {"row_sum", "column_sum", "balance"}]
    assert arithmetic and all(c.rule in names for c in arithmetic)


def test_row_whose_empty_cells_left_no_trace_is_placed_by_the_whole_table_arithmetic():
    """A PDF text layer drops empty cells: "上年结转… 6 6" could put the 6 under any applicant column;
    only 自然人 keeps new + carried over = processed + carried forward in every column."""
    dump = (FIX / "derived_flat" / "seed000_pdf_text.txt").read_text(encoding="utf-8")
    old = "二、上年结转政府信息公开申请数量 6 0 0 0 0 0 6"
    assert old in dump
    record = extract(dump.replace(old, "二、上年结转政府信息公开申请数量 6 6").encode("utf-8"))
    assert record.table3["carried_over"] == {"natural_person": 6, "commercial": 0, "research": 0, "social_org": 0,
                                             "legal_service": 0, "other": 0, "total": 6}
    assert "table3.carried_over.commercial" in record.blank_cells



def test_two_rows_that_lost_their_empty_cells_are_placed_together():
    dump = (FIX / "derived_flat" / "seed000_pdf_text.txt").read_text(encoding="utf-8")
    text = dump.replace("二、上年结转政府信息公开申请数量 6 0 0 0 0 0 6", "二、上年结转政府信息公开申请数量 6 6")
    text = text.replace("一、本年新收政府信息公开申请数量 26 1 0 0 0 0 27", "一、本年新收政府信息公开申请数量 26 1 27")
    record = extract(text.encode("utf-8"))
    clean = extract(dump.encode("utf-8"))
    assert record.table3 == clean.table3


def test_every_layout_check_interpret_emits_is_listed_in_layout_rules():
    """The checks glossary derives from LAYOUT_RULES: a new `rule=` in interpret.py must be listed."""
    import re
    from pathlib import Path

    from harvester.extract import interpret

    source = Path(interpret.__file__).read_text(encoding="utf-8")
    emitted = set(re.findall(r'rule=f"\{[\w.]+\}\.(\w+)"', source))
    emitted |= set(re.findall(r'rule="table\d\.(\w+)"', source))
    emitted |= set(re.findall(r'rule = "(\w+)" if .* else "(\w+)"', source)[0])
    assert emitted <= set(interpret.LAYOUT_RULES)
    assert {"alignment", "glued", "glued_ambiguous", "row_missing", "unmatched_label"} <= emitted
