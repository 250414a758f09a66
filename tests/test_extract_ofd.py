"""OFD (GB/T 33190): text objects and vector ruling lines → the same grid OCR rebuilds; a broken
package is a `corrupt` error, a zip bomb a `too_large` one."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract.ofd import parse_ofd

FIX = Path(__file__).parent / "fixtures" / "derived_ofd" / "seed000_tables.ofd"
GOLDEN = json.loads((Path(__file__).parent / "goldens" / "seed_000.json").read_text(encoding="utf-8"))
# the derived file prints 行政规范性文件 as 0 / blank / 16 (see the fixture's README)
EXPECTED = {**GOLDEN, "table2": {**GOLDEN["table2"], "normative_docs": {"issued": 0, "repealed": 0, "in_force": 16}}}
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


@pytest.fixture(scope="module")
def record():
    return extract(FIX.read_bytes(), source="seed000_tables.ofd")


def _package(members: dict[str, str | bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(FIX) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_ofd_gives_every_number_of_the_seed(record):
    assert record.error is None and record.media_type == "application/ofd"
    for t in ("table2", "table3", "table4"):
        for row, cols in EXPECTED[t].items():
            for col, want in cols.items():
                assert getattr(record, t)[row][col] == want, f"{t}.{row}.{col}"
    assert not [c for c in record.checks if not c.ok]


def test_ofd_gives_title_agency_year_and_page_count(record):
    assert record.title == "临淄区人民政府办公室2023年政府信息公开工作年度报告"
    assert (record.agency, record.year, record.template, record.pages) == ("临淄区人民政府办公室", 2023, "2021", 2)


def test_table_split_across_ofd_pages_keeps_its_rows(record):
    pages = {c.row: c.page for c in record.cells if c.table == "table3" and c.column == "total"}
    assert pages["new_received"] == 1 and pages["carried_forward"] == 2
    assert record.table3["denied.process_info"]["total"] == 0 and record.table3["denied.enforcement_case"]["total"] == 0
    assert pages["denied.process_info"] == 1 and pages["denied.enforcement_case"] == 2


def test_ofd_cells_carry_page_and_bbox_in_points(record):
    cell = next(c for c in record.cells if (c.table, c.row, c.column) == ("table3", "new_received", "total"))
    assert cell.value == 27 and cell.page == 1
    x0, top, x1, bottom = cell.bbox
    # the last of seven 12 mm value columns ends at the right margin, 190 mm = 538.6 pt
    assert abs(x1 - 190 * 72 / 25.4) < 1 and abs((x1 - x0) - 12 * 72 / 25.4) < 1 and top < bottom
    assert cell.confidence is None  # vector text, not OCR


def test_ofd_layout_reads_text_runs_with_ctm_and_delta_x():
    layout = parse_ofd(FIX.read_bytes())
    texts = [[c.text for c in row] for row in layout.rows]
    # table 4: values written with a CTM scaling object space by 0.5
    assert ["0", "0", "0", "2", "2", "2", "0", "1", "0", "3", "0", "0", "0", "0", "0"] in texts
    # table 2: frames drawn with a CTM scaling by 2; the blank cell stays an empty cell
    assert ["行政规范性文件", "0", "", "16"] in texts
    # a label wrapped over several TextCodes in a merged cell is one cell, in the row it starts
    assert any(row[:2] == ["三、本年度办理结果", "（一）予以公开"] for row in texts)
    assert layout.pages == 2 and "临淄区人民政府办公室2023年" in layout.text


def test_ofd_page_without_ruling_lines_is_read_as_a_stream_of_label_and_value_cells():
    page = (f'<ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">'
            '<ofd:TextObject ID="3" Boundary="20 20 170 10" Size="4"><ofd:TextCode X="0" Y="4">'
            '某某县人民政府2022年政府信息公开工作年度报告</ofd:TextCode></ofd:TextObject>'
            '<ofd:TextObject ID="4" Boundary="20 40 170 10" Size="4">'
            '<ofd:TextCode X="0" Y="4" DeltaX="g 1 4">规章</ofd:TextCode>'
            '<ofd:TextCode X="60" Y="4">0</ofd:TextCode><ofd:TextCode X="90" Y="4">1</ofd:TextCode>'
            '<ofd:TextCode X="120" Y="4">2</ofd:TextCode></ofd:TextObject>'
            '</ofd:Layer></ofd:Content></ofd:Page>')
    data = _package({
        "OFD.xml": f"<ofd:OFD {NS}><ofd:DocBody><ofd:DocRoot>/Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<ofd:Document {NS}><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                              "</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": page,
    })
    layout = parse_ofd(data)
    assert [[c.text for c in row] for row in layout.rows] == [
        ["某某县人民政府2022年政府信息公开工作年度报告", "规章", "0", "1", "2"]]
    assert all(c.page == 1 for c in layout.rows[0])


def test_ofd_with_a_missing_content_xml_gives_corrupt():
    members = _members()
    del members["Doc_0/Pages/Page_1/Content.xml"]
    record = extract(_package(members), source="broken.ofd")
    assert record.media_type == "application/ofd"
    assert record.error.kind == "corrupt" and "Page_1/Content.xml" in record.error.message
    assert record.table3 is None


def test_ofd_with_bad_xml_gives_corrupt():
    members = _members()
    members["Doc_0/Pages/Page_0/Content.xml"] = members["Doc_0/Pages/Page_0/Content.xml"][:500]
    record = extract(_package(members), source="broken.ofd")
    assert record.error.kind == "corrupt" and "not well-formed" in record.error.message


def test_ofd_with_pages_but_no_text_gives_empty():
    data = _package({
        "OFD.xml": f"<ofd:OFD {NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<ofd:Document {NS}><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                              "</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": f"<ofd:Page {NS}><ofd:Content/></ofd:Page>",
    })
    record = extract(data, source="blank.ofd")
    assert record.error.kind == "empty"


def test_ofd_zip_bomb_gives_too_large():
    members = _members()
    members["Doc_0/Res/filler.bin"] = b"\0" * (8 * 1024 * 1024)  # compresses ~1000:1
    record = extract(_package(members), source="bomb.ofd")
    assert record.media_type == "application/ofd"
    assert record.error.kind == "too_large" and "zip bomb" in record.error.message
