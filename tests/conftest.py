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
