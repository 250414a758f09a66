"""PDF front-end: Layout shape on the derived template PDFs (filled real 2021 template, converted
by LibreOffice), error kinds, and end-to-end against the goldens of the source seeds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvester.errors import CorruptDocument, EmptyDocument, EncryptedDocument
from harvester.extract import extract
from harvester.extract.settings import ExtractSettings
from harvester.extract.pdf import parse_pdf

DERIVED = Path(__file__).parent / "fixtures" / "derived"
GOLDENS = Path(__file__).parent / "goldens"


@pytest.fixture(scope="module")
def seed000():
    return parse_pdf((DERIVED / "seed000_template.pdf").read_bytes())


def _texts(layout) -> list[list[str]]:
    return [[c.text for c in row] for row in layout.rows]


def _find(layout, label: str):
    """The first row having a cell whose text starts with `label`."""
    for row in layout.rows:
        if any(c.text.startswith(label) for c in row):
            return row
    raise AssertionError(f"no row with a cell starting {label!r}")


def _golden(seed: str) -> dict:
    return json.loads((GOLDENS / f"seed_{seed}.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ document level
def test_pdf_page_count_and_text_layer(seed000):
    assert seed000.pages == 6
    assert "收到和处理政府信息公开申请情况" in seed000.text
    assert "临淄区人民政府办公室" in seed000.text


def test_pdf_rows_carry_their_page_number(seed000):
    pages = [c.page for row in seed000.rows for c in row]
    assert None not in pages and pages == sorted(pages)
    assert set(pages) == {1, 2, 3, 4, 5, 6}


def test_pdf_table_cells_have_bbox_and_text_lines_do_not(seed000):
    row = _find(seed000, "一、本年新收")
    assert len(row) == 8 and all(c.bbox is not None for c in row)
    x0, top, x1, bottom = row[1].bbox
    assert x0 < x1 and top < bottom
    assert [c.bbox[0] for c in row] == sorted(c.bbox[0] for c in row)  # left to right
    heading = _find(seed000, "三、收到和处理政府信息公开申请情况")
    assert len(heading) == 1 and heading[0].bbox is None


def test_pdf_text_outside_tables_comes_before_the_table_below_it(seed000):
    rows = _texts(seed000)
    i_heading = rows.index(["二、主动公开政府信息情况"])
    i_t2 = rows.index(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])
    i_h3 = rows.index(["三、收到和处理政府信息公开申请情况"])
    i_t3 = next(i for i, r in enumerate(rows) if r[0] == "一、本年新收政府信息公开申请数量")
    i_h4 = rows.index(["四、政府信息公开行政复议、行政诉讼情况"])
    i_t4 = next(i for i, r in enumerate(rows) if r[:2] == ["行政复议", "行政诉讼"])
    assert i_heading < i_t2 < i_h3 < i_t3 < i_h4 < i_t4


# ------------------------------------------------------------------ tables
def test_pdf_merged_copies_are_dropped(seed000):
    assert [c.text for c in _find(seed000, "三、本年度办理结果")] == ["三、本年度办理结果", "（一）予以公开", "7", "0", "0", "0", "0", "0", "7"]
    assert [c.text for c in _find(seed000, "（三）不予公开")] == ["（三）不予公开", "1.属于国家秘密"] + ["0"] * 7
    assert [c.text for c in _find(seed000, "2.其他法律行政法规禁止公开")] == ["2.其他法律行政法规禁止公开"] + ["0"] * 7
    assert [c.text for c in _find(seed000, "自然人")] == ["自然人", "法人或其他组织", "总计"]
    assert [c.text for c in _find(seed000, "行政许可")] == ["行政许可", "0"]


def test_pdf_header_cells_broken_over_lines_are_joined(seed000):
    # the template prints 结果/纠正, 商业/企业 on two lines inside their cells
    assert [c.text for c in _find(seed000, "商业企业")] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    sub = [r for r in _texts(seed000) if len(r) == 10 and r[0] == "结果维持"]
    assert sub == [["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2]
    assert [r for r in _texts(seed000) if len(r) == 15] == [["0", "0", "0", "2", "2", "2", "0", "1", "0", "3", "0", "0", "0", "0", "0"]]


def test_pdf_blank_cell_is_kept_empty(seed000):
    # the filled template leaves 本年废止件数 of 行政规范性文件 empty (seed 000 prints two values)
    assert [c.text for c in _find(seed000, "行政规范性文件")] == ["行政规范性文件", "0", "", "16"]


def test_pdf_table_split_across_pages_keeps_row_order(seed000):
    rows = seed000.rows
    start = next(i for i, r in enumerate(rows) if r[0].text.startswith("一、本年新收"))
    end = next(i for i, r in enumerate(rows) if r[0].text.startswith("四、结转下年度继续办理"))
    table = rows[start:end + 1]
    assert len(table) == 25 and all(len(r) >= 8 for r in table)
    pages = [r[0].page for r in table]
    assert pages[0] == 4 and pages[-1] == 5 and pages == sorted(pages)
    # the break falls inside （五）不予处理: item 4 ends page 4, item 5 opens page 5
    last_p4 = max(i for i, p in enumerate(pages) if p == 4)
    assert table[last_p4][0].text == "4.无正当理由大量反复申请"
    first_p5 = table[last_p4 + 1]
    assert [c.text for c in first_p5] == ["", "", "5.要求行政机关确认或重新出具已获取信息"] + ["0"] * 7
    # the group's continuation cells printed on the new page are empty cells, not a repeated label
    assert [c.text for c in table[last_p4 + 2]][:2] == ["（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"]
    labels = [next(c.text for c in r if c.text and not c.text.isdigit()) for r in table]
    assert labels[-3:] == ["3.其他", "（七）总计", "四、结转下年度继续办理"]


def test_pdf_pages_without_ruled_tables_give_one_stream_of_text_cells(seed000):
    # pages 1 and 2 hold prose only: one row (a stream, as a text dump reads), no boxes
    first = seed000.rows[0]
    assert {c.page for c in first} == {1, 2} and all(c.bbox is None for c in first)
    assert first[0].text.startswith("临淄区人民政府办公室")


def test_second_pdf_all_zero_report():
    layout = parse_pdf((DERIVED / "seed004_template.pdf").read_bytes())
    assert "临淄区工业和信息化局" in layout.text
    ruled = [r for r in layout.rows if all(c.bbox is not None for c in r)]
    t3 = [[c.text for c in r] for r in ruled
          if len(r) >= 8 and any("、" in c.text or "." in c.text or "）" in c.text for c in r[:3])]
    assert len(t3) == 25
    assert all(v == "0" for r in t3 for v in r[-7:])


# ------------------------------------------------------------------ errors
def test_corrupt_pdf_gives_corrupt_error():
    data = (DERIVED / "seed004_template.pdf").read_bytes()
    with pytest.raises(CorruptDocument):
        parse_pdf(data[: len(data) // 2])
    with pytest.raises(CorruptDocument):
        parse_pdf(b"%PDF-1.7\n" + b"\x00not a pdf" * 50)


def test_encrypted_pdf_gives_encrypted_error():
    with pytest.raises(EncryptedDocument):
        parse_pdf((DERIVED / "seed004_encrypted.pdf").read_bytes())


def test_pdf_without_text_layer_and_ocr_off_is_empty_error():
    with pytest.raises(EmptyDocument, match=r"no text layer \(scanned PDF\?\) and OCR is turned off"):
        parse_pdf((DERIVED / "seed004_scanned.pdf").read_bytes(), ExtractSettings(ocr=False))


@pytest.mark.slow
def test_pdf_without_text_layer_gets_its_text_from_ocr():
    layout = parse_pdf((DERIVED / "seed004_scanned.pdf").read_bytes())
    assert "临淄区工业和信息化局" in layout.text.replace(" ", "")


@pytest.mark.parametrize("name, data_of, kind", [
    ("truncated.pdf", lambda d: d[:3000], "corrupt"),
    ("seed004_encrypted.pdf", None, "encrypted"),
])
def test_extract_records_pdf_error_kind_instead_of_raising(name, data_of, kind):
    data = data_of((DERIVED / "seed004_template.pdf").read_bytes()) if data_of else (DERIVED / name).read_bytes()
    record = extract(data, name)
    assert record.media_type == "application/pdf"
    assert record.error is not None and record.error.kind == kind
    assert record.table3 is None


# ------------------------------------------------------------------ end to end
def test_derived_pdf_seed000_extracts_the_seed_golden_tables():
    record = extract((DERIVED / "seed000_template.pdf").read_bytes(), "derived/seed000_template.pdf")
    golden = _golden("000")
    assert record.error is None
    assert record.template == "2021"
    assert record.table3 == golden["table3"]
    assert record.table4 == golden["table4"]
    # the template filled from the seed's two-value row has a blank 本年废止件数 (see MANIFEST.md):
    # the golden says the seed's row is undeterminable; here the printed cells are 0, blank, 16
    expected2 = dict(golden["table2"], normative_docs={"issued": 0, "repealed": 0, "in_force": 16})
    assert record.table2 == expected2
    assert "table2.normative_docs.repealed" in record.blank_cells


def test_derived_pdf_seed004_extracts_the_seed_golden_tables():
    record = extract((DERIVED / "seed004_template.pdf").read_bytes(), "derived/seed004_template.pdf")
    golden = _golden("004")
    assert record.error is None
    assert record.template == golden["template"] == "2021"
    assert record.table2 == golden["table2"]
    assert record.table3 == golden["table3"]
    assert record.table4 == golden["table4"]
    assert record.year == golden["year"] == 2021


def test_pdf_table_without_ruling_lines_is_read_from_its_wrapped_text_lines():
    record = extract((Path(__file__).parent / "fixtures" / "derived_flat" / "seed000_borderless.pdf").read_bytes())
    # （二）部分公开 wraps: its label over two lines, its last value on a third
    assert record.table3["partially_granted"] == {"natural_person": 1, "commercial": 0, "research": 0,
                                                  "social_org": 0, "legal_service": 0, "other": 0, "total": 1}
    assert record.table4["litigation_direct"]["total"] == 3
