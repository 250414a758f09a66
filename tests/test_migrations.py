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


def test_a_start_on_an_up_to_date_sqlite_database_does_not_check_every_foreign_key(tmp_path) -> None:
    """`PRAGMA foreign_key_check` reads every row of every table with a foreign key: 55 s of
    every command's start on a 1M-report database (the night's `link` took 58 s for 6 s of
    work). It runs after a migration, not on a start that migrates nothing."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        upgrade(url, "0007")
        db_session._upgraded.clear()
        upgrade(url)  # migrates 0007 -> head: checked
        migrated = [s for s in statements if "foreign_key_check" in s]
        statements.clear()
        db_session._upgraded.clear()
        upgrade(url)  # a later start (another process): nothing to migrate
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert len(migrated) == 2 and statements  # (upgrade to 0007 ran it too)
    assert not [s for s in statements if "foreign_key_check" in s]
