"""Upgrading a database that already holds data keeps every row and id (SQLite rebuilds tables
in batch migrations: the rebuild must not delete or cascade through referencing rows)."""
from __future__ import annotations

from sqlalchemy import text

from harvester.db import session as db_session
from harvester.db.session import make_engine, upgrade


def test_upgrade_from_0002_with_reports_keeps_agencies_reports_and_checks(db_url: str) -> None:
    upgrade(db_url, "0002")
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO agencies (id, name, normalized_name) VALUES (7, '临淄区人民政府办公室', 'x7')"))
        c.execute(text("INSERT INTO documents (id, url, fetched_at) VALUES (3, 'file:///a.txt', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO reports (id, agency_id, year, canonical_document_id) VALUES (5, 7, 2023, 3)"))
        c.execute(text("INSERT INTO report_documents (document_id, report_id) VALUES (3, 5)"))
        c.execute(text("INSERT INTO checks (document_id, rule, ok) VALUES (3, 'table3.row_sum', true)"))
    engine.dispose()
    db_session._upgraded.clear()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT id, name FROM agencies")).all() == [(7, "临淄区人民政府办公室")]
        assert c.execute(text("SELECT id, agency_id, year FROM reports")).all() == [(5, 7, 2023)]
        assert c.execute(text("SELECT document_id, report_id FROM report_documents")).all() == [(3, 5)]
        assert c.execute(text("SELECT document_id, rule, scope FROM checks")).all() == [(3, "table3.row_sum", "document")]
    engine.dispose()
