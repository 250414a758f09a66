"""Cell accuracy per format over the golden set (tests/goldens/manifest.toml).

    .venv/bin/python bench/accuracy.py [--no-ocr]

For every file: each cell of the hand-checked golden is right (equal, or null where the
golden is null), wrong (a value that differs — or any value where the golden is null:
a guess), or null (a value the extractor could not determine). Prints per-format
totals and lists every wrong cell. The goal is 100% and 0 wrong; null is allowed only
where the input truly admits several readings (glued digit strings, low OCR confidence).
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harvester.extract import extract  # noqa: E402
from harvester.extract.golden import Score, expected, score  # noqa: E402

FIX = ROOT / "tests" / "fixtures"
GOLDENS = ROOT / "tests" / "goldens"


def kind(path: str, media_type: str) -> str:
    if path.startswith("derived_flat/"):
        return "flattened"
    if path.startswith("derived_scan/"):
        return "ocr"
    return {"text/plain": "text", "text/html": "html", "application/pdf": "pdf", "application/x-ole-storage": "doc/wps/xls", "application/ofd": "ofd",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}.get(media_type, media_type)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-ocr", action="store_true", help="skip the OCR files (slow)")
    args = ap.parse_args()
    manifest = tomllib.loads((GOLDENS / "manifest.toml").read_text(encoding="utf-8"))
    totals: dict[str, Score] = defaultdict(Score)
    files: dict[str, int] = defaultdict(int)
    for entry in manifest["file"]:
        if args.no_ocr and entry["path"].startswith("derived_scan/"):
            continue
        record = extract((FIX / entry["path"]).read_bytes(), entry["path"])
        golden = json.loads((GOLDENS / f"{entry['golden']}.json").read_text(encoding="utf-8"))
        s = score(record.to_json(), expected(golden, entry.get("override")))
        k = kind(entry["path"], record.media_type)
        totals[k].add(s)
        files[k] += 1
        for w in s.wrong:
            print(f"WRONG {entry['path']}: {w}")
    print(f"{'format':<12} {'files':>5} {'cells':>6} {'right':>6} {'wrong':>5} {'null':>5} {'accuracy':>9}")
    grand = Score()
    for k in sorted(totals):
        t = totals[k]
        grand.add(t)
        print(f"{k:<12} {files[k]:>5} {t.cells:>6} {t.right:>6} {len(t.wrong):>5} {len(t.null):>5} {t.accuracy:>9.2%}")
    print(f"{'all':<12} {sum(files.values()):>5} {grand.cells:>6} {grand.right:>6} {len(grand.wrong):>5} "
          f"{len(grand.null):>5} {grand.accuracy:>9.2%}")


if __name__ == "__main__":
    main()
