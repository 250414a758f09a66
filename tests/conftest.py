"""Shared fixtures.

Database tests take the `db_url` fixture, parametrized over SQLite and a real
PostgreSQL server on 127.0.0.1: `HARVESTER_TEST_PG_URL` when set, otherwise the
conftest starts one with `scripts/pg-test-server` (a test FAILS if PostgreSQL cannot
be had; it is never skipped). Each test gets a fresh database.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = FIXTURES / "seeds"

# seed 000: 临淄区人民政府办公室, 2023 (2021 template)
SEED_000 = SEEDS / "000_7ffb10b0611b3e96.txt"


def stored_summary(conn) -> dict[int, tuple]:
    """Each report's summary as `harvester.link.summarize` stored it:
    report -> (documents, checks, failed_checks, failed_documents, value_documents, sources)."""
    from sqlalchemy import text

    sources: dict[int, set[int]] = {}
    for r, d in conn.execute(text("SELECT report_id, document_id FROM report_documents WHERE source")):
        sources.setdefault(r, set()).add(d)
    return {r: (n, c, f, e, v, sources.get(r, set())) for r, n, c, f, e, v in conn.execute(text(
        "SELECT id, documents, checks, failed_checks, failed_documents, value_documents FROM reports ORDER BY id"))}


def grouped_summary(conn) -> dict[int, tuple]:
    """The same, grouped over the whole database from the merged cells (the ``report_values``
    view, the SQL merge) the way the ``report_summary`` view did before link stored it: the
    oracle the stored summary must equal."""
    from sqlalchemy import text

    values: dict[int, set[int]] = {}
    for r, d in conn.execute(text("SELECT report_id, document_id FROM report_values")):
        values.setdefault(r, set()).add(d)
    canonical = dict(conn.execute(text("SELECT id, canonical_document_id FROM reports")).all())
    members: dict[int, list[tuple[int, str | None]]] = {r: [] for r in canonical}
    for r, d, error in conn.execute(text("SELECT rd.report_id, rd.document_id, d.error_kind FROM report_documents rd "
                                         "JOIN documents d ON d.id = rd.document_id")):
        members[r].append((d, error))
    doc_checks: dict[int, list[bool]] = {}
    own: dict[int, list[bool]] = {}
    for scope, d, r, ok in conn.execute(text("SELECT scope, document_id, report_id, ok FROM checks")):
        if scope == "document":
            doc_checks.setdefault(d, []).append(bool(ok))
        elif scope == "report" and r is not None:
            own.setdefault(r, []).append(bool(ok))
    out = {}
    for r, docs in members.items():
        src = values.get(r) or ({canonical[r]} if canonical[r] is not None else set())
        oks = [ok for d in src for ok in doc_checks.get(d, [])] + own.get(r, [])
        out[r] = (len(docs), len(oks), oks.count(False), sum(e is not None for _, e in docs),
                  ";".join(str(d) for d in sorted(values.get(r, ()))) or None, src)
    return out


#: Test modules that run whole crawls, OCR, LibreOffice, servers or subprocesses: `make test-fast`
#: (`pytest -m "not slow"`) leaves them out; `make test` runs everything. A single slow test in an
#: otherwise fast module carries `@pytest.mark.slow` itself.
SLOW_MODULES = {
    "test_celery", "test_crawl", "test_crawl_hostile", "test_crawl_images", "test_disk_full", "test_extract_ocr",
    "test_extract_office", "test_extract_pdf_large", "test_golden_set", "test_local_inputs",
    "test_migrations_safe", "test_portal_examples", "test_spiders_images", "test_store_pipeline",
    "test_corpus_renderings",
    # crawls of the saved portals, CLI subprocesses, browsers and servers
    "test_export_package", "test_nightly", "test_cli_hygiene", "test_resume", "test_blocked", "test_readme_example",
    "test_coverage", "test_discover", "test_progress", "test_run_records", "test_ingest", "test_hanweb_pagenum",
    "test_cli_outputs", "test_https_replay", "test_not_a_report", "test_identity_portals", "test_serve",
    "test_stages", "test_cli_help",
}
#: Formats converted by LibreOffice (seconds per file): their parametrizations are slow.
OFFICE_SUFFIXES = (".doc]", ".wps]", ".xls]")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fast tier is SQLite and in-process only: a test on the PostgreSQL backend, in a slow
    module, or on a LibreOffice format is marked slow (`make test` runs them all)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (item.path.stem in SLOW_MODULES or "postgresql" in params.values()
                or item.name.endswith(OFFICE_SUFFIXES)):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """Admin URL of the test PostgreSQL server (started on demand)."""
    url = os.environ.get("HARVESTER_TEST_PG_URL")
    if url:
        return url
    script = ROOT / "scripts" / "pg-test-server"
    try:
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"could not start PostgreSQL with {script}: {exc}")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        pytest.fail(f"could not start PostgreSQL with {script} (exit {proc.returncode}):\n{proc.stderr}")
    return lines[-1]


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once against SQLite and once against PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'harvester.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def store(db_url: str, data_dir: Path):
    from harvester.store import Store

    s = Store(db_url, data_dir)
    yield s
    s.close()
