"""Resume after SIGKILL: a crawl killed at three random moments and started again ends with
exactly the documents of an uninterrupted crawl, and never downloads again a document that a
killed run had already stored. Real `harvester crawl` processes against the loopback replay."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from harvester.db.models import CrawlRun, Document, DocumentChange
from portal_server import REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")
PORTAL_IDS = ["linzi-zfxxgknb", "yaodu-col1229", "laishan-gknb"]
SLOW = ["--set", "DOWNLOAD_DELAY=0.4", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "--set", "RETRY_TIMES=0"]


def crawl_cmd(srv, data: Path) -> list[str]:
    cmd = [str(HARVESTER), "crawl", *PORTAL_IDS, "--registry", str(REGISTRY), "--data-dir", str(data), *SLOW,
           "--log-level", "WARNING"]
    for entry in srv.host_map():
        cmd += ["--host-map", entry]
    return cmd


def documents(data: Path) -> set[tuple[str, str | None, str | None]]:
    engine = create_engine(f"sqlite:///{data / 'harvester.sqlite'}")
    try:
        with Session(engine) as s:
            return set(s.execute(select(Document.url, Document.sha256, Document.error_kind)).all())
    finally:
        engine.dispose()


def stored_urls(data: Path) -> set[str]:
    from sqlalchemy.exc import OperationalError

    try:
        return {url for url, sha, err in documents(data) if sha and err is None}
    except OperationalError:  # no database yet, or its schema is still being created
        return set()


def test_sigkill_at_three_random_points_then_resume_gives_the_uninterrupted_result(tmp_path):
    seed = int(os.environ.get("RESUME_SEED", time.time_ns() % 10_000))
    rng = random.Random(seed)
    with serve() as srv:
        started = time.monotonic()
        whole = subprocess.run(crawl_cmd(srv, tmp_path / "whole"), cwd=tmp_path, capture_output=True, text=True,
                               timeout=300)
        assert whole.returncode == 0, whole.stderr[-3000:]
        duration = time.monotonic() - started
        expected = documents(tmp_path / "whole")

        data = tmp_path / "killed"
        kills, refetched = [], []
        for _ in range(3):
            before = stored_urls(data)
            mark = len(srv.served())
            proc = subprocess.Popen(crawl_cmd(srv, data), cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while len(stored_urls(data)) <= len(before) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)  # wait until this run stored a document of its own, then kill at random
            delay = rng.uniform(0.0, 0.8)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            kills.append((round(delay, 2), proc.returncode, len(stored_urls(data))))
            refetched += [p for _m, host, p, status in srv.served()[mark:] if status == 200
                          and any(u.endswith(p) and host in u for u in before)]
        before = stored_urls(data)
        mark = len(srv.served())
        final = subprocess.run(crawl_cmd(srv, data), cwd=tmp_path, capture_output=True, text=True, timeout=300)
        refetched += [p for _m, host, p, status in srv.served()[mark:] if status == 200
                      and any(u.endswith(p) and host in u for u in before)]
    context = f"seed {seed}, kills (seconds after a new document, exit, documents stored) {kills}, whole crawl {duration:.1f} s"
    assert final.returncode == 0, context + final.stderr[-3000:]
    assert documents(data) == expected, context
    assert refetched == [], context  # nothing a killed run stored was downloaded again
    print(context)
    engine = create_engine(f"sqlite:///{data / 'harvester.sqlite'}")
    with Session(engine) as s:
        statuses = [r.status for r in s.scalars(select(CrawlRun).order_by(CrawlRun.id))]
        added = s.scalars(select(DocumentChange.url).where(DocumentChange.change == "added")).all()
    engine.dispose()
    assert kills[0][1] == -signal.SIGKILL and 0 < kills[0][2] < len(expected), context  # mid-crawl
    # a later run may have had nothing left to do and finished before its kill landed
    assert {code for _d, code, _n in kills} <= {-signal.SIGKILL, 0}, context
    # a killed run is marked aborted by the next one (one that got to finish before the kill landed is ok)
    assert statuses[-1] == "ok" and set(statuses[:-1]) <= {"aborted", "ok"} and "aborted" in statuses, (context, statuses)
    assert sorted(added) == sorted({u for u, sha, err in expected if sha and err is None}), context


def test_a_process_killed_in_the_middle_of_its_first_migration_leaves_a_database_the_next_run_upgrades(tmp_path):
    """Regression: pysqlite runs DDL outside transactions, so a crawl killed while creating the
    schema left half of it ("table agencies already exists" on every later start)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from harvester.db.models import Base
    from harvester.db.session import upgrade

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    code = f"""
import os, sqlalchemy
from harvester.db import session
engine = session.make_engine({url!r})
created = []
# on every engine: the migration runs on a transactional engine of its own (harvester.db.session)
@sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "before_cursor_execute")
def die(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created.append(statement)
        if len(created) == 4:
            os._exit(9)   # like SIGKILL: no cleanup, no rollback by Python
session.upgrade(engine)
"""
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
