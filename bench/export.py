"""Time and peak memory (RSS) of `harvester export` as the database grows, next to the previous export.

    .venv/bin/python bench/export.py [--reports 2000 10000] [--db sqlite|URL] [--baseline COMMIT] [--no-baseline]

Builds a database of N one-document reports, each with every template cell of seed 000 (200
cells, its real keys and values) and its checks, written directly with executemany. Then exports
it in a fresh process with the streaming export (`harvester.export.export`: cells.csv from a
second process on more than one core), with the same export in one process (``parallel=False``),
and, as the baseline in the same run, with the export of an earlier commit (`--baseline`, by
default 2978586: the export before cells.csv was written as CSV lines in one pass with the wide
tables; 5176f77 is the one before the SQL views, which loaded the whole database through
`harvester.link.merged_cells`). The baseline's `export.py` runs against today's package.
Prints wall and CPU seconds (the machine is shared: CPU time is the steadier figure; it counts
the cells process too) and the peak RSS of the exporting process plus
that of its cells process; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime, UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "2978586"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
from harvester.store import Store
import importlib
mod = importlib.import_module(sys.argv[3])
kwargs = {} if sys.argv[5] == "default" else {"parallel": sys.argv[5] == "parallel"}
with Store(sys.argv[1], sys.argv[2]) as store:
    start = time.perf_counter()
    result = mod.export(store, sys.argv[2] + "/out-" + sys.argv[3] + sys.argv[5], **kwargs)
    took = time.perf_counter() - start
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": took, "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                  "rss_mb": (own.ru_maxrss + children.ru_maxrss) / 1024, "cells": result.files["cells.csv"]}))
"""


def build(db_url: str, data_dir: Path, n: int) -> None:
    from sqlalchemy import text

    from harvester.extract import extract
    from harvester.link import summarize
    from harvester.store import Store

    seed = ROOT / "tests" / "fixtures" / "seeds" / "000_7ffb10b0611b3e96.txt"
    record = extract(seed.read_bytes(), source="seed")
    cells = [(c.table, c.row, c.column, c.value, c.raw, c.semantic) for c in record.cells]
    checks = [(c.rule, c.where, str(c.expected), str(c.found), c.ok) for c in record.checks]
    now = datetime.now(UTC)
    with Store(db_url, data_dir) as store, store.engine.begin() as conn:
        for lo in range(1, n + 1, 1000):
            ids = range(lo, min(n, lo + 999) + 1)
            conn.execute(text("INSERT INTO agencies (id, name, normalized_name) VALUES (:i, :n, :n)"),
                         [{"i": i, "n": f"第{i}区人民政府办公室"} for i in ids])
            conn.execute(text("INSERT INTO documents (id, url, sha256, fetched_at, media_type, agency_name, year, "
                              "template) VALUES (:i, :u, :h, :t, 'text/plain', :n, 2023, '2021')"),
                         [{"i": i, "u": f"http://x{i}.gov.cn/nb.txt", "h": f"{i:064x}", "t": now,
                           "n": f"第{i}区人民政府办公室"} for i in ids])
            conn.execute(text("INSERT INTO reports (id, agency_id, year, template, canonical_document_id) "
                              "VALUES (:i, :i, 2023, '2021', :i)"), [{"i": i} for i in ids])
            conn.execute(text("INSERT INTO report_documents (document_id, report_id) VALUES (:i, :i)"),
                         [{"i": i} for i in ids])
            conn.execute(text('INSERT INTO cells (document_id, "table", row_key, column_key, value, value_text, '
                              "raw_text, semantic) VALUES (:d, :t, :r, :c, :v, :vt, :raw, :s)"),
                         [{"d": i, "t": t, "r": r, "c": c, "v": v if isinstance(v, (int, float)) else None,
                           "vt": None if v is None else str(v), "raw": raw, "s": s}
                          for i in ids for t, r, c, v, raw, s in cells])
            conn.execute(text('INSERT INTO checks (document_id, scope, rule, "where", expected, found, ok) '
                              "VALUES (:d, 'document', :r, :w, :e, :f, :ok)"),
                         [{"d": i, "r": r, "w": w, "e": e, "f": f, "ok": ok} for i in ids for r, w, e, f, ok in checks])
        if conn.dialect.name == "postgresql":
            for table in ("agencies", "documents", "reports"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"))
        summarize(conn, list(range(1, n + 1)))  # what link stores on the reports it writes


def run(db_url: str, data_dir: Path, module: str, path: Path, mode: str = "default") -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, db_url, str(data_dir), module, str(path), mode],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL of an empty database per size "
                                                    "(suffix _N is appended to its name)")
    ap.add_argument("--baseline", default=BASELINE_COMMIT, help="commit whose harvester/export.py is the baseline")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        base.mkdir()
        old = subprocess.run(["git", "show", f"{args.baseline}:harvester/export.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        # its data dictionary is the package's (it looks for it beside itself)
        old = old.replace("Path(__file__).resolve().parents[1]", f"Path({str(ROOT)!r})")
        (base / "export_baseline.py").write_text(old, encoding="utf-8")
        print(f"{'reports':>8} {'cells':>10}  {'export (cells.csv apart)':>30}  {'export in one process':>30}  "
              f"{'baseline (' + args.baseline + ')':>30}")
        for n in args.reports:
            data = Path(tmp) / f"d{n}"
            db_url = f"sqlite:///{data / 'h.sqlite'}" if args.db == "sqlite" else _pg(args.db, n)
            build(db_url, data, n)
            new = run(db_url, data, "harvester.export", base, "parallel")
            one = run(db_url, data, "harvester.export", base, "serial")
            old_ = {"error": "skipped"} if args.no_baseline else run(db_url, data, "export_baseline", base)
            print(f"{n:>8} {new.get('cells', 0):>10}  {_fmt(new):>30}  {_fmt(one):>30}  {_fmt(old_):>30}", flush=True)


def _fmt(r: dict) -> str:
    return r["error"][:26] if "error" in r else f"{r['seconds']:.0f} s ({r['cpu']:.0f} s CPU), {r['rss_mb']:.0f} MB"


def _pg(url: str, n: int) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    name = f"{u.database}_{n}"
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return u.set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
