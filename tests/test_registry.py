"""The portal registry: TOML entries -> validated frozen `Portal`s, precise errors."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from harvester import registry
from harvester.errors import ConfigError
from harvester.registry import Portal, parse_toml

REPO = Path(__file__).resolve().parents[1]
GOOD = '''
[[portal]]
id = "linzi-zfxxgknb"
name = "淄博市临淄区人民政府 政府信息公开年报"
agency = "淄博市临淄区人民政府"
level = "district"
cms = "trs"
start_urls = ["http://www.linzi.gov.cn/zwgk/zfxxgknb/index.html"]
years = [2022, 2023]
allowed_hosts = ["file.linzi.gov.cn"]
division_code = "370305"

[portal.selectors]
list_item = "div.list li a"
next_page = "a.next"
content = "div.TRS_Editor"
attachment = "/uploadfiles/.+"
'''


def entry(**changes) -> str:
    base = {"id": '"p1"', "name": '"某区 年报"', "agency": '"某区人民政府"', "level": '"district"',
            "cms": '"trs"', "start_urls": '["http://www.example.gov.cn/nb/index.html"]'}
    base.update(changes)
    return "[[portal]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items() if v is not None)


def test_complete_entry_becomes_a_frozen_portal_with_every_field():
    (p,) = parse_toml(GOOD, "x.toml")
    assert p.id == "linzi-zfxxgknb" and p.cms == "trs" and p.level == "district"
    assert p.start_urls == ("http://www.linzi.gov.cn/zwgk/zfxxgknb/index.html",)
    assert p.years == (2022, 2023) and p.division_code == "370305"
    assert p.selectors.list_item == "div.list li a" and p.selectors.attachment == "/uploadfiles/.+"
    assert p.hosts == {"www.linzi.gov.cn", "file.linzi.gov.cn"}
    assert p.allows_year(2023) and not p.allows_year(2019) and p.allows_year(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.cms = "hanweb"  # type: ignore[misc]


@pytest.mark.parametrize("changes, expected", [
    ({"cms": '"wordpress"'}, "field 'cms' = 'wordpress': unknown CMS family"),
    ({"start_urls": '["ftp://www.example.gov.cn/nb/"]'}, "field 'start_urls' value 'ftp://www.example.gov.cn/nb/'"),
    ({"start_urls": '["www.example.gov.cn/nb/"]'}, "must be an absolute http(s) URL"),
    ({"start_urls": "[]"}, "field 'start_urls' = (): must be a non-empty list"),
    ({"level": '"village"'}, "field 'level' = 'village'"),
    ({"id": '"Bad Id"'}, "field 'id' = 'Bad Id'"),
    ({"agency": '""'}, "field 'agency' = ''"),
    ({"years": "[1999]"}, "field 'years' = [1999]"),
    ({"division_code": '"37030"'}, "field 'division_code' = '37030'"),
    ({"cms": None}, "portal 'p1': missing field 'cms'"),
    ({"colour": '"red"'}, "unknown field 'colour' = 'red'"),
])
def test_bad_entry_is_rejected_naming_the_field_and_value(changes, expected):
    with pytest.raises(ConfigError) as err:
        parse_toml(entry(**changes), "bad.toml")
    assert expected in str(err.value)
    assert str(err.value).startswith("bad.toml")


def test_bad_selector_regex_and_unknown_selector_are_rejected():
    with pytest.raises(ConfigError, match=r"field 'selectors.attachment' = '\(': bad regular expression"):
        parse_toml(entry() + "[portal.selectors]\nattachment = \"(\"\n", "s.toml")
    with pytest.raises(ConfigError, match=r"unknown field 'selectors.links'"):
        parse_toml(entry() + "[portal.selectors]\nlinks = \"a\"\n", "s.toml")


def test_duplicate_id_across_files_is_an_error_naming_both_files(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(entry(), encoding="utf-8")
    b.write_text(entry(name='"另一个"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        registry.load([a, b], include_default=False, use_env=False)
    assert "field 'id' = 'p1': duplicate id" in str(err.value)
    assert str(a) in str(err.value) and str(b) in str(err.value)


def test_not_toml_and_missing_file_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_toml("[[portal]\nid=", "broken.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        registry.load([tmp_path / "nope.toml"], include_default=False, use_env=False)


def test_extra_files_from_option_and_environment_add_to_the_bundled_registry(tmp_path, monkeypatch):
    extra = tmp_path / "extra.toml"
    extra.write_text(entry(id='"from-option"'), encoding="utf-8")
    env = tmp_path / "env.toml"
    env.write_text(entry(id='"from-env"'), encoding="utf-8")
    monkeypatch.setenv("HARVESTER_REGISTRY", str(env))
    reg = registry.load([extra])
    assert {"from-option", "from-env"} <= set(reg)
    assert set(registry.load(use_env=False, include_default=True)) >= {"hanyang-zfxxgkndbg"}
    with pytest.raises(ConfigError, match="unknown portal id 'nope'"):
        reg.select(["nope"])


def test_bundled_and_test_registries_load():
    assert all(isinstance(p, Portal) for p in registry.load(use_env=False).values())
    test_reg = registry.load([REPO / "harvester/demo/portals/registry.toml"], include_default=False, use_env=False)
    assert {p.cms for p in test_reg.values()} == {"trs", "hanweb", "generic"}
    families = registry.load([REPO / "harvester/demo/portals/families.toml"], include_default=False, use_env=False)
    assert {p.cms for p in families.values()} | {"generic"} == set(registry.CMS_FAMILIES)


@pytest.mark.slow
def test_crawl_command_reports_a_bad_registry_entry_and_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(entry(cms='"drupal"'), encoding="utf-8")
    harvester = Path(sys.executable).with_name("harvester")
    proc = subprocess.run([str(harvester), "crawl", "p1", "--registry", str(bad), "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "field 'cms' = 'drupal': unknown CMS family" in proc.stderr
