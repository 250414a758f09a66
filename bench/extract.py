"""Extraction speed per format over the test fixtures, on one core.

    .venv/bin/python bench/extract.py [--repeat N] [--ocr-repeat N] [--no-ocr]

Every fixture under tests/fixtures whose standard table 3 is extracted is timed
with `harvester.extract.extract` (one warm-up pass first: imports, OCR models).
Prints per format: files, reports/s, pages/s and seconds per page. PDFs with a
text layer ("pdf") are also run through a naive baseline — pdfplumber
`extract_tables()` + `extract_text()` on every page — over the same files in
the same run, alternating with the harvester run by run, so the ratio holds on
a loaded machine. Scanned PDFs ("pdf-scan") and images go through OCR. Memory
of a 200-page PDF is measured by bench/memory.py.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
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
OCR_FORMATS = {"pdf-scan", "png", "jpeg", "gif"}
NAMES = {"document": "docx", "x-ole-storage": "doc/wps", "sheet": "xlsx", "plain": "text"}


def _format(media: str, record) -> str:
    """The row a file is timed in. A PDF is "pdf-scan" (an OCR row) as soon as the extractor read
    any of its cells by OCR (cells carry an OCR confidence): a mixed PDF with one scanned page costs
    seconds per page and must not drag the text-layer row down."""
    fmt = media.split("/")[-1].split(".")[-1]
    if fmt == "pdf":
        return "pdf-scan" if any(c.confidence is not None for c in record.cells) else "pdf"
    return NAMES.get(fmt, fmt)


def fixtures() -> dict[str, list[tuple[Path, bytes, int]]]:
    """Files whose table 3 is extracted, by format; the warm-up pass (imports, OCR models)."""
    by_format: dict[str, list[tuple[Path, bytes, int]]] = defaultdict(list)
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(FIXTURES).parts) or path.suffix in {".md", ".py", ".toml"}:
            continue
        data = path.read_bytes()
        record = extract(data, str(path))
        if record.error is None and record.table3 is not None:
            by_format[_format(sniff(data), record)].append((path, data, record.pages or 1))
    return by_format


def naive_pdf(data: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
            page.extract_text()
        return len(pdf.pages)


def _run(fn, items) -> float:
    start = time.perf_counter()
    for path, data, _ in items:
        fn(path, data)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs over the non-OCR files (default 5)")
    ap.add_argument("--ocr-repeat", type=int, default=1, help="runs over the OCR files (default 1)")
    ap.add_argument("--no-ocr", action="store_true", help="skip scanned PDFs and images")
    args = ap.parse_args()

    by_format = fixtures()
    print(f"# {platform.python_version()} on {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}; --repeat {args.repeat} --ocr-repeat {args.ocr_repeat}")
    print(f"{'format':<10} {'files':>5} {'pages':>5} {'reports/s':>10} {'pages/s':>9} {'s/page':>8}  note")

    def line(fmt: str, items, secs: float, runs: int, note: str = "") -> None:
        n = len(items) * runs
        pages = sum(p for _, _, p in items) * runs
        print(f"{fmt:<10} {len(items):>5} {pages // runs:>5} {n / secs:>10.1f} {pages / secs:>9.1f} "
              f"{secs / pages:>8.3f}  {note}".rstrip())

    harvester = lambda p, d: extract(d, str(p))  # noqa: E731
    for fmt, items in sorted(by_format.items()):
        if fmt in OCR_FORMATS:
            if args.no_ocr:
                continue
            secs = sum(_run(harvester, items) for _ in range(args.ocr_repeat))
            line(fmt, items, secs, args.ocr_repeat, "OCR")
        elif fmt == "pdf":
            secs = bsecs = 0.0
            for _ in range(args.repeat):  # alternate: both see the same machine load
                secs += _run(harvester, items)
                bsecs += _run(lambda p, d: naive_pdf(d), items)
            line(fmt, items, secs, args.repeat, "text layer")
            line("pdf-naive", items, bsecs, args.repeat,
                 f"baseline (pdfplumber tables+text, every page); harvester is {bsecs / secs:.1f}x faster")
        else:
            secs = sum(_run(harvester, items) for _ in range(args.repeat))
            line(fmt, items, secs, args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process {peak:.0f} MB (OCR models included; 200-page PDF: bench/memory.py)")


if __name__ == "__main__":
    main()
