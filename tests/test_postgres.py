"""The schema on a real PostgreSQL server: migrations match the models and re-run cleanly."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

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
    assert current_revision(db_url) == head_revision() == "0009"


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
