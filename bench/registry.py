"""Registry load + validation time for a 5,000-entry file, beside a bare `tomllib` parse of the
same file in the same run (the baseline: parsing alone, no validation).

    .venv/bin/python bench/registry.py [--entries 5000] [--repeat 5]

The file repeats the bundled entries (harvester/portals.toml, generated from the national seed
list) with numbered ids. Target: load + validate 5,000 entries in under a second.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tomllib
from pathlib import Path

from harvester import registry

REPO = Path(__file__).resolve().parents[1]


def make(n: int) -> str:
    entries = (REPO / "harvester" / "portals.toml").read_text(encoding="utf-8").split("\n[[portal]]\n")[1:]
    out = []
    for i in range(n):
        e = entries[i % len(entries)]
        pid = e.split('"', 2)[1]
        out.append(e.replace(f'id = "{pid}"', f'id = "{pid}-{i}"', 1))
    return "".join("\n[[portal]]\n" + e for e in out)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.toml"
        path.write_text(make(args.entries), encoding="utf-8")
        assert len(registry.load([path], include_default=False, use_env=False)) == args.entries
        full = best(lambda: registry.load([path], include_default=False, use_env=False), args.repeat)
        parse = best(lambda: tomllib.loads(path.read_text(encoding="utf-8")), args.repeat)
    print(f"{args.entries} entries ({len(make(args.entries).encode()) // 1024} kB), best of {args.repeat}:")
    print(f"  registry.load (parse + validate): {full:.3f} s")
    print(f"  tomllib parse only (baseline):    {parse:.3f} s")
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
