"""Agency identity and incremental link figures, each beside a baseline measured in the same run.

    .venv/bin/python bench/identity.py [--docs 20000] [--night 1000]

1. Division dataset: load time and memory of `harvester.agency.divisions` (reads jionlp's data
   files) vs `import jionlp` (the package's own loader), and names resolved per second by
   `harvester.agency.resolve` vs `jionlp.parse_location` on the same distinct names.
2. Link on SQLite: one night (`--night` new documents) on a database of `--docs` linked documents
   vs re-linking everything (`link --all`) on the same database.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

NAMES = [f"{p}{d}" for p in ("临淄区", "淄博市临淄区", "北京市朝阳区", "长春市朝阳区", "朝阳区", "临汾市尧都区", "烟台市莱山区",
                             "天津市和平区", "杭州市西湖区", "襄樊市", "聊城市", "山东省")
         for d in ("人民政府", "人民政府办公室", "工业和信息化局", "财政局", "教育局", "司法局", "交通运输局")]

LOAD = """
import resource, time, sys
t = time.perf_counter()
{code}
dt = time.perf_counter() - t
print(f"{{dt:.2f}} {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}}")
"""


def child(code: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", LOAD.format(code=code)], capture_output=True, text=True, check=True)
    secs, mb = out.stdout.strip().splitlines()[-1].split()
    return float(secs), float(mb)


def divisions_figures() -> None:
    base = child("pass")
    ours = child("from harvester.agency.divisions import divisions; divisions()")
    theirs = child("import jionlp; jionlp.parse_location('临淄区')")
    print(f"division dataset            load s   peak RSS MB (python alone: {base[1]:.0f} MB)")
    print(f"  harvester.agency.divisions {ours[0]:6.2f}   {ours[1]:6.0f}")
    print(f"  import jionlp + parse      {theirs[0]:6.2f}   {theirs[1]:6.0f}")
    from harvester.agency.resolve import resolve

    resolve.cache_clear()
    resolve("临淄区")
    t = time.perf_counter()
    for name in NAMES:
        resolve(name)
    ours_rate = len(NAMES) / (time.perf_counter() - t)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    jionlp.parse_location("临淄区")
    t = time.perf_counter()
    for name in NAMES:
        jionlp.parse_location(name)
    theirs_rate = len(NAMES) / (time.perf_counter() - t)
    print(f"distinct names resolved/s    resolve(): {ours_rate:,.0f}   jionlp.parse_location: {theirs_rate:,.0f}")


def link_figures(total: int, night: int) -> None:
    from sqlalchemy import insert

    from harvester.db.models import Document
    from harvester.link import link
    from harvester.store import Store

    now = datetime.now(UTC)
    agencies = [n for n in NAMES if not n.startswith("朝阳区")]

    def rows(start: int, n: int, year: int | None = None) -> list[dict]:
        return [dict(url=f"http://example.gov.cn/{i}.html", sha256=f"{i:064x}", fetched_at=now, extracted_at=now,
                     agency_name=agencies[i % len(agencies)],
                     year=year or 2008 + (i // len(agencies)) % 18, media_type="text/html")
                for i in range(start, start + n)]

    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/b.sqlite", Path(tmp) / "data") as store:
        with store.session() as s, s.begin():
            for start in range(0, total, 5000):
                s.execute(insert(Document), rows(start, min(5000, total - start)))
        t = time.perf_counter()
        link(store)
        first = time.perf_counter() - t
        with store.session() as s, s.begin():
            s.execute(insert(Document), rows(total, night, year=2026))  # next year's reports arrive
        t = time.perf_counter()
        stats = link(store)
        nightly = time.perf_counter() - t
        t = time.perf_counter()
        link(store, full=True)
        full = time.perf_counter() - t
    print(f"link on SQLite, {total:,} documents in {stats.reports:,} reports")
    print(f"  first link of all {total:,}: {first:6.2f} s")
    print(f"  one night, {night:,} new documents: {nightly:6.2f} s   (link --all on the same database: {full:.2f} s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--night", type=int, default=1000)
    args = ap.parse_args()
    divisions_figures()
    link_figures(args.docs, args.night)


if __name__ == "__main__":
    main()
