"""HTML front-end: Layout shape on derived portal pages and small inline pages, then end-to-end
against the goldens of the seeds the pages were derived from (tests/fixtures/derived/MANIFEST.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract.html import parse_html

DERIVED = Path(__file__).parent / "fixtures" / "derived"
GOLDENS = Path(__file__).parent / "goldens"


def _layout(name: str):
    return parse_html((DERIVED / name).read_bytes())


def _texts(layout) -> list[list[str]]:
    return [[c.text for c in row] for row in layout.rows]


def _row(layout, first: str) -> list[str]:
    """The first row whose first cell starts with `first`."""
    for row in _texts(layout):
        if row and row[0].startswith(first):
            return row
    raise AssertionError(f"no row starting with {first!r}")


def _golden(seed: str) -> dict:
    return json.loads((GOLDENS / f"seed_{seed}.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ decoding
def test_gbk_page_without_charset_decodes():
    data = (DERIVED / "seed000_trs_gbk.html").read_bytes()
    assert b"charset" not in data.lower()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    layout = parse_html(data)
    assert "临淄区人民政府办公室" in layout.text
    assert "2023年政府信息公开工作年度报告" in layout.text
    assert "\ufffd" not in layout.text


def test_gb2312_declared_gbk_page_decodes():
    data = (DERIVED / "seed003_gb2312.html").read_bytes()
    assert b"charset=gb2312" in data
    layout = parse_html(data)
    assert "烟台市莱山区人民政府办公室" in layout.text
    assert "危及“三安全一稳定”" in layout.text


def test_utf8_meta_page_decodes():
    layout = _layout("seed001_hanweb_utf8.html")
    assert "临汾市尧都区人民政府办公室" in layout.text


def test_unlabelled_gbk_bytes_and_utf8_bytes_give_same_rows():
    page = "<html><body><p>二、主动公开政府信息情况</p><table><tr><td>规章</td><td>0</td></tr></table></body></html>"
    assert _texts(parse_html(page.encode("gbk"))) == _texts(parse_html(page.encode("utf-8")))


# ------------------------------------------------------------------ page structure
def test_page_title_is_first_row_and_first_line():
    layout = _layout("seed000_trs_gbk.html")
    assert _texts(layout)[0] == ["临淄区人民政府办公室2023年政府信息公开工作年度报告_政府信息公开年报_淄博市临淄区人民政府"]
    assert layout.text.splitlines()[0].startswith("临淄区人民政府办公室2023年")


def test_content_container_drops_portal_chrome_and_scripts():
    layout = _layout("seed000_trs_gbk.html")
    assert "首页" not in layout.text          # breadcrumb outside div.TRS_Editor
    assert "网站标识码" not in layout.text     # footer
    assert "统计代码" not in layout.text and "currentChannel" not in layout.text  # <script>
    assert "margin-top" not in layout.text    # <style>


def test_hanweb_zoom_container_is_used():
    layout = _layout("seed001_hanweb_utf8.html")
    assert "分享到" not in layout.text
    assert "政府信息公开年报" not in layout.text  # the nav list outside div#zoom
    assert _texts(layout)[1] == ["临汾市尧都区人民政府办公室"]


def test_page_without_container_falls_back_to_body():
    page = "<html><head><title>某局2022年政府信息公开工作年度报告</title></head><body><p>一、总体情况</p></body></html>"
    assert _texts(parse_html(page.encode("utf-8"))) == [["某局2022年政府信息公开工作年度报告"], ["一、总体情况"]]


def test_paragraphs_are_one_cell_rows_in_order():
    rows = _texts(_layout("seed000_trs_gbk.html"))
    heads = [r[0] for r in rows if len(r) == 1 and r[0][:2] in ("一、", "二、", "三、", "四、", "五、", "六、")]
    assert heads == ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                     "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]


def test_br_between_paragraph_lines_splits_rows():
    page = "<body><div id='zoom'><p>临淄区人民政府办公室<br>2023年政府信息公开工作年度报告 and more text here to be long</p></div></body>"
    assert _texts(parse_html(page.encode()))[:2] == [["临淄区人民政府办公室"], ["2023年政府信息公开工作年度报告 and more text here to be long"]]


# ------------------------------------------------------------------ tables
def test_rowspan_copies_are_dropped_from_rows():
    layout = _layout("seed000_trs_gbk.html")
    assert _row(layout, "三、本年度办理结果") == ["三、本年度办理结果", "（一）予以公开", "7", "0", "0", "0", "0", "0", "7"]
    assert _row(layout, "（三）不予公开") == ["（三）不予公开", "1．属于国家秘密"] + ["0"] * 7
    # rows under a rowspan start with their own label: the covered cells are not repeated
    assert _row(layout, "2．其他法律行政法规禁止公开") == ["2．其他法律行政法规禁止公开"] + ["0"] * 7
    assert _row(layout, "（四）无法提供") == ["（四）无法提供", "1．本机关不掌握相关政府信息", "20", "1", "0", "0", "0", "0", "21"]
    assert _row(layout, "（七）总计") == ["（七）总计", "30", "1", "0", "0", "0", "0", "31"]


def test_colspan_header_cells_appear_once():
    layout = _layout("seed000_trs_gbk.html")
    assert _row(layout, "自然人") == ["自然人", "法人或其他组织", "总计"]
    assert _row(layout, "商业企业") == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert _row(layout, "行政复议") == ["行政复议", "行政诉讼"]
    assert _row(layout, "结果维持") == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "复议后起诉"]
    values = [r for r in _texts(layout) if len(r) == 15]
    assert values == [["0", "0", "0", "2", "2", "2", "0", "1", "0", "3", "0", "0", "0", "0", "0"]]


def test_two_value_row_keeps_its_three_printed_cells():
    layout = _layout("seed000_trs_gbk.html")
    assert _row(layout, "行政规范性文件") == ["行政规范性文件", "0", "16"]
    assert _row(layout, "第二十条") == ["第二十条", "第 （一） 项"]


def test_nested_layout_table_yields_inner_rows():
    page = """<html><body><table class="layout"><tr><td>网站导航</td><td>
      <p>三、收到和处理政府信息公开申请情况</p>
      <table><tr><td><table border=1>
        <tr><td rowspan=2>三、本年度办理结果</td><td>（一）予以公开</td><td>7</td></tr>
        <tr><td>（二）部分公开</td><td>1</td></tr>
      </table></td></tr></table>
      <p>四、政府信息公开行政复议、行政诉讼情况</p></td></tr></table></body></html>"""
    assert _texts(parse_html(page.encode("utf-8"))) == [
        ["网站导航"],
        ["三、收到和处理政府信息公开申请情况"],
        ["三、本年度办理结果", "（一）予以公开", "7"],
        ["（二）部分公开", "1"],
        ["四、政府信息公开行政复议、行政诉讼情况"],
    ]


def test_fixture_table_inside_wrapper_table_is_read_as_data_rows():
    # seed000's table 3 sits inside a one-cell wrapper table inside div.TRS_Editor
    rows = _texts(_layout("seed000_trs_gbk.html"))
    start = rows.index(["一、本年新收政府信息公开申请数量", "26", "1", "0", "0", "0", "0", "27"])
    assert rows[start + 1] == ["二、上年结转政府信息公开申请数量", "6", "0", "0", "0", "0", "0", "6"]
    assert rows[start - 3][0].startswith("（本列数据的勾稽关系为")
    assert rows[start - 3][1] == "申请人情况"


def test_nbsp_and_empty_cells_are_kept_as_empty_cells():
    page = "<table><tr><td>&nbsp;</td><td></td><td>\u3000</td><td>&nbsp;3&nbsp;</td></tr></table>"
    assert _texts(parse_html(page.encode("utf-8"))) == [["", "", "", "3"]]


def test_br_inside_cell_joins_cjk_without_space_and_latin_with_one():
    layout = _layout("seed001_hanweb_utf8.html")
    assert _row(layout, "商业企业") == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert _row(layout, "结果维持")[:4] == ["结果维持", "结果纠正", "其他结果", "尚未审结"]
    page = "<table><tr><td>Total<br>count</td><td>本年<br/>\n  新收</td><td>结果<p>维持</p></td></tr></table>"
    assert _texts(parse_html(page.encode("utf-8"))) == [["Total count", "本年新收", "结果维持"]]


def test_label_variants_are_passed_through_verbatim():
    layout = _layout("seed001_hanweb_utf8.html")
    assert _row(layout, "（三）不予公开")[1] == "1、属于国家秘密"
    assert _row(layout, "(二)部分公开")[0] == "(二)部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert _row(layout, "第二十条") == ["第二十条第（一）项"]


def test_blank_header_cell_stays_a_cell():
    layout = _layout("seed003_gb2312.html")
    assert _row(layout, "结果维持") == ["结果维持", "结果纠正", "其他结果", "尚未审结", "", "未经复议直接起诉", "复议后起诉"]
    assert _row(layout, "5.要求行政机关确认或重新出具已获取信息") == ["5.要求行政机关确认或重新出具已获取信息"] + ["0"] * 7


def test_rowspan_grid_places_cells_after_covered_columns():
    # the second row's first printed cell is "b", not a copy of "A"
    page = "<table><tr><td rowspan=2 colspan=2>A</td><td>1</td></tr><tr><td>b</td></tr><tr><td>x</td><td>y</td><td>z</td></tr></table>"
    assert _texts(parse_html(page.encode("utf-8"))) == [["A", "1"], ["b"], ["x", "y", "z"]]


def test_layout_text_has_table_rows_tab_separated():
    layout = _layout("seed000_trs_gbk.html")
    assert "规章\t0\t0\t0" in layout.text.splitlines()


# ------------------------------------------------------------------ end to end
@pytest.mark.parametrize("name, seed", [
    ("seed000_trs_gbk.html", "000"),
    ("seed001_hanweb_utf8.html", "001"),
    ("seed003_gb2312.html", "003"),
])
def test_derived_html_page_extracts_the_seed_golden_tables(name, seed):
    record = extract((DERIVED / name).read_bytes(), f"derived/{name}")
    golden = _golden(seed)
    assert record.media_type == "text/html"
    assert record.error is None
    assert record.template == golden["template"] == "2021"
    assert record.table2 == golden["table2"]
    assert record.table3 == golden["table3"]
    assert record.table4 == golden["table4"]


@pytest.mark.parametrize("name, seed", [
    ("seed000_trs_gbk.html", "000"),
    ("seed001_hanweb_utf8.html", "001"),
    ("seed003_gb2312.html", "003"),
])
def test_derived_html_page_gets_year_and_agency_of_the_seed(name, seed):
    record = extract((DERIVED / name).read_bytes(), f"derived/{name}")
    golden = _golden(seed)
    assert record.year == golden["year"]
    assert record.agency == golden["agency"]
