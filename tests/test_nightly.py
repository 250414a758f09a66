"""`harvester nightly` end to end over a loopback replay of a copy of the saved portals (real
Scrapy in a subprocess, real HTTP with ETag / Last-Modified / 304 from the replay server), with the
copy edited between runs the way portals change: a number revised, a view counter ticking, a page
deleted or sent back to its column."""
from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import date, UTC
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from harvester.db.models import CrawlRun, Document, DocumentChange, PortalRun
from portal_server import PORTALS, serve

HARVESTER = Path(sys.executable).with_name("harvester")
PORTAL_IDS = ["linzi-zfxxgknb", "yaodu-col1229", "laishan-gknb"]
YAODU = "http://www.yaodu.gov.cn/art/2024/1/22/art_1229_3456789.html"
YAODU_FILE = "yaodu-col1229/www.yaodu.gov.cn/art/2024/1/22/art_1229_3456789.html"
LINZI_2023 = "http://www.linzi.gov.cn/zwgk/zfxxgknb/202401/t20240119_1234567.html"
LINZI_2023_FILE = "linzi-zfxxgknb/www.linzi.gov.cn/zwgk/zfxxgknb/202401/t20240119_1234567.html"
#: answered with an error on every run (see harvester/demo/portals/replay.json and the missing downfile)
ALWAYS_FAILING = ("/zwgk/zfxxgknb/202201/P020220125500000000002.pdf", "/module/download/downfile.jsp")
YAODU_ROW = "<td>18</td><td>7</td><td>0</td><td>0</td><td>0</td><td>0</td><td>25</td>"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "portals"
    shutil.copytree(PORTALS, root)
    return root


def nightly(tmp: Path, srv, *extra: str, expect: int | None = 0) -> subprocess.CompletedProcess:
    cmd = [str(HARVESTER), "nightly", *PORTAL_IDS, "--registry", str(PORTALS / "registry.toml"), "--backfill",
           "--data-dir", str(tmp / "data"), *extra]
    for entry in srv.host_map():
        cmd += ["--host-map", entry]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300)
    if expect is not None:
        assert proc.returncode == expect, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def engine_of(tmp: Path):
    return create_engine(f"sqlite:///{tmp / 'data' / 'harvester.sqlite'}")


def changes(tmp: Path, run: int) -> list[tuple[str, str]]:
    with Session(engine_of(tmp)) as s:
        return sorted(s.execute(select(DocumentChange.change, DocumentChange.url)
                                .where(DocumentChange.run_id == run)).all())


def edit(site: Path, rel: str, old: str, new: str) -> None:
    path = site / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_second_nightly_run_on_an_unchanged_portal_makes_conditional_requests_only_and_adds_nothing(site, tmp_path):
    with serve(site) as srv:
        first = nightly(tmp_path, srv)
        n = len(srv.served())
        second = nightly(tmp_path, srv)
        log = srv.served()[n:]
    assert "result: ok" in first.stdout and "7 new" in first.stdout
    documents = [(path, status) for _m, _h, path, status in log
                 if "/art/" in path or "/202" in path or "downfile" in path]
    assert documents, log
    for path, status in documents:  # every stored document came back 304; only the failing ones are fetched
        assert status == 304 or path.startswith(ALWAYS_FAILING), (path, status)
    assert sum(status == 304 for _p, status in documents) == 7
    assert "7 found, 0 new, 0 changed, 7 unchanged, 0 removed" in second.stdout
    assert changes(tmp_path, 2) == []
    with Session(engine_of(tmp_path)) as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 9  # 7 documents + 2 fetch errors
        rows = s.scalars(select(PortalRun).where(PortalRun.run_id == 2)).all()
        assert {(r.portal_id, r.status, r.new, r.changed, r.unchanged == r.found) for r in rows} == {
            (p, "ok", 0, 0, True) for p in PORTAL_IDS}
        validated = s.scalars(select(func.count()).select_from(Document).where(Document.etag.is_not(None))).one()
        assert validated == 7


def test_a_changed_report_yields_one_changed_entry_and_its_new_numbers_in_the_export(site, tmp_path):
    with serve(site) as srv:
        nightly(tmp_path, srv)
        edit(site, YAODU_FILE, YAODU_ROW, YAODU_ROW.replace("<td>18</td>", "<td>19</td>").replace(
            "<td>25</td>", "<td>26</td>"))
        nightly(tmp_path, srv)
    assert changes(tmp_path, 2) == [("changed", YAODU)]
    out = subprocess.run([str(HARVESTER), "changes", "--run", "2", "-f", "json", "--data-dir",
                          str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(e["change"], e["agency"], e["year"]) for e in entries] == [("changed", "临汾市尧都区人民政府办公室", 2023)]
    assert entries[0]["previous_document_id"] is not None and entries[0]["previous_document_id"] != entries[0]["document_id"]
    with open(tmp_path / "data" / "export" / "cells.csv", encoding="utf-8") as fh:
        cells = {(r["agency"], r["table"], r["row"], r["column"]): r["value"] for r in csv.DictReader(fh)}
    key = ("临汾市尧都区人民政府办公室", "table3", "new_received")
    assert (cells[(*key, "natural_person")], cells[(*key, "total")]) == ("19", "26")


def test_a_ticking_view_counter_and_session_id_add_no_version(site, tmp_path):
    edit(site, YAODU_FILE, "</body>", '<div class="foot">浏览次数：<span id="hits">12</span> '
         '<a href="/col/col1229/index.html;jsessionid=A1B2C3">返回</a></div></body>')
    with serve(site) as srv:
        nightly(tmp_path, srv, "--full")  # unconditional: the page is downloaded, compared, dropped
        edit(site, YAODU_FILE, ">12<", ">3456<")
        edit(site, YAODU_FILE, "jsessionid=A1B2C3", "jsessionid=ZZ99YY")
        second = nightly(tmp_path, srv, "--full")
        edit(site, YAODU_FILE, YAODU_ROW, YAODU_ROW.replace("<td>7</td>", "<td>8</td>"))
        nightly(tmp_path, srv, "--full", expect=None)
    assert "1 unchanged apart from volatile parts" in second.stdout
    assert changes(tmp_path, 2) == []
    assert changes(tmp_path, 3) == [("changed", YAODU)]  # a real change still is one


def test_a_vanished_document_is_marked_removed_never_deleted(site, tmp_path):
    with serve(site) as srv:
        nightly(tmp_path, srv)
        (site / YAODU_FILE).unlink()  # 404
        (site / LINZI_2023_FILE).write_text(  # sent back to its column
            '<html><head><meta http-equiv="refresh" content="0;url=../"></head><body></body></html>')
        second = nightly(tmp_path, srv, expect=1)
    assert changes(tmp_path, 2) == [("removed", LINZI_2023), ("removed", YAODU)]
    with Session(engine_of(tmp_path)) as s:
        gone = {d.url: d for d in s.scalars(select(Document).where(Document.url.in_([YAODU, LINZI_2023])))}
        assert set(gone) == {YAODU, LINZI_2023} and all(d.removed_at is not None for d in gone.values())
        assert s.scalar(select(func.count()).select_from(Document)) == 9  # nothing deleted, no error rows added
        yaodu = s.scalars(select(PortalRun).where(PortalRun.run_id == 2, PortalRun.portal_id == "yaodu-col1229")).one()
    assert (yaodu.status, yaodu.removed, yaodu.found) == ("empty", 1, 0)  # its only report is gone: alert
    assert "FAILED" in second.stdout and "empty" in second.stdout


def test_a_second_nightly_run_is_refused_while_the_first_holds_the_lock(site, tmp_path):
    from harvester.commands.nightly import NightlyLock

    (tmp_path / "data").mkdir()
    with NightlyLock(tmp_path / "data"), serve(site) as srv:
        proc = nightly(tmp_path, srv, expect=1)
    assert proc.stderr.strip().splitlines()[-1].startswith("error: another nightly run holds")
    assert not (tmp_path / "data" / "harvester.sqlite").exists() and not srv.served()  # nothing touched


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    from harvester.commands.nightly import NightlyLock

    lock = tmp_path / "nightly.lock"
    lock.write_text(f"{_dead_pid()} {socket.gethostname()} 2026-01-01T03:00:00+00:00\n")
    with NightlyLock(tmp_path) as held:
        assert held.held and lock.read_text().split()[0] == str(os.getpid())
    assert not lock.exists()


def test_a_killed_run_is_marked_aborted_when_the_next_run_starts(store):
    from datetime import datetime

    from harvester.runs import begin_run

    with store.session() as s, s.begin():
        s.add(CrawlRun(kind="crawl", portals=["x"], started_at=datetime.now(UTC), status="running",
                       host=socket.gethostname(), pid=_dead_pid()))
        s.add(CrawlRun(kind="crawl", portals=["y"], started_at=datetime.now(UTC), status="running",
                       host="another-machine", pid=1))
    new = begin_run(store, ["x"])
    with store.session() as s:
        statuses = dict(s.execute(select(CrawlRun.id, CrawlRun.status)).all())
    assert statuses == {1: "aborted", 2: "running", 3: "running"} and new == 3


def test_the_window_follows_recent_years_since_a_date_or_all():
    from harvester.commands.nightly import apply_window, window_years
    from harvester.registry import load

    today = date(2027, 2, 10)
    assert window_years(today) == {2025, 2026}
    assert window_years(today, since=date(2024, 1, 1)) == {2023, 2024, 2025, 2026, 2027}
    assert window_years(today, backfill=True) is None
    portals = list(load([PORTALS / "registry.toml"]).values())
    narrowed = {p.id: p for p in apply_window(portals, {2021, 2022})}
    assert narrowed["linzi-zfxxgknb"].allows_year(2021) and not narrowed["linzi-zfxxgknb"].allows_year(2023)
    assert narrowed["linzi-zfxxgknb"].allows_year(None)  # a link without a readable year is followed
    assert not narrowed["yaodu-col1229"].allows_year(2021)  # registry says [2023]: the intersection is empty


def test_replay_log_records_each_concurrent_304_against_its_own_request():
    """Regression (the flaky second-nightly test): the replay server logged a request, then
    patched "the last log entry" to 304 — under concurrent requests that entry was another
    request's, so a 304 showed up as 200 and a 200 as 304."""
    import http.client
    import threading

    page = ("www.linzi.gov.cn", "/zwgk/zfxxgknb/202401/t20240119_1234567.html")
    other = ("www.yaodu.gov.cn", "/art/2024/1/22/art_1229_3456789.html")
    with serve() as srv:
        def get(target, headers=None):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            conn.request("GET", target[1], headers={"Host": target[0], **(headers or {})})
            response = conn.getresponse()
            response.read()
            conn.close()
            return response

        etag = get(page).getheader("ETag")
        assert etag
        statuses: dict[str, list[int]] = {"conditional": [], "plain": []}

        def client(kind: str) -> None:
            for _ in range(15):
                if kind == "conditional":
                    statuses[kind].append(get(page, {"If-None-Match": etag}).status)
                else:
                    statuses[kind].append(get(other).status)

        threads = [threading.Thread(target=client, args=(k,)) for k in ("conditional", "plain") * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = srv.served()[1:]
    assert set(statuses["conditional"]) == {304} and set(statuses["plain"]) == {200}
    assert {status for _m, host, _p, status in log if host == page[0]} == {304}
    assert {status for _m, host, _p, status in log if host == other[0]} == {200}
    assert len(log) == 120
