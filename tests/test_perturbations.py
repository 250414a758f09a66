"""The golden set under realistic damage (harvester/extract/perturb.py): every golden's source file,
mutated the way publishing chains damage reports (alone and combined, seeded), written back out as
a real text dump / page / glued text / PDF text layer and extracted. Nothing may be wrong; every
null sits on a row a failed check names. bench/robustness.py prints the recovered share."""
from __future__ import annotations

import json
import random
import tomllib
from pathlib import Path

import pytest

from harvester.extract import _front_end, _sniff, extract, perturb
from harvester.extract.golden import expected, score, sources, unexplained_nulls

HERE = Path(__file__).parent
MANIFEST = tomllib.loads((HERE / "goldens" / "manifest.toml").read_text(encoding="utf-8"))["file"]
SOURCES = sources(MANIFEST)
_ROWS: dict[str, list[list[str]]] = {}


def _rows(path: str) -> list[list[str]]:
    if path not in _ROWS:
        data = (HERE / "fixtures" / path).read_bytes()
        _ROWS[path] = perturb.rows_of(_front_end(_sniff.sniff(data, path))(data))
    return _ROWS[path]


CASES = [(s, seed, golden) for s in perturb.BASELINES + perturb.SCENARIOS for seed in s.seeds for golden in SOURCES]


def test_every_golden_has_a_source_to_mutate():
    assert set(SOURCES) == {e["golden"] for e in MANIFEST}


@pytest.mark.parametrize("scenario,seed,golden", CASES, ids=[f"{s.name}-{seed}-{g}" for s, seed, g in CASES])
def test_mutated_golden_has_no_wrong_cell_and_every_null_explained(scenario, seed, golden):
    path = SOURCES[golden]
    mutated = perturb.apply(_rows(path), scenario, seed, salt=path)
    record = extract(mutated.render(), f"{path}#{scenario.name}")
    assert record.error is None, record.error
    want = expected(json.loads((HERE / "goldens" / f"{golden}.json").read_text(encoding="utf-8")), mutated.override)
    s = score(record.to_json(), want)
    assert s.wrong == []
    assert unexplained_nulls(record, want, s) == []
    if scenario.fmt in ("tsv", "html") and not scenario.name.startswith("all"):
        assert s.null == []  # cell separators intact and rows in order: every cell is recovered


def test_mutations_are_deterministic_and_really_change_the_file():
    rows = _rows(SOURCES["corpus_004_shuyang"])  # has numbers over 1,000 and a fee amount
    for scenario in (s for s in perturb.SCENARIOS if s.steps):
        a = perturb.apply(rows, scenario, 1, salt="x").render()
        assert a == perturb.apply(rows, scenario, 1, salt="x").render()
        assert a != perturb.apply(rows, perturb.Scenario("identity", scenario.fmt, ()), 1).render(), scenario.name


def test_label_typo_drops_or_swaps_characters_inside_the_label_only():
    rng = random.Random(3)
    for label in ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "1．属于国家秘密", "本年新收政府信息公开申请数量"):
        typo = perturb._typo(label, rng)
        assert typo != label and abs(len(typo) - len(label)) <= 2
        assert typo[:2] == label[:2] or label[0] not in "（1"  # numbering kept


def test_glued_fee_amount_keeps_its_decimals():
    """Regression (glued text truncated 行政事业性收费 3817.254 to 381: its decimal point was read as the
    next row's numbering)."""
    text = ("某某区人民政府办公室\n2023年政府信息公开工作年度报告\n"
            "第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章000行政规范性文件016\n"
            "第二十条第（八）项信息内容本年收费金额（单位：万元）行政事业性收费3817.254三、收到和处理政府信息公开申请情况\n")
    record = extract(text.encode())
    assert record.table2["fees"] == {"amount_10k_yuan": 3817.254}


def test_glued_procurement_amount_keeps_its_unit_and_stays_null_when_items_are_glued_to_it():
    # "政府集中采购475.3万元" reads 4 | 75.3万元, 47 | 5.3万元 or _ | 475.3万元: never the truncated 475
    text = ("某某区人民政府办公室\n2019年政府信息公开工作年度报告\n"
            "第二十条第（一）项信息内容本年新制作数量本年新公开数量对外公开总数量规章000规范性文件000\n"
            "第二十条第（九）项信息内容采购项目数量采购总金额政府集中采购475.3万元三、收到和处理\n")
    record = extract(text.encode())
    assert record.table2["procurement"] == {"items": None, "total_amount": None}
    assert any(c.where == "procurement" and not c.ok for c in record.checks)


def test_an_override_of_a_table_the_golden_lacks_is_refused_by_name():
    golden = {"table2": None, "table3": {"granted": {"total": 1}}, "table4": None}
    with pytest.raises(ValueError, match="table2.fees"):
        expected(golden, {"table2.fees": {"amount_10k_yuan": 1.5}})
    assert expected(golden, {"table3.granted": {"total": 2}})["table3"] == {"granted": {"total": 2}}
