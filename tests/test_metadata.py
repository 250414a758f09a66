"""Title, agency, reporting year and publication date, read from the document itself."""
from __future__ import annotations

from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract.metadata import read_metadata

FIX = Path(__file__).parent / "fixtures"


def test_pdf_title_wrapped_over_two_lines_with_spaces_around_the_year_is_joined():
    record = extract((FIX / "derived" / "seed000_template.pdf").read_bytes())
    assert record.title == "临淄区人民政府办公室2023年政府信息公开工作年度报告"
    assert (record.agency, record.year) == ("临淄区人民政府办公室", 2023)


def test_sentence_quoting_the_template_notice_is_not_taken_for_the_title():
    text = ("一、总体情况\n本报告按照《国务院办公厅政府信息与政务公开办公室关于印发<中华人民共\n"
            "和国政府信息公开工作年度报告格式>的通知》(国办公开办函〔2021〕30\n")
    assert read_metadata(text).title is None


@pytest.mark.parametrize("text,agency,year", [
    ("临淄区人民政府办公室\n2023年政府信息公开工作年度报告\n", "临淄区人民政府办公室", 2023),
    ("2024 年上海市科委政府信息公开工作\n年度报告\n", "上海市科委", 2024),
    ("# 沐阳县人民政府 2025 年 政府信息公开工作年度报告\n", "沐阳县人民政府", 2025),
    ("烟台市莱山区人民政府办公室2023年度政府信息公开工作年度报告\n", "烟台市莱山区人民政府办公室", 2023),
])
def test_agency_and_reporting_year_come_from_the_title(text: str, agency: str, year: int):
    meta = read_metadata(text)
    assert (meta.agency, meta.year) == (agency, year)


def test_year_falls_back_to_the_statistics_period_when_the_title_has_none():
    meta = read_metadata("某某局政府信息公开工作年度报告\n本年度报告中所列数据的统计期限自2022年1月1日起至12月31日止。")
    assert meta.year == 2022


def test_publication_date_printed_under_the_title_in_parentheses():
    meta = read_metadata("沐阳县人民政府 2025 年 政府信息公开工作年度报告\n沐阳县人民政府\n(2026年1月23日)\n")
    assert meta.publication_date == "2026-01-23" and meta.year == 2025


def test_title_without_agency_takes_the_agency_signing_the_report():
    text = "2023年政府信息公开工作年度报告\n一、总体情况\n……\n六、其他需要报告的事项\n无。\n临汾市尧都区人民政府办公室\n2024年1月22日\n"
    meta = read_metadata(text)
    assert (meta.agency, meta.year) == ("临汾市尧都区人民政府办公室", 2023)
