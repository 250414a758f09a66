"""Agency identity (harvester.agency): printed names + portal context → a stable key."""
from __future__ import annotations

import pytest

from harvester.agency import resolve
from harvester.agency.divisions import divisions


@pytest.mark.parametrize("printed", ["临淄区人民政府办公室", "淄博市临淄区人民政府办公室", "山东省淄博市临淄区人民政府办公室",
                                     "临淄区政府办公室", " 临淄区 人民政府\u3000办公室\n"])
def test_name_variants_of_one_agency_resolve_to_one_key(printed):
    ident = resolve(printed)
    assert (ident.key, ident.division_code, ident.level) == ("370305:人民政府办公室", "370305", "county")


def test_government_office_printed_without_its_place_on_its_portal_is_the_same_office():
    for printed in ("区政府办公室", "区人民政府办公室", "人民政府办公室"):
        assert resolve(printed, "370305").key == "370305:人民政府办公室"
    assert resolve("市场监督管理局", "370305").key == "370305:市场监督管理局"  # 市场 is not 市 + 政府


def test_a_department_printed_without_its_place_takes_the_portals_division():
    assert resolve("工业和信息化局", "370305").key == resolve("临淄区工业和信息化局").key == "370305:工业和信息化局"
    assert resolve("工业和信息化局").key == "name:工业和信息化局"  # no portal, no place: filed by name


@pytest.mark.parametrize("bare, places", [("朝阳区人民政府", {"110105": "北京市朝阳区", "220104": "吉林省长春市朝阳区"}),
                                          ("西湖区人民政府", {"330106": "浙江省杭州市西湖区", "360103": "江西省南昌市西湖区"}),
                                          ("普陀区人民政府", {"310107": "上海市普陀区", "330903": "浙江省舟山市普陀区"})])
def test_bare_ambiguous_name_is_ambiguous_without_context_and_told_apart_with_it(bare, places):
    ident = resolve(bare)
    assert ident.ambiguous and ident.division_code is None and ident.key == f"name:{bare}"
    assert {c: divisions().describe(c) for c in ident.candidates} == places
    keys = {resolve(bare, code).key for code in places}
    assert keys == {f"{code}:人民政府" for code in places}


def test_full_printed_name_tells_same_short_names_apart_without_context():
    assert resolve("北京市朝阳区人民政府").division_code == "110105"
    assert resolve("长春市朝阳区人民政府").division_code == "220104"
    assert resolve("吉林省长春市朝阳区人民政府办公室").key == "220104:人民政府办公室"


def test_city_portal_context_picks_the_district_inside_it():
    assert resolve("朝阳区人民政府办公室", "220100").division_code == "220104"
    assert resolve("朝阳区人民政府办公室", None, "长春市人民政府").division_code == "220104"  # registry agency only


def test_a_portal_of_another_place_does_not_override_an_explicit_printed_name():
    assert resolve("北京市朝阳区人民政府", "220104").division_code == "110105"


def test_former_division_names_resolve_to_the_division_that_replaced_them():
    assert resolve("襄樊市人民政府").key == resolve("襄阳市人民政府").key == "420600:人民政府"


def test_township_agency_takes_its_county_code_and_township_level():
    ident = resolve("临淄区凤凰镇人民政府")
    assert (ident.division_code, ident.department, ident.level) == ("370305", "凤凰镇人民政府", "township")


def test_two_departments_of_one_place_are_two_agencies():
    assert resolve("临淄区人民政府办公室").key != resolve("临淄区工业和信息化局").key
    assert resolve("临淄区人民政府").key != resolve("临淄区人民政府办公室").key


def test_division_dataset_is_the_maintained_one_with_codes_levels_and_parents():
    data = divisions()
    assert len(data.by_code) > 3000
    assert [(d.code, d.name, d.level) for d in data.chain("370305")] == [
        ("370000", "山东省", "province"), ("370300", "淄博市", "city"), ("370305", "临淄区", "county")]
    assert [d.code for d in data.chain("110105")] == ["110000", "110105"]  # a municipality's district


def test_division_dataset_is_read_from_jionlps_zip_when_it_was_never_unzipped(tmp_path, monkeypatch):
    """A fresh install of jionlp holds only china_location.zip: jionlp unzips it on its first
    import, which the harvester never does."""
    import shutil

    from harvester.agency import divisions as d

    src = d._data_dir()
    shutil.copy(src / "china_location.zip", tmp_path)
    shutil.copy(src / "china_location_change.txt", tmp_path)
    monkeypatch.setattr(d, "_data_dir", lambda: tmp_path)
    fresh = d.divisions.__wrapped__()
    assert fresh.full_name("370305") == "淄博市临淄区"
    assert not (tmp_path / "china_location.txt").exists()
