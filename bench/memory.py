"""Peak memory (RSS) of extracting a 200-page text-layer PDF, in a fresh process.

    .venv/bin/python bench/memory.py [--pages 200] [--naive]

Builds the PDF on the fly by repeating the pages of
tests/fixtures/derived/seed000_template.pdf (pypdfium2 `import_pages`) into a
temporary file, then runs `harvester.extract.extract` on it in a subprocess
and prints that process's peak RSS, next to the RSS of a process that only
imports the extractor (the floor), and the time taken. `--naive` also runs the
naive pdfplumber baseline (tables + text on every page) the same way.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "derived" / "seed000_template.pdf"


def build_pdf(pages: int, dest: Path, seed: Path = SEED) -> Path:
    """A `pages`-page PDF made of copies of the seed's pages, in order."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(seed)
    out = pdfium.PdfDocument.new()
    try:
        n = len(src)
        while len(out) < pages:
            take = min(n, pages - len(out))
            out.import_pages(src, list(range(take)))
        out.save(dest)
    finally:
        out.close()
        src.close()
    return dest


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from harvester.extract import extract
import pdfplumber, pypdfium2  # the floor includes the libraries
mode, path = sys.argv[1], sys.argv[2]
result = {{}}
if mode != "floor":
    data = open(path, "rb").read()
    t = time.perf_counter()
    if mode == "harvester":
        record = extract(data, path)
        result.update(pages=record.pages, error=record.error and record.error.kind,
                      table3=record.table3 is not None)
    else:
        import io
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                page.extract_tables()
                page.extract_text()
            result.update(pages=len(pdf.pages))
    result["seconds"] = time.perf_counter() - t
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def run(mode: str, path: Path) -> dict:
    code = _CHILD.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, mode, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--naive", action="store_true", help="also measure the naive pdfplumber baseline")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build_pdf(args.pages, Path(tmp) / f"report_{args.pages}p.pdf")
        size_mb = path.stat().st_size / 2**20
        print(f"# {args.pages}-page PDF ({size_mb:.1f} MB) built from {SEED.relative_to(ROOT)}")
        print(f"{'process':<12} {'peak RSS MB':>11} {'seconds':>8} {'pages/s':>8}  note")
        floor = run("floor", path)
        print(f"{'imports':<12} {floor['peak_mb']:>11.0f} {'':>8} {'':>8}  floor: python + extractor + libraries")
        modes = ["harvester"] + (["naive"] if args.naive else [])
        for mode in modes:
            r = run(mode, path)
            note = (f"pages={r['pages']} error={r['error']} table3={'yes' if r['table3'] else 'no'}"
                    if mode == "harvester" else "pdfplumber tables + text on every page")
            print(f"{mode:<12} {r['peak_mb']:>11.0f} {r['seconds']:>8.2f} {r['pages'] / r['seconds']:>8.1f}  {note}")


if __name__ == "__main__":
    main()
