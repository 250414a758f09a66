"""Migrations are atomic and run once: several processes starting on a fresh database at once
never fail, and a migration killed at any point leaves a database the next start upgrades."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from harvester.db.models import Base
from harvester.db.session import current_revision, head_revision, upgrade

STARTER = """
import sys
from harvester.store import Store
with Store(sys.argv[1], sys.argv[2]) as store:
    store.ensure_portal("p", name="x")
print("ok")
"""

MIGRATOR = """
import sys
from harvester.db.session import upgrade
print("start", flush=True)
upgrade(sys.argv[1])
print("done", flush=True)
"""


def schema_matches_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                leftovers = conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'"))
                assert list(leftovers) == []
    finally:
        engine.dispose()
    assert current_revision(db_url) == head_revision()


@pytest.mark.slow
def test_several_processes_starting_at_once_on_a_fresh_database_all_succeed(db_url: str, tmp_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", STARTER, db_url, str(tmp_path / f"data{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(5)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and out.strip() == "ok", err[-3000:]
    schema_matches_models(db_url)


def _timed_migration(db_url: str) -> float:
    proc = subprocess.Popen([sys.executable, "-c", MIGRATOR, db_url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "start"
    t0 = time.monotonic()
    assert proc.stdout.readline().strip() == "done"
    took = time.monotonic() - t0
    proc.wait(timeout=60)
    return took


@pytest.mark.slow
def test_a_migration_killed_at_any_point_leaves_a_database_the_next_start_upgrades(tmp_path: Path) -> None:
    took = _timed_migration(f"sqlite:///{tmp_path / 'timing.sqlite'}")
    steps = 8
    revisions_seen = set()
    for i in range(steps):
        db_url = f"sqlite:///{tmp_path / f'killed{i}.sqlite'}"
        proc = subprocess.Popen([sys.executable, "-c", MIGRATOR, db_url], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "start"
        time.sleep(took * i / steps)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        revisions_seen.add(current_revision(db_url))  # the database opens
        upgrade(db_url)
        schema_matches_models(db_url)
    # all or nothing: the whole upgrade is one transaction, never a revision in between
    assert revisions_seen <= {None, head_revision()}, revisions_seen


@pytest.mark.slow
def test_a_postgres_migration_killed_midway_rolls_back_whole(pg_url: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", MIGRATOR, pg_url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "start"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert current_revision(pg_url) in (None, head_revision())  # all or nothing: one transaction
    upgrade(pg_url)
    schema_matches_models(pg_url)
