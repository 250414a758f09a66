"""DOCX: the real blank template, derived filled templates, merged cells, nested tables, text boxes."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from harvester.extract import extract
from harvester.extract.docx import parse_docx

FIX = Path(__file__).parent / "fixtures"
GOLDENS = Path(__file__).parent / "goldens"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx(body_xml: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body_xml}</w:body></w:document>')
    return buf.getvalue()


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def _tc(text: str, extra: str = "") -> str:
    return f"<w:tc><w:tcPr>{extra}</w:tcPr>{_p(text)}</w:tc>"


def test_real_blank_template_reads_as_2021_with_every_cell_blank():
    record = extract((FIX / "corpus" / "template_2021_blank.docx").read_bytes())
    assert record.error is None and record.template == "2021"
    cells = [v for t in (record.table2, record.table3, record.table4) for row in t.values() for v in row.values()]
    assert len(cells) == 200 and set(cells) == {0}
    assert len(record.blank_cells) == 200


def test_filled_template_docx_gives_the_seed_numbers():
    golden = json.loads((GOLDENS / "seed_000.json").read_text(encoding="utf-8"))
    record = extract((FIX / "derived" / "seed000_template.docx").read_bytes())
    assert (record.agency, record.year) == ("临淄区人民政府办公室", 2023)
    assert record.table3 == golden["table3"] and record.table4 == golden["table4"]
    # the one documented difference: the DOCX fills the row the seed prints with two values
    assert record.table2["normative_docs"] == {"issued": 0, "repealed": 0, "in_force": 16}
    assert "table2.normative_docs.repealed" in record.blank_cells


def test_vertical_merge_continuation_cells_are_dropped_not_repeated():
    body = ("<w:tbl><w:tr>" + _tc("（三）不予公开", '<w:vMerge w:val="restart"/>') + _tc("1.属于国家秘密") + _tc("4")
            + "</w:tr><w:tr>" + _tc("", "<w:vMerge/>") + _tc("2.其他法律行政法规禁止公开") + _tc("5") + "</w:tr></w:tbl>")
    rows = [[c.text for c in row] for row in parse_docx(_docx(body)).rows]
    assert rows == [["（三）不予公开", "1.属于国家秘密", "4"], ["2.其他法律行政法规禁止公开", "5"]]


def test_nested_layout_table_yields_the_inner_rows():
    inner = "<w:tbl><w:tr>" + _tc("规章") + _tc("1") + "</w:tr></w:tbl>"
    body = f"<w:tbl><w:tr><w:tc>{inner}<w:p/></w:tc></w:tr></w:tbl>"
    assert [[c.text for c in row] for row in parse_docx(_docx(body)).rows] == [["规章", "1"]]


def test_table_inside_a_text_box_is_read_where_the_box_is_anchored():
    table = "<w:tbl><w:tr>" + _tc("行政许可") + _tc("7") + "</w:tr></w:tbl>"
    body = _p("前文") + f"<w:p><w:r><w:pict><w:txbxContent>{table}</w:txbxContent></w:pict></w:r></w:p>" + _p("后文")
    rows = [[c.text for c in row] for row in parse_docx(_docx(body)).rows]
    assert rows == [["前文"], ["行政许可", "7"], ["后文"]]


def test_zip_that_is_not_a_docx_and_truncated_docx_give_clear_errors():
    good = (FIX / "derived" / "seed004_template.docx").read_bytes()
    truncated = extract(good[: len(good) // 2], source="half.docx")
    assert truncated.error is not None and truncated.table3 is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<not-xml")
    broken = extract(buf.getvalue(), source="broken.docx")
    assert broken.error.kind == "corrupt"


def test_docx_zip_bomb_is_refused_before_decompression():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<" + b"a" * (20 * 1024 * 1024) + b">")
    record = extract(buf.getvalue(), source="bomb.docx")
    assert record.error.kind == "too_large" and "zip bomb" in record.error.message
