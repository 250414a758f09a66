"""The schema on a real PostgreSQL server: migrations match the models and re-run cleanly."""
from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, create_engine, inspect

from harvester.db.models import Base
from harvester.db.session import current_revision, head_revision, upgrade
from harvester.store import Store

from conftest import SEED_000


def test_migrations_create_exactly_the_model_schema(db_url: str) -> None:
    upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert {"portals", "crawl_runs", "agencies", "documents", "reports", "report_documents", "cells", "checks",
            "extraction_errors", "report_conflicts", "agency_aliases", "agency_ambiguities", "fetch_blocks", "portal_runs",
            "document_changes",
            "alembic_version"} == tables
    assert current_revision(db_url) == head_revision() == "0010"


def test_postgres_server_stores_chinese_text_and_numbers(pg_url: str, data_dir) -> None:
    with Store(pg_url, data_dir) as store:
        doc_id = store.add_document("http://www.linzi.gov.cn/年报.txt", SEED_000.read_bytes()).document_id
        stats = store.link()
        from harvester.db.models import Cell, Document
        with store.session() as s:
            doc = s.get(Document, doc_id)
            assert doc.agency_name == "临淄区人民政府办公室" and doc.url.endswith("年报.txt")
            value = s.query(Cell.value).filter_by(document_id=doc_id, table="table3", row_key="new_received",
                                                  column_key="total").scalar()
            assert value == 27
    assert stats.reports == 1


def _cells_plan(conn, ids: list[int]) -> str:
    """PostgreSQL's plan for link's count of a batch of documents' cells (`harvester.link._counts`)."""
    from sqlalchemy import text

    return "\n".join(r[0] for r in conn.execute(text(
        "EXPLAIN SELECT document_id, count(*) FROM cells WHERE document_id IN :ids AND value_text IS NOT NULL "
        "GROUP BY document_id").bindparams(bindparam("ids", expanding=True)), {"ids": ids}))


def test_a_batch_of_documents_reads_cells_by_index_whatever_analyze_guesses(pg_url: str) -> None:
    """ANALYZE guessed 35,165 documents among the 200 million cells of 1,000,000 reports (5,687
    cells each): 500 ids looked like 2.8 million cells, and every batch of link's cell reads was a
    parallel scan of the whole table (20 s a batch instead of 0.1 s). Migration 0010 states the
    ratio, which ANALYZE then keeps; the same misleading guess, scaled to this table, still makes
    the planner read it in parallel."""
    from sqlalchemy import text

    upgrade(pg_url)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT attoptions FROM pg_attribute WHERE attrelid = 'cells'::regclass "
                                     "AND attname = 'document_id'")).scalar() == ["n_distinct=-0.005"]
            conn.execute(text("INSERT INTO documents (id, url, sha256, size, fetched_at) "
                              "SELECT g, 'http://bench.gov.cn/' || g, md5(g::text), 1, now() "
                              "FROM generate_series(1, 5000) g"))
            conn.execute(text("""INSERT INTO cells (document_id, "table", row_key, column_key, value, value_text,
                                 semantic) SELECT d, 'table3', 'row' || k, 'total', k, k::text, 'number'
                                 FROM generate_series(1, 5000) d, generate_series(1, 200) k"""))
            conn.execute(text("ANALYZE cells"))
            batch = list(range(2000, 2500))
            hinted = _cells_plan(conn, batch)
            conn.execute(text(f"ALTER TABLE cells ALTER COLUMN document_id SET (n_distinct = {1_000_000 // 5687})"))
            conn.execute(text("ANALYZE cells"))
            misled = _cells_plan(conn, batch)
    finally:
        engine.dispose()
    def cells_estimate(plan: str) -> int:  # the planner's rows out of the cells table, all workers
        line = next(line for line in plan.splitlines() if " on cells " in line)
        workers = 2.4 if "Parallel" in line else 1  # PostgreSQL's per-worker share with 2 workers
        return int(int(re.search(r"rows=(\d+)", line)[1]) * workers)

    assert "Parallel Seq Scan on cells" in misled, misled  # the 1M run's plan: the trap is real here
    assert "Seq Scan" not in hinted and "Parallel" not in hinted and 80_000 < cells_estimate(hinted) < 200_000, hinted  # 500 × 200 cells


def _members_plan(conn, report_ids: list[int]) -> str:
    """PostgreSQL's plan for link's read of a batch of reports' current documents."""
    from harvester.link import current_members

    query = current_members(report_ids).compile(conn, compile_kwargs={"literal_binds": True})
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {query}"))


def test_a_first_link_reads_a_batch_of_reports_documents_by_index(pg_url: str) -> None:
    """The first link of 1,000,000 reports fills `reports` and `report_documents` in one
    transaction that autovacuum cannot see: the statistics still said "empty", and every batch
    of 500 report ids became a parallel scan of the whole table (half of that link's time).
    Fresh statistics taken inside the transaction turn it back into index lookups."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from harvester.link import analyze_report_tables

    upgrade(pg_url)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO agencies (id, name, normalized_name) VALUES (1, '教育局', '教育局')"))
            conn.execute(text("INSERT INTO documents (id, url, sha256, size, fetched_at) "
                              "SELECT g, 'http://bench.gov.cn/' || g, md5(g::text), 1, now() "
                              "FROM generate_series(1, 200000) g"))
            conn.execute(text("INSERT INTO reports (id, agency_id, year) SELECT g, 1, g FROM generate_series(1, 200000) g"))
            conn.execute(text("INSERT INTO report_documents (document_id, report_id, version, rank) "
                              "SELECT g, g, 1, 0 FROM generate_series(1, 200000) g"))
            batch = list(range(100_000, 100_500))
            blind = _members_plan(conn, batch)
            analyze_report_tables(Session(bind=conn))
            fresh = _members_plan(conn, batch)
    finally:
        engine.dispose()
    assert "Seq Scan on report_documents" in blind, blind  # the trap is real on this server
    assert "Seq Scan" not in fresh and "report_documents" in fresh, fresh


def test_a_link_touching_many_reports_refreshes_their_statistics_and_a_small_one_does_not(
        pg_url: str, data_dir, monkeypatch) -> None:
    """`link` takes the statistics itself once it touched `ANALYZE_AFTER` reports; a night's
    link leaves them to autovacuum (its rows are few, and committed before the next run)."""
    from sqlalchemy import text

    import harvester.link as link_module

    def reltuples(store: Store) -> float:
        with store.engine.connect() as conn:
            return conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'report_documents'")).scalar()

    seeds = sorted(SEED_000.parent.glob("*.txt"))[:3]
    with Store(pg_url, data_dir) as store:
        for i, path in enumerate(seeds):
            store.add_document(f"http://www.example.gov.cn/{i}/a.html", path.read_bytes())
        assert link_module.link(store).reports_touched == 3
        assert reltuples(store) <= 0  # never analyzed (-1), or analyzed empty
        monkeypatch.setattr(link_module, "ANALYZE_AFTER", 3)
        assert link_module.link(store, full=True).reports_touched == 3
        assert reltuples(store) == 3
