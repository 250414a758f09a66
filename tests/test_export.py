"""export(): CSV files with the spec's column names and the values exactly as extracted."""
from __future__ import annotations

import csv
from pathlib import Path

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
    assert header(out / "reports.csv") == ["report_id", "agency", "year", "template", "source_url", "documents",
                                           "checks_ok", "failed_checks"]
    assert header(out / "cells.csv") == ["report_id", "agency", "year", "table", "row", "column", "value",
                                         "raw_text", "semantic"]
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
    assert set(result.files.values()) == {0}
    assert read(tmp_path / "out" / "reports.csv") == []
