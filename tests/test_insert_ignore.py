"""`insert_ignore`: the bulk insert of link (COPY on PostgreSQL, executemany on SQLite)."""
from __future__ import annotations

from datetime import datetime, UTC

from sqlalchemy import select

from harvester.agency.store import _may_conflict, insert_ignore
from harvester.db.models import Agency, Cell, CheckRow, Document, Report, ReportConflict, ReportDocument
from harvester.store import Store


def test_rows_hitting_a_unique_key_in_the_batch_or_already_stored_are_skipped(store: Store) -> None:
    with store.session() as s, s.begin():
        insert_ignore(s, Agency, [dict(name="甲局", normalized_name="甲局", identity_key="k:甲"),
                                  dict(name="乙局", normalized_name="乙局", identity_key="k:乙")])
        ids = dict(s.execute(select(Agency.identity_key, Agency.id)).all())
        insert_ignore(s, Report, [dict(agency_id=ids["k:甲"], year=2022)])
        insert_ignore(s, Report, [dict(agency_id=ids["k:甲"], year=2022), dict(agency_id=ids["k:甲"], year=2023),
                                  dict(agency_id=ids["k:乙"], year=2023), dict(agency_id=ids["k:甲"], year=2023)])
    with store.session() as s:
        got = s.execute(select(Report.agency_id, Report.year).order_by(Report.id)).all()
    assert got == [(ids["k:甲"], 2022), (ids["k:甲"], 2023), (ids["k:乙"], 2023)]


def test_values_come_back_as_given_tabs_newlines_backslashes_nulls_booleans_and_json(store: Store) -> None:
    odd = "第\t一\n行\\N 〇\r\\t"
    now = datetime.now(UTC)
    with store.session() as s, s.begin():
        insert_ignore(s, Document, [dict(url="http://a.gov.cn/1", fetched_at=now, title=odd)])
        doc = s.scalar(select(Document.id))
        insert_ignore(s, CheckRow, [dict(scope="report", document_id=doc, report_id=None, agency_id=None,
                                         rule="r", where=odd, expected=None, found="\\N", ok=False),
                                    dict(scope="document", document_id=doc, report_id=None, agency_id=None,
                                         rule="r", where="", expected="1", found="1", ok=True)])
        insert_ignore(s, Cell, [dict(document_id=doc, table="table3", row_key="a", column_key="b", value=1.5,
                                     value_text="1.5", raw_text=odd, semantic="number", bbox=[1.0, 2, 3, 4.5])])
    with store.session() as s:
        checks = s.execute(select(CheckRow.where, CheckRow.expected, CheckRow.found, CheckRow.ok)
                           .order_by(CheckRow.id)).all()
        cell = s.execute(select(Cell.value, Cell.raw_text, Cell.bbox)).one()
        title = s.scalar(select(Document.title))
    assert checks == [(odd, None, "\\N", False), ("", "1", "1", True)]
    assert tuple(cell) == (1.5, odd, [1.0, 2, 3, 4.5]) and title == odd


def test_only_tables_with_a_unique_key_the_rows_can_hit_take_the_conflict_path() -> None:
    table = CheckRow.__table__
    assert not _may_conflict(table, ["scope", "report_id", "rule"])  # checks: generated id only
    assert not _may_conflict(ReportConflict.__table__, ["report_id", "document_id"])
    assert _may_conflict(table, ["id", "rule"])  # a given primary key can
    assert _may_conflict(Report.__table__, ["agency_id", "year"])  # UNIQUE (agency_id, year)
    assert _may_conflict(ReportDocument.__table__, ["document_id", "report_id"])  # primary key given
