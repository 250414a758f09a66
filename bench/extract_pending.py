"""The extraction stage on 1 worker vs N workers, same documents, same run.

    .venv/bin/python bench/extract_pending.py [--copies 4] [--workers 2]

Stores the text-layer fixtures (seeds, HTML, DOCX, text PDFs: no OCR, so a round takes
seconds) `--copies` times each — every copy's bytes made unique by a trailing comment or
padding, so each is a document of its own — with `ingest --store-only`; then runs
`Store.extract_pending(workers=1)`, marks every document pending again, runs it with
`--workers`, and repeats in the other order. Prints documents/s of each and the ratio
(target on 2 cores: 2 workers ≥ 1.8 × one).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, update  # noqa: E402

from harvester.db.models import Cell, CheckRow, Document, ExtractionErrorRow  # noqa: E402
from harvester.store import Store  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SUFFIXES = {".txt", ".html", ".htm", ".docx", ".pdf"}
SKIP = {"portals", "broken", "scans", "ocr", "images"}


def corpus() -> list[Path]:
    from harvester.extract import extract

    files = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or SKIP & set(path.relative_to(FIXTURES).parts):
            continue
        record = extract(path.read_bytes(), str(path))
        if record.error is None and record.table3 is not None and not any(
                c.confidence is not None for c in record.cells):
            files.append(path)
    return files


def unique(data: bytes, path: Path, i: int) -> bytes:
    if path.suffix.lower() in (".txt",):
        return data + f"\n{i}\n".encode()
    if path.suffix.lower() in (".html", ".htm"):
        return data + f"<!-- copy {i} -->".encode()
    return data + b"\n%" + str(i).encode() + b"\n"  # after %%EOF / the zip's end: ignored by readers


def reset(store: Store) -> None:
    with store.session() as s, s.begin():
        for model in (Cell, CheckRow, ExtractionErrorRow):
            s.execute(delete(model))
        s.execute(update(Document).values(extractor_version=None, extracted_at=None))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    files = corpus()
    with tempfile.TemporaryDirectory(prefix="bench-extract-pending-") as tmp:
        store = Store(f"sqlite:///{tmp}/h.sqlite", Path(tmp) / "data")
        for i in range(args.copies):
            for path in files:
                store.add_document(f"file:///bench/{i}/{path.name}", unique(path.read_bytes(), path, i),
                                   extract=False)
        n = len(store.documents_to_extract("pending"))
        print(f"{n} documents ({len(files)} text-layer fixtures x {args.copies}); {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.1f}")
        rates: dict[int, list[float]] = {1: [], args.workers: []}
        for r in range(args.rounds):
            for workers in (1, args.workers) if r % 2 == 0 else (args.workers, 1):
                reset(store)
                t0 = time.perf_counter()
                stats = store.extract_pending(workers)
                secs = time.perf_counter() - t0
                assert stats.extracted == n, stats
                rates[workers].append(n / secs)
                print(f"round {r + 1}: {workers} worker(s) {n} documents in {secs:6.1f} s = {n / secs:6.1f} docs/s")
        store.close()
    one, many = (sum(v) / len(v) for v in (rates[1], rates[args.workers]))
    print(f"\n{'':<16}{'docs/s':>8}")
    print(f"{'1 worker':<16}{one:>8.1f}")
    print(f"{f'{args.workers} workers':<16}{many:>8.1f}   = {many / one:.2f} x one worker (target >= 1.8 on 2 cores)")


if __name__ == "__main__":
    main()
