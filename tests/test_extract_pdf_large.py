"""PDF front-end on a long document and the two table paths: a 200-page PDF made of copies of a
report reads every copy exactly like the report alone; pdfium's objects fed to pdfplumber's table
finder give exactly what pdfplumber gives on its own parse (the fallback path). No timing here:
speed and memory are measured by bench/extract.py and bench/memory.py."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harvester.extract import extract
from harvester.extract import pdf as pdf_mod
from harvester.extract.pdf import parse_pdf

ROOT = Path(__file__).resolve().parents[1]
DERIVED = ROOT / "tests" / "fixtures" / "derived"
sys.path.insert(0, str(ROOT))
from bench.memory import build_pdf  # noqa: E402


def _rows(layout, page_offset: int = 0):
    return [[(c.text, c.page - page_offset, c.bbox and tuple(round(v, 2) for v in c.bbox)) for c in row]
            for row in layout.rows]


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory) -> bytes:
    return build_pdf(200, tmp_path_factory.mktemp("pdf") / "long.pdf").read_bytes()


def test_200_page_pdf_reads_every_copy_like_the_report_alone(long_pdf):
    single = parse_pdf((DERIVED / "seed000_template.pdf").read_bytes())
    assert single.pages == 6
    layout = parse_pdf(long_pdf)
    assert layout.pages == 200
    # text-only pages run on into the next copy's first pages as one stream: compare cells, in order
    by_copy: dict[int, list] = {}
    for row in layout.rows:
        for c in row:
            by_copy.setdefault((c.page - 1) // 6, []).append(
                (c.text, c.page - 6 * ((c.page - 1) // 6), c.bbox and tuple(round(v, 2) for v in c.bbox)))
    assert sorted(by_copy) == list(range(34))  # 33 full copies and pages 1-2 of the 34th
    want = [cell for row in _rows(single) for cell in row]
    for k in range(33):
        assert by_copy[k] == want, f"copy {k}"
    assert layout.text.startswith("\n".join([single.text] * 33) + "\n")


def test_200_page_pdf_extracts_the_report(long_pdf):
    record = extract(long_pdf, "long.pdf")
    assert record.error is None and record.pages == 200
    assert record.table3 is not None
    assert record.agency == "临淄区人民政府办公室"


@pytest.mark.parametrize("name", ["seed000_template.pdf", "seed004_template.pdf"])
def test_pdfium_table_path_equals_the_pdfplumber_fallback(name, monkeypatch):
    data = (DERIVED / name).read_bytes()
    fast = parse_pdf(data)

    def fallback(*args, **kwargs):
        raise pdf_mod._Fallback("forced")

    monkeypatch.setattr(pdf_mod, "_pdfium_table_rows", fallback)
    slow = parse_pdf(data)
    assert fast.text == slow.text
    assert _rows(fast) == _rows(slow)
    assert sum(1 for row in fast.rows for c in row if c.bbox is not None) > 100  # the tables were found
