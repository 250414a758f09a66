"""Agency identity and series checks on saved portals crawled through the real stack.

bjchy-zfxxgknb (北京市朝阳区, 110105) and cccy-ndbg (长春市朝阳区, 220104) each publish a report printed
as "朝阳区人民政府办公室" for 2023; tjhp-series (天津市和平区, 120101 — 和平区 is also a district of
沈阳) publishes 2021, 2022, 2023 and 2025 with 2022's carried_forward ≠ 2023's carried_over.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.db.models import Agency, AgencyAmbiguity, CheckRow, Portal, Report
from harvester.link import iter_merged_cells
from harvester.store import Store
from portal_server import PORTALS, REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")
SAME_NAME = ("bjchy-zfxxgknb", "cccy-ndbg")
SERIES = "tjhp-series"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("identity")
    db = f"sqlite:///{tmp / 'x.sqlite'}"
    with serve() as srv:
        cmd = [str(HARVESTER), "crawl", *SAME_NAME, SERIES, "--registry", str(REGISTRY),
               "--data-dir", str(tmp / "data"), "--db", db]
        for host_map in srv.host_map():
            cmd += ["--host-map", host_map]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    engine = create_engine(db)
    yield engine
    engine.dispose()


def _totals(s: Session, report_id: int) -> dict[str, str | None]:
    return {c.row_key: c.value_text for c in iter_merged_cells(s, [report_id])
            if c.table == "table3" and c.column_key == "total" and c.row_key in ("new_received", "carried_over")}


def test_same_short_name_on_two_district_portals_is_two_agencies_and_two_reports(crawled):
    with Session(crawled) as s:
        rows = s.execute(select(Agency.id, Agency.name, Agency.division_code, Agency.level, Report.id, Report.year)
                         .join(Report, Report.agency_id == Agency.id)
                         .where(Agency.name == "朝阳区人民政府办公室").order_by(Agency.division_code)).all()
        assert [(r.division_code, r.level, r.year) for r in rows] == [("110105", "county", 2023),
                                                                       ("220104", "county", 2023)]
        assert len({r.id for r in rows}) == 2 and len({r[4] for r in rows}) == 2
        # both districts' numbers: 北京 from seed000 (27 new, 6 carried over), 长春 from seed003 (19, 1)
        assert [_totals(s, r[4]) for r in rows] == [{"new_received": "27", "carried_over": "6"},
                                                    {"new_received": "19", "carried_over": "1"}]
        assert s.scalars(select(AgencyAmbiguity)).all() == []


def test_each_agency_hangs_under_its_own_district_government(crawled):
    with Session(crawled) as s:
        chains = []
        for office in s.scalars(select(Agency).where(Agency.name == "朝阳区人民政府办公室")
                                .order_by(Agency.division_code)):
            chain, cur = [], office
            while cur.parent_id is not None:
                cur = s.get(Agency, cur.parent_id)
                chain.append((cur.name, cur.division_code))
            chains.append(chain)
    assert chains == [[("北京市朝阳区人民政府", "110105"), ("北京市人民政府", "110000")],
                      [("长春市朝阳区人民政府", "220104"), ("长春市人民政府", "220100"),
                       ("吉林省人民政府", "220000")]]


def test_registry_division_code_is_persisted_on_the_portal(crawled):
    with Session(crawled) as s:
        got = dict(s.execute(select(Portal.id, Portal.division_code)).all())
    assert got == {"bjchy-zfxxgknb": "110105", "cccy-ndbg": "220104", "tjhp-series": "120101"}


def test_series_on_a_multi_year_portal_flags_the_carry_over_break_and_the_gap(crawled):
    with Session(crawled) as s:
        [agency] = s.scalars(select(Agency).where(Agency.name == "和平区人民政府办公室")).all()
        assert agency.division_code == "120101"  # 和平区 alone fits 天津 and 沈阳: the portal told
        assert sorted(s.scalars(select(Report.year).where(Report.agency_id == agency.id))) == [2021, 2022, 2023, 2025]
        checks = {(c.rule, c.where): (c.expected, c.found, c.ok) for c in s.scalars(
            select(CheckRow).where(CheckRow.scope == "series", CheckRow.agency_id == agency.id))}
    failed = {k: v for k, v in checks.items() if not v[2]}
    assert failed == {("series.gap", "2024"): ("report", "none", False),
                      ("series.carried_over", "2022→2023 table3 natural_person"): ("4", "5", False),
                      ("series.carried_over", "2022→2023 table3 total"): ("4", "5", False)}
    assert checks[("series.carried_over", "2021→2022 table3 total")] == ("2", "2", True)
    assert checks[("series.in_force", "2022→2023 table2 regulations")] == ("0", "0", True)
    assert not any("2023→2025" in where for _, where in checks)  # only consecutive years are compared


def test_same_pages_ingested_without_portal_context_are_recorded_as_ambiguous(tmp_path):
    pages = sorted(p for pid in SAME_NAME for p in (PORTALS / pid).rglob("t2*.html"))
    with Store(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path / "data") as store:
        for page in pages:
            store.add_document(page.as_uri(), page.read_bytes())
        stats = store.link()
        with store.session() as s:
            ambiguities = s.scalars(select(AgencyAmbiguity).order_by(AgencyAmbiguity.document_id)).all()
            assert [(a.printed_name, a.candidate_codes, a.candidate_names) for a in ambiguities] == [
                ("朝阳区人民政府办公室", "110105;220104", "北京市朝阳区;吉林省长春市朝阳区")] * 2
            codes = set(s.scalars(select(Agency.division_code)))
            agency = s.get(Agency, ambiguities[0].agency_id)
    assert stats.ambiguous == 2
    assert agency.division_code is None and agency.identity_key == "name:朝阳区人民政府办公室"
    assert not codes & {"110105", "220104"}  # never filed under either district by guess
