"""export(): CSV files with the spec's column names and the values exactly as extracted."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from harvester.export import TABLE3_COLUMNS, TABLE4_COLUMNS, export
from harvester.extract import extract
from harvester.store import Store

from conftest import SEED_000, SEEDS


def read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


def ingest_seeds(store: Store) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        store.add_document(path.resolve().as_uri(), path.read_bytes())
    store.add_document("http://mirror.example.gov.cn/000.txt", SEED_000.read_bytes())
    store.link()


def test_export_files_have_the_spec_column_names(store: Store, tmp_path: Path) -> None:
    ingest_seeds(store)
    out = tmp_path / "out"
    export(store, out)
    # the original columns first, in their order; new ones appended (compatible with readers by name or position)
    assert header(out / "reports.csv") == ["report_id", "agency", "year", "template", "source_url", "documents",
                                           "checks_ok", "failed_checks", "value_documents", "agency_id",
                                           "division_code", "level", "checks"]
    assert header(out / "cells.csv") == ["report_id", "agency", "year", "table", "row", "column", "value",
                                         "raw_text", "semantic", "document_id", "source_url", "value_code",
                                         "value_text", "unit"]
    prefix = ["report_id", "agency", "year", "template", "row"]
    assert header(out / "table3.csv") == prefix + TABLE3_COLUMNS
    assert TABLE3_COLUMNS == ["natural_person", "commercial", "research", "social_org", "legal_service", "other",
                              "total"]
    assert header(out / "table4.csv") == prefix + TABLE4_COLUMNS
    assert TABLE4_COLUMNS == ["upheld", "corrected", "other", "pending", "total"]
    t2 = header(out / "table2.csv")
    assert t2[:5] == prefix and {"issued", "repealed", "in_force", "decisions", "amount_10k_yuan"} <= set(t2)


def test_exported_values_are_exactly_the_extracted_ones(store: Store, tmp_path: Path) -> None:
    ingest_seeds(store)
    out = tmp_path / "out"
    export(store, out)
    reports = read(out / "reports.csv")
    assert len(reports) == 5
    [linzi] = [r for r in reports if r["agency"] == "临淄区人民政府办公室"]
    record = extract(SEED_000.read_bytes(), source="seed")
    failed = sum(not c.ok for c in record.checks)
    assert linzi["year"] == "2023" and linzi["template"] == "2021" and linzi["documents"] == "2"
    assert linzi["source_url"] == SEED_000.resolve().as_uri()
    assert linzi["checks_ok"] == ("true" if failed == 0 else "false") and linzi["failed_checks"] == str(failed)

    rid = linzi["report_id"]
    cells = {(c["table"], c["row"], c["column"]): c for c in read(out / "cells.csv") if c["report_id"] == rid}
    assert len(cells) == len(record.cells)
    for c in record.cells:
        got = cells[(c.table, c.row, c.column)]
        assert (got["value"], got["raw_text"], got["semantic"]) == ("" if c.value is None else str(c.value),
                                                                    c.raw or "", c.semantic)
    assert cells[("table3", "new_received", "total")]["value"] == "27"

    t3 = {r["row"]: r for r in read(out / "table3.csv") if r["report_id"] == rid}
    assert t3["new_received"]["total"] == "27" and t3["new_received"]["natural_person"] == "26"
    assert t3["carried_forward"]["total"] == "2"
    assert list(t3)[:2] == ["new_received", "carried_over"] and list(t3)[-1] == "carried_forward"
    t4 = {r["row"]: r for r in read(out / "table4.csv") if r["report_id"] == rid}
    assert list(t4) == ["review", "litigation_direct", "litigation_after_review"]
    assert t4["review"]["pending"] == "2" and t4["review"]["total"] == "2"


def test_export_is_deterministic_and_bom_is_optional(store: Store, tmp_path: Path) -> None:
    ingest_seeds(store)
    export(store, tmp_path / "a")
    export(store, tmp_path / "b")
    export(store, tmp_path / "bom", bom=True)
    for name in ("reports.csv", "cells.csv", "table2.csv", "table3.csv", "table4.csv"):
        plain = (tmp_path / "a" / name).read_bytes()
        assert plain == (tmp_path / "b" / name).read_bytes()
        assert not plain.startswith(b"\xef\xbb\xbf")
        assert (tmp_path / "bom" / name).read_bytes() == b"\xef\xbb\xbf" + plain


def test_export_of_an_empty_database_writes_headers_only(store: Store, tmp_path: Path) -> None:
    result = export(store, tmp_path / "out")
    # data files: headers only; the codebook and the rule glossary are reference files
    assert {name for name, rows in result.files.items() if rows} == {"codebook.csv", "check_rules.csv"}
    assert read(tmp_path / "out" / "reports.csv") == []


# ------------------------------------------------------------------ one report over several documents
PORTALS = Path(__file__).resolve().parents[1] / "harvester" / "demo" / "portals"
# seed 000's TRS page with table 3 pasted as a picture: tables 2 and 4 are HTML
PAGE_T2_T4 = PORTALS / "zibo-qxnb" / "www.zibo.gov.cn" / "gongkai" / "qxnb" / "202401" / "t20240122_2222222.html"
SEED_000_PAGE = PORTALS / "linzi-zfxxgknb" / "www.linzi.gov.cn" / "zwgk" / "zfxxgknb" / "202401" / "t20240119_1234567.html"
T4_HEADING = "四、政府信息公开行政复议"


def without_table2(page: bytes) -> bytes:
    """seed 000's page with its table 2 cut out: tables 3 and 4 only."""
    html = page.decode("gbk")
    start = html.index("<table", html.index("二、主动公开政府信息情况"))
    end = html.index("</table>", start) + len("</table>")
    return (html[:start] + html[end:]).encode("gbk")


def with_review_pending(page: bytes, value: str) -> bytes:
    """Table 4 row 行政复议 printed with another 尚未审结 (the first "2" after the heading)."""
    html = page.decode("gbk")
    at = html.index("<td>2</td>", html.index(T4_HEADING))
    return (html[:at] + f"<td>{value}</td>" + html[at + len("<td>2</td>"):]).encode("gbk")


def split_report(store: Store) -> tuple[int, int]:
    """One report printed as two documents: a page with tables 2 and 4, a page with tables 3 and 4
    (whose table 4 says review.pending 3 where the first says 2)."""
    t3 = store.add_document("http://www.example.gov.cn/nb/t3_t4.html", without_table2(SEED_000_PAGE.read_bytes()))
    t2 = store.add_document("http://www.example.gov.cn/nb/t2_t4.html",
                            with_review_pending(PAGE_T2_T4.read_bytes(), "3"))
    store.link()
    return t2.document_id, t3.document_id


def test_report_split_over_two_documents_exports_each_table_from_the_document_that_printed_it(
        store: Store, tmp_path: Path) -> None:
    t2_doc, t3_doc = split_report(store)
    export(store, tmp_path / "out")
    [report] = read(tmp_path / "out" / "reports.csv")
    assert report["documents"] == "2"
    assert report["source_url"] == "http://www.example.gov.cn/nb/t3_t4.html"  # canonical: most values
    assert report["value_documents"] == ";".join(str(d) for d in sorted((t2_doc, t3_doc)))
    cells = {(c["table"], c["row"], c["column"]): c for c in read(tmp_path / "out" / "cells.csv")}
    assert {c["document_id"] for k, c in cells.items() if k[0] == "table2"} == {str(t2_doc)}
    assert {c["document_id"] for k, c in cells.items() if k[0] == "table3"} == {str(t3_doc)}
    assert cells[("table2", "regulations", "issued")]["source_url"] == "http://www.example.gov.cn/nb/t2_t4.html"
    assert cells[("table3", "new_received", "total")]["value"] == "27"
    assert cells[("table3", "new_received", "total")]["source_url"] == "http://www.example.gov.cn/nb/t3_t4.html"
    t2 = {r["row"]: r for r in read(tmp_path / "out" / "table2.csv")}
    t3 = {r["row"]: r for r in read(tmp_path / "out" / "table3.csv")}
    assert t2["regulations"]["issued"] == "0" and t2["licensing"]["decisions"] == "0"
    assert t3["new_received"]["natural_person"] == "26" and t3["carried_forward"]["total"] == "2"


def test_cell_both_documents_print_comes_from_the_canonical_one_and_the_disagreement_stays_recorded(
        store: Store, tmp_path: Path) -> None:
    from sqlalchemy import select

    from harvester.db.models import ReportConflict

    t2_doc, t3_doc = split_report(store)
    export(store, tmp_path / "out")
    cells = {(c["table"], c["row"], c["column"]): c for c in read(tmp_path / "out" / "cells.csv")}
    assert (cells[("table4", "review", "pending")]["value"], cells[("table4", "review", "pending")]["document_id"]) \
        == ("2", str(t3_doc))
    with store.session() as s:
        conflicts = s.execute(select(ReportConflict.document_id, ReportConflict.table, ReportConflict.row_key,
                                     ReportConflict.column_key, ReportConflict.canonical_value,
                                     ReportConflict.other_value)).all()
    assert conflicts == [(t2_doc, "table4", "review", "pending", "2", "3")]


def test_codebook_lists_every_spec_key_with_its_printed_label(store: Store, tmp_path: Path) -> None:
    import csv as _csv

    from harvester.export import export

    export(store, tmp_path / "out")
    rows = list(_csv.DictReader((tmp_path / "out" / "codebook.csv").open(encoding="utf-8")))
    keys = {(r["table"], r["kind"], r["key"]): r for r in rows}
    assert keys[("table3", "row", "denied.state_secret")]["label"] == "不予公开·属于国家秘密"
    assert keys[("table2", "row", "procurement")]["templates"] == "2019"
    assert keys[("table2", "column", "amount_10k_yuan")]["templates"] == "2021"
    assert keys[("table4", "row", "litigation_after_review")]["label"] == "行政诉讼·复议后起诉"
    assert len([r for r in rows if r["table"] == "table3" and r["kind"] == "row"]) == 26
    assert all(r["label"] for r in rows)


def test_datapackage_hashes_each_file_streamed_not_read_whole(tmp_path):
    """Regression: the package's sha256 of each CSV read the whole file into memory (2.9 GB peak
    for 100,000 reports); it is hashed in chunks, so a 64 MB cells.csv costs a few MB."""
    import hashlib
    import tracemalloc

    from harvester.export import datapackage

    chunk = b"1,\xe4\xb8\xb4\xe6\xb7\x84\xe5\x8c\xba,2023,table3,new_received,total,27\n" * 16384
    with (tmp_path / "cells.csv").open("wb") as fh:
        for _ in range(64 * 1024 * 1024 // len(chunk)):
            fh.write(chunk)
    size = (tmp_path / "cells.csv").stat().st_size
    tracemalloc.start()
    try:
        package = datapackage("utf-8", tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    cells = next(r for r in package["resources"] if r["name"] == "cells")
    with (tmp_path / "cells.csv").open("rb") as fh:
        assert cells["hash"] == "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
    assert cells["bytes"] == size > 60_000_000
    assert peak < 8 * 1024 * 1024, peak


# ------------------------------------------------------------------ the CSV writer
ADVERSARIAL_TEXT = ["", " ", "a,b", 'say "yes"', '"', '""', "a\nb", "\n", ",", "a;b", "\t", "\ttab", "=SUM(A1)",
                    "+1", "-1", "@x", "'quoted", "临淄区", "é\u2028", "x" * 300, "1,234", "12.50", "None", "0"]


def _csv_module_lines(kinds: list[str], rows: list[tuple]) -> str:
    """What the csv module writes for `rows` rendered value by value (the export before its line
    renderer): the reference the generated renderer must equal."""
    from harvester.export import RENDER, _text

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([RENDER.get(kind, _text)(v) for kind, v in zip(kinds, row)])
    return out.getvalue()


def test_the_line_renderer_writes_what_the_csv_module_writes_for_every_column_type() -> None:
    from datetime import datetime, UTC

    from harvester.export import _line_renderer

    kinds = ["integer", "string", "number", "boolean", "datetime", "string"]
    rows = [(i, text, number, flag, when, other)
            for i, (text, number, flag, when, other) in enumerate(zip(
                ADVERSARIAL_TEXT,
                [None, 0, 0.0, -0.0, 1.0, 1, 12.5, -3.25, 1e16, 1e-7, 123456789.0, 2.5, float("inf"), 7,
                 10**20, 0.1, -1, 3.0, None, 99.99, 1.5, 2, 8.0, -12.0],
                [True, False, None] * 8,
                [None, datetime(2024, 3, 1, 8, 30, tzinfo=UTC), "2023-01-02T03:04:05"] * 8,
                [None, 5, 5.0, 1, 1.0, True, "1", "x,y"] * 3))]
    line, _memos = _line_renderer(kinds)
    written = "".join(line(r) for r in rows)
    assert written == _csv_module_lines(kinds, rows)
    # a memo entry computed for one row gives the same text to the next: render twice
    assert "".join(line(r) for r in rows) == written
    # and the file reads back as the rows written, value for value
    back = list(csv.reader(io.StringIO(written, newline="")))
    assert [r[1] for r in back] == ["'" + t if t[:1] and t[:1] in "=+-@\t" else t for t in ADVERSARIAL_TEXT]


def test_a_text_memo_never_confuses_equal_values_of_different_types() -> None:
    """1, 1.0 and True are equal dictionary keys in Python: a memo keyed by value alone would write
    whichever came first for all three."""
    from harvester.export import _line_renderer

    line, _ = _line_renderer(["string", "number"])
    assert [line((v, 2)) for v in (1, 1.0, True, "1")] == ["1,2\n", "1.0,2\n", "True,2\n", "1,2\n"]
    assert [line(("x", v)) for v in (1, 1.0, 1.5, 1)] == ["x,1\n", "x,1\n", "x,1.5\n", "x,1\n"]
    with pytest.raises(TypeError, match="boolean"):  # refused, as render-by-render did
        line(("x", True))


def test_a_carriage_return_inside_a_text_cell_is_quoted_so_the_row_reads_back_whole() -> None:
    """Python 3.11's csv writer leaves a bare CR unquoted (its line terminator here is LF); every
    reader then ends the row there."""
    from harvester.export import _line_renderer

    line, _ = _line_renderer(["integer", "string", "string"])
    written = line((1, "two\rlines", "end")) + line((2, "a\r\nb", "end"))
    assert written == '1,"two\rlines",end\n2,"a\r\nb",end\n'
    assert list(csv.reader(io.StringIO(written, newline=""))) == [["1", "two\rlines", "end"], ["2", "a\r\nb", "end"]]


def test_a_writer_memo_stays_bounded_over_a_national_number_of_distinct_values(tmp_path: Path) -> None:
    from harvester.export import MEMO_LIMIT, TRIM_EVERY, Output, _Writer

    w = _Writer(Output(tmp_path), "check_rules")
    width = w.width
    rows = 3 * (MEMO_LIMIT + TRIM_EVERY)
    for i in range(rows):
        w.write_rows([tuple(f"value {i} {k}" for k in range(width))])
        assert max(len(m) for m in w.memos) <= MEMO_LIMIT + TRIM_EVERY
    w.close()
    with (tmp_path / "check_rules.csv").open(encoding="utf-8", newline="") as fh:
        written = list(csv.reader(fh))
    assert len(written) == 1 + rows and written[-1][0] == f"value {rows - 1} 0"


def test_a_failure_while_compressing_fails_the_file_instead_of_truncating_it(tmp_path: Path) -> None:
    """The gzip stream is written by a thread: a full disk there must still reach the exporter."""
    import errno

    from harvester.export import Output, _Writer

    w = _Writer(Output(tmp_path, gzip=True), "cells")

    def full(_data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    w.raw.write = full  # type: ignore[method-assign]
    row = (1, "临淄区人民政府办公室", 2023, "table2", "r", "c", 1.0, "1", "number", 1, "http://x", "number", "1", None)

    def write_then_close() -> None:
        for _ in range(200_000):  # past the buffers: several chunks reach the thread
            w.write(row)
        w.close()

    with pytest.raises(OSError, match="No space left") as failed:
        write_then_close()
    assert failed.value.errno == errno.ENOSPC
