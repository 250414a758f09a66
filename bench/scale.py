"""Link, export and `reports` on a large database: time and peak memory, SQLite and PostgreSQL.

    .venv/bin/python bench/scale.py --reports 100000 [--night 1000] [--pg URL] [--no-sqlite]
    .venv/bin/python bench/scale.py --reports 1000000 --dir /big/disk   # hours: see below

Generates `--reports` reports straight into a fresh database with bulk loads (COPY / executemany):
each is one document cloned from a real extracted report (the seeds: their every cell, check
and field) under a varied agency (district × department names) and year (2019–2024), its
numbers varied so no two reports are equal. Then runs the public commands as subprocesses —
`harvester link`, then `--night` new documents (one night's crawl) and `harvester link` again,
then `harvester reports -f csv` and `harvester export` — timing each and reading its peak RSS
from the kernel (wait4). Each figure prints as its step ends (a run stopped midway keeps them),
then side by side for each database.

Sizes and times at 1M on a 2-core machine (2026-12-03): SQLite generates in ~41 min into
29 GB, the first link takes ~90 min (33 GB once linked). PostgreSQL generates in ~31 min into a
44 GB cluster (50 GB once linked), links in ~61 min, and the whole `--gzip` export takes ~39 min
(a 1.5 GB package; ~28 GB of cells.csv without `--gzip`). Give `--dir` (and the cluster) a disk
with room for the database and the export together, or stop the run after the link;
`--generated` starts a later run at the link.

Targets (issue 11): export of 1M reports under 500 MB peak; link of one night (1,000 documents)
on a 1M-report database under 10 s. Only the public entry points are called, so the script
measures whatever `harvester.link` / `harvester.export` do at the time it runs.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Table  # noqa: E402

from harvester.db.models import Cell, CheckRow, Document  # noqa: E402
from harvester.extract import extract  # noqa: E402
from harvester.store import Store, cell_rows, check_rows, document_fields  # noqa: E402

SEEDS = sorted((ROOT / "tests" / "fixtures" / "seeds").glob("*.txt"))
HARVESTER = Path(sys.executable).with_name("harvester")
CITIES = ["淄博市", "烟台市", "临汾市", "杭州市", "成都市", "长春市", "南宁市", "兰州市", "太原市", "福州市"]
DISTRICTS = ["临淄区", "莱山区", "尧都区", "西湖区", "武侯区", "朝阳区", "青秀区", "城关区", "小店区", "鼓楼区",
             "张店区", "芝罘区", "洪洞县", "余杭区", "双流区", "南关区", "兴宁区", "七里河区", "迎泽区", "仓山区"]
DEPARTMENTS = ["人民政府办公室", "发展和改革局", "教育局", "公安局", "民政局", "财政局", "人力资源和社会保障局",
               "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局",
               "文化和旅游局", "卫生健康委员会", "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局",
               "城市管理局", "退役军人事务局", "信访局", "司法局"]
YEARS = list(range(2019, 2025))
CHUNK = 2000  # documents per transaction


def templates() -> list:
    records = [extract(p.read_bytes(), str(p)) for p in SEEDS]
    return [r for r in records if r.error is None and r.cells]


def agencies() -> list[str]:
    return [c + d + dep for c in CITIES for d in DISTRICTS for dep in DEPARTMENTS]  # 5,000 agencies


def bulk(conn, table: Table, columns: list[str], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in `columns` order) the fastest way the driver has: COPY on
    PostgreSQL, one prepared executemany on SQLite (what `pg_restore` / `.import` would do)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        with conn.connection.dbapi_connection.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        names = ", ".join(f'"{c}"' for c in columns)
        conn.exec_driver_sql(f'INSERT INTO {table.name} ({names}) VALUES ({", ".join("?" * len(columns))})', rows)


def generate(store: Store, start: int, count: int, tag: str) -> None:
    """Documents start..start+count-1: document i is agency i // len(YEARS), year i % len(YEARS).

    Rows come from the store's own row builders (`document_fields`, `cell_rows`, `check_rows`) on
    the seeds' records, so they are what an extraction writes; every whole number printed in a
    cell is shifted by ``i % 97`` (value, value_text and raw text alike) so no two reports are
    equal. Document ids are given explicitly (the sequence is moved past them on PostgreSQL).
    """
    names, recs = agencies(), templates()
    now = datetime.now(UTC)
    doc_cols = ["id", "url", "sha256", "size", "fetched_at"] + list(document_fields(recs[0], now))
    base_cells = [cell_rows(0, r) for r in recs]
    base_checks = [check_rows(0, r) for r in recs]
    cell_cols = list(next(rows for rows in base_cells if rows)[0])  # the columns the store fills
    check_cols = list(next(rows for rows in base_checks if rows)[0])
    base_fields = [document_fields(r, now) for r in recs]
    with store.engine.connect() as conn:
        first_id = (conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM documents").scalar() or 0) + 1
    for lo in range(start, start + count, CHUNK):
        hi = min(lo + CHUNK, start + count)
        docs, cells, checks = [], [], []
        for n, i in enumerate(range(lo, hi)):
            doc_id = first_id + (lo - start) + n
            k = i % len(recs)
            agency = names[(i // len(YEARS)) % len(names)] + (
                "" if i < len(names) * len(YEARS) else f"第{i // (len(names) * len(YEARS))}分局")
            year = YEARS[i % len(YEARS)]
            fields = dict(base_fields[k], agency_name=agency, year=year, text=None,
                          title=f"{agency}{year}年政府信息公开工作年度报告")
            docs.append((doc_id, f"http://bench.gov.cn/{tag}/{i}.html",
                         hashlib.sha256(f"{tag}:{i}".encode()).hexdigest(), 10000, now,
                         *fields.values()))
            shift = i % 97
            for c in base_cells[k]:
                row = dict(c, document_id=doc_id)
                if c["semantic"] == "number" and c["value"] is not None and float(c["value"]).is_integer() \
                        and c["value_text"] == str(int(c["value"])):
                    row["value"] = c["value"] + shift
                    row["value_text"] = str(int(row["value"]))
                    if c["raw_text"] == c["value_text"]:
                        row["raw_text"] = row["value_text"]
                if row["bbox"] is not None:
                    row["bbox"] = json.dumps(row["bbox"])
                cells.append(tuple(row[col] for col in cell_cols))
            checks += [tuple(dict(c, document_id=doc_id)[col] for col in check_cols) for c in base_checks[k]]
        with store.engine.begin() as conn:
            bulk(conn, Document.__table__, doc_cols, docs)
            bulk(conn, Cell.__table__, cell_cols, cells)
            bulk(conn, CheckRow.__table__, check_cols, checks)
        print(f"  {hi - start}/{count} documents", end="\r", flush=True)
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('documents', 'id'), (SELECT MAX(id) FROM documents))")
            conn.exec_driver_sql("ANALYZE")
    print()


@contextlib.contextmanager
def load_order(store: Store, tables: tuple[str, ...] = ("documents", "cells", "checks")):
    """pg_restore's order on PostgreSQL: drop these tables' foreign keys, unique constraints and
    secondary indexes, load, then rebuild each with one sort (instead of a trigger call and index
    insert per row: hundreds of millions at 1M reports). Names and definitions are read from the
    catalog and restored as they were. Nothing to do on SQLite."""
    if store.engine.dialect.name != "postgresql":
        yield
        return
    names = ", ".join(f"'{t}'" for t in tables)
    with store.engine.begin() as conn:
        cons = conn.exec_driver_sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            f"WHERE conrelid::regclass::text IN ({names}) AND contype IN ('f', 'u') ORDER BY contype").all()
        idx = conn.exec_driver_sql(
            f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({names}) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))").all()
        for table, name, _, _ in cons:  # 'f' before 'u'
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in idx:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
        for _, definition in idx:
            conn.exec_driver_sql(definition)
        for table, name, definition, _ in reversed(cons):  # 'u' before 'f'
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    print(f"  indexes and constraints rebuilt in {time.perf_counter() - t0:.0f} s")


def _tree_rss(pid: int) -> int:
    """Resident kB of `pid` and all its descendants now (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of a subprocess, also printed at once (a long run
    that is stopped still leaves its figures). The peak is the larger of the kernel's (wait4:
    the biggest single process) and the sum over the process tree sampled every 0.2 s (the
    export writes cells.csv from a second process: both count)."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    tree = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            tree[0] = max(tree[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    stop.set()
    sampler.join()
    secs = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print(f"  {' '.join(cmd[:2])} exited {proc.returncode}: {proc.stderr.read().decode()[-500:]}")
    peak = max(usage.ru_maxrss, tree[0]) / 1024
    print(f"  {' '.join(Path(c).name for c in cmd[:2])}: {secs:.1f} s, peak {peak:.0f} MB "
          f"(largest process {usage.ru_maxrss / 1024:.0f} MB)", flush=True)
    return secs, peak, proc.returncode


def run(db_url: str, data_dir: Path, n: int, night: int, gzip: bool = False,
        generated: bool = False) -> dict[str, tuple[float, float, int]]:
    if not generated:
        store = Store(db_url, data_dir)
        print(f"{store.engine.dialect.name}: generating {n} reports")
        t0 = time.perf_counter()
        with load_order(store):
            generate(store, 0, n, "base")
        print(f"  generated in {time.perf_counter() - t0:.0f} s")
        store.close()
    env = {**os.environ, "HARVESTER_DB": db_url, "HARVESTER_DATA_DIR": str(data_dir)}
    h = str(HARVESTER)
    out: dict[str, tuple[float, float, int]] = {}
    out["link (all)"] = timed([h, "link"], env)
    # the target first: a night's crawl on the full database, then the whole-corpus reads
    store = Store(db_url, data_dir)
    generate(store, n, night, "night")
    store.close()
    out[f"link (+{night} night)"] = timed([h, "link"], env)
    out["reports -f csv"] = timed([h, "reports", "-f", "csv"], env)
    out["export" + (" --gzip" if gzip else "")] = timed(
        [h, "export", "--out", str(data_dir / "export"), *(["--gzip"] if gzip else [])], env)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--night", type=int, default=1000)
    ap.add_argument("--pg", help="PostgreSQL URL of an EMPTY database to fill (else PostgreSQL is skipped)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--generated", action="store_true",
                    help="the databases already hold the --reports generated reports, not linked (a run stopped "
                         "after generating): start at the link")
    ap.add_argument("--gzip", action="store_true", help="export --gzip (a 1M export is ~3 GB instead of ~37 GB)")
    ap.add_argument("--dir", type=Path, help="work here (kept afterwards) instead of a temporary directory: "
                                             "a 1M run needs ~35 GB for SQLite and ~30 GB for its export")
    args = ap.parse_args()
    results: dict[str, dict[str, tuple[float, float, int]]] = {}
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(str(args.dir)) if args.dir else tempfile.TemporaryDirectory(prefix="bench-scale-")) as tmp:
        if not args.no_sqlite:
            data = Path(tmp) / "sqlite"
            results["SQLite"] = run(f"sqlite:///{data / 'h.sqlite'}", data, args.reports, args.night, args.gzip,
                                    args.generated)
        if args.pg:
            results["PostgreSQL"] = run(args.pg, Path(tmp) / "pg", args.reports, args.night, args.gzip, args.generated)
    print(f"\n{args.reports} reports, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    dbs = list(results)
    print(f"{'step':<22}" + "".join(f"{db + ' s':>14}{db + ' MB':>15}" for db in dbs))
    for step in next(iter(results.values())):
        row = f"{step:<22}"
        for db in dbs:
            secs, mb, code = results[db][step]
            row += f"{secs:>14.1f}{mb:>15.0f}" + ("!" if code else "")
        print(row)


if __name__ == "__main__":
    main()
