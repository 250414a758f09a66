"""Administrative level from the agency name; the extraction settings' validation."""
from __future__ import annotations

import pytest

from harvester.errors import ConfigError
from harvester.extract.level import agency_level
from harvester.extract.settings import ExtractSettings


@pytest.mark.parametrize("name,level", [
    ("临淄区人民政府办公室", "county"), ("临汾市尧都区人民政府办公室", "county"),
    ("聊城市人民政府办公室", "city"), ("上海市人民政府办公厅", "province"),
    ("上海市科学技术委员会", "province"), ("沭阳县人民政府", "county"),
    ("山东省生态环境厅", "province"), ("国家统计局", "national"),
    ("凤凰街道办事处", "township"), ("浦东新区人民政府", "county"),
    ("延边朝鲜族自治州人民政府", "city"),
    ("临淄区市场监督管理局", "county"),  # 市场 is not a city
    ("工业和信息化局", None),  # the name shows no level: None, not a guess
])
def test_level_is_the_innermost_division_the_name_shows(name: str, level: str | None):
    assert agency_level(name) == level


@pytest.mark.parametrize("kwargs,message", [
    ({"ocr_dpi": 10}, "ExtractSettings.ocr_dpi must be between 50 and 600, got 10"),
    ({"ocr_min_confidence": 1.5}, "ExtractSettings.ocr_min_confidence must be between 0 and 1, got 1.5"),
    ({"max_bytes": 0}, "ExtractSettings.max_bytes must be > 0, got 0"),
    ({"ocr_max_pages": "3"}, "ExtractSettings.ocr_max_pages must be a number, got '3'"),
])
def test_settings_reject_bad_values_naming_the_field_and_value(kwargs: dict, message: str):
    with pytest.raises(ConfigError) as err:
        ExtractSettings(**kwargs)
    assert str(err.value) == message
