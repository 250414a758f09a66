"""Many machines on Celery: real Redis and PostgreSQL servers on loopback, real `harvester worker`
processes crawling the saved portals (replayed by tests/portal_server.py through --host-map)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from harvester.db.models import Agency, Cell, CrawlRun, Document, Report
from portal_server import REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")
REDIS_SERVER = Path("/usr/bin/redis-server")
RETRIED = ("GET", "www.linzi.gov.cn", "/zwgk/zfxxgknb/202201/P020220125500000000002.pdf")  # answers 500
with open(REGISTRY, "rb") as _fh:
    import tomllib

    PORTAL_IDS = [p["id"] for p in tomllib.load(_fh)["portal"]]  # the saved portals
PORTALS = len(PORTAL_IDS)


def free_port(start: int = 56395) -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    port = free_port()
    proc = subprocess.Popen([str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def start_workers(n: int, redis_url: str, tmp: Path) -> list[subprocess.Popen]:
    env = dict(os.environ)
    return [subprocess.Popen([str(HARVESTER), "worker", "--broker", redis_url, "-c", "1", "-n", f"w{i}@test",
                              "--log-level", "INFO"], cwd=tmp, env=env,
                             stdout=open(tmp / f"worker{i}.log", "w"), stderr=subprocess.STDOUT)
            for i in range(n)]


def wait_until_done(redis_url: str, db_url: str, timeout: float = 480) -> None:
    """Queue empty, nothing taken and unacknowledged, every portal's crawl finished: twice in a row."""
    import redis

    client = redis.Redis.from_url(redis_url)
    engine = create_engine(db_url)
    quiet, deadline = 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            time.sleep(1)
            with Session(engine) as s:
                finished = s.scalar(select(func.count()).select_from(CrawlRun).where(CrawlRun.finished_at.is_not(None)))
                pending = s.scalar(select(func.count()).select_from(Document)
                                   .where(Document.extractor_version.is_(None), Document.error_kind.is_(None)))
            idle = client.llen("celery") == 0 and client.hlen("unacked") == 0
            quiet = quiet + 1 if idle and finished >= PORTALS and pending == 0 else 0
            if quiet >= 2:
                return
        raise AssertionError("the workers did not finish in time")
    finally:
        engine.dispose()


def snapshot(db_url: str) -> dict:
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            docs = [(d.url, d.sha256, d.error_kind) for d in s.scalars(select(Document))]
            reports = s.execute(select(Agency.normalized_name, Report.year).join(Report, Report.agency_id == Agency.id)).all()
            cells = s.execute(select(Document.url, Cell.table, Cell.row_key, Cell.column_key, Cell.value_text)
                              .join(Cell, Cell.document_id == Document.id)).all()
            versions = set(s.scalars(select(Document.extractor_version).where(Document.error_kind.is_(None))))
    finally:
        engine.dispose()
    return {"docs": docs, "reports": sorted(reports), "cells": sorted(cells, key=repr), "versions": versions}


def single_process_run(srv, tmp: Path) -> dict:
    db = f"sqlite:///{tmp / 'single.sqlite'}"
    cmd = [str(HARVESTER), "crawl", *PORTAL_IDS, "--registry", str(REGISTRY), "--data-dir", str(tmp / "single"),
           "--db", db, *[a for e in srv.host_map() for a in ("--host-map", e)]]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return snapshot(db)


def enqueue(srv, redis_url: str, db_url: str, tmp: Path, *extra: str) -> None:
    cmd = [str(HARVESTER), "enqueue", *PORTAL_IDS, "--registry", str(REGISTRY), "--broker", redis_url,
           "--db", db_url, "--data-dir", str(tmp / "shared"), *extra,
           *[a for e in srv.host_map() for a in ("--host-map", e)]]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"queued {PORTALS} portal crawls" in proc.stdout


def stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()


def assert_same_as_single(distributed: dict, single: dict) -> None:
    urls = [u for u, _, _ in distributed["docs"]]
    assert len(urls) == len(set(urls))  # no row duplicated
    assert sorted(distributed["docs"], key=repr) == sorted(single["docs"], key=repr)
    assert distributed["reports"] == single["reports"] and distributed["reports"]
    assert distributed["cells"] == single["cells"] and len(distributed["cells"]) > 1000
    assert distributed["versions"] == single["versions"] == {1}


def fetched_twice(log: list) -> set:
    fetched = [(m, h, p) for m, h, p, _s in log]
    return {k for k in fetched if fetched.count(k) > 1 and k[2] != "/robots.txt" and k != RETRIED}


@pytest.mark.slow
def test_three_workers_crawl_the_saved_portals_like_one_process_fetching_each_url_once(
        tmp_path: Path, redis_url: str, pg_url: str) -> None:
    with serve() as srv:
        single = single_process_run(srv, tmp_path)
        srv.log.clear()
        workers = start_workers(3, redis_url, tmp_path)
        try:
            enqueue(srv, redis_url, pg_url, tmp_path)
            wait_until_done(redis_url, pg_url)
        finally:
            stop(workers)
        log = list(srv.served())
    assert fetched_twice(log) == set()
    robots = [h for _m, h, p, _s in log if p == "/robots.txt"]
    assert len(robots) == len(set(robots))  # one crawl per portal: robots.txt once per host
    assert_same_as_single(snapshot(pg_url), single)
    logs = " ".join((tmp_path / f"worker{i}.log").read_text() for i in range(3))
    assert logs.count("succeeded") >= PORTALS
    assert sum(f"w{i}@test" in logs for i in range(3)) == 3


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing_and_duplicates_nothing(
        tmp_path: Path, redis_url: str, pg_url: str) -> None:
    with serve() as srv:
        single = single_process_run(srv, tmp_path)
        workers = start_workers(2, redis_url, tmp_path)
        try:
            enqueue(srv, redis_url, pg_url, tmp_path, "--set", "DOWNLOAD_DELAY=0.4")
            time.sleep(6)  # both workers are inside a crawl task (several seconds each at 0.4 s a request)
            children = subprocess.run(["pgrep", "-P", str(workers[0].pid)], capture_output=True, text=True)
            pids = [int(p) for p in children.stdout.split()]
            assert pids, "the worker has no pool process"
            for pid in pids:
                os.kill(pid, signal.SIGKILL)  # the process running the task dies; its crawl dies with it
            wait_until_done(redis_url, pg_url)
        finally:
            stop(workers)
    logs = (tmp_path / "worker0.log").read_text()
    assert "WorkerLostError" in logs or "signal 9" in logs
    assert_same_as_single(snapshot(pg_url), single)
