"""Extraction speed per format over the test fixtures, on one core.

    .venv/bin/python bench/extract.py [--repeat N]

Prints, for each format, reports/s and pages/s of `harvester.extract.extract`,
and for PDFs, in the same run over the same files, the figure of a naive
baseline (pdfplumber `extract_tables()` + `extract_text()` on every page), so
the ratio holds on a noisy machine. Also the peak RSS of the process.
"""
from __future__ import annotations

import argparse
import io
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harvester.extract import extract  # noqa: E402
from harvester.extract.sniff import sniff  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SKIP_DIRS = {"portals", "broken"}


def fixtures() -> dict[str, list[tuple[Path, bytes]]]:
    by_format: dict[str, list[tuple[Path, bytes]]] = defaultdict(list)
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(FIXTURES).parts) or path.suffix in {".md", ".py", ".toml"}:
            continue
        data = path.read_bytes()
        media = sniff(data)
        record = extract(data, str(path))
        if record.error is None and record.table3 is not None:
            by_format[media.split("/")[-1].split(".")[-1]].append((path, data))
    return by_format


def naive_pdf(data: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
            page.extract_text()
        return len(pdf.pages)


def timed(fn, items, repeat: int) -> tuple[float, int]:
    pages = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for path, data in items:
            pages += fn(path, data)
    return time.perf_counter() - start, pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"{'format':<10} {'files':>5} {'reports/s':>10} {'pages/s':>9}  note")
    for fmt, items in sorted(fixtures().items()):
        secs, pages = timed(lambda p, d: extract(d, str(p)).pages or 1, items, args.repeat)
        n = len(items) * args.repeat
        print(f"{fmt:<10} {len(items):>5} {n / secs:>10.1f} {pages / secs:>9.1f}")
        if fmt == "pdf":
            bsecs, bpages = timed(lambda p, d: naive_pdf(d), items, args.repeat)
            print(f"{'pdf-naive':<10} {len(items):>5} {n / bsecs:>10.1f} {bpages / bsecs:>9.1f}"
                  f"  baseline; harvester is {bsecs / secs:.1f}x faster")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
