"""The export as a data package: frictionless-valid, filtered, injection-safe, coded values, the same
numbers as the SQL views, streamed without one SQL parameter per id."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, text

from harvester.export import (DICTIONARY_PATH, Filters, defined_rules, dictionary, dictionary_markdown, export,
                              rule_family)
from harvester.store import Store

from conftest import grouped_summary, stored_summary
from test_export import ingest_seeds, read, split_report
from datetime import UTC

FRICTIONLESS = Path(sys.executable).with_name("frictionless")


def validate(folder: Path) -> dict:
    """`frictionless validate` on the exported datapackage.json, as a researcher would run it."""
    proc = subprocess.run([str(FRICTIONLESS), "validate", "--json", "datapackage.json"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout)
    report["returncode"] = proc.returncode
    return report


def errors(report: dict) -> list[str]:
    return [f"{task.get('name')}: {e.get('type')}: {e.get('message')}"
            for task in report.get("tasks", []) for e in task.get("errors", [])] + \
        [e.get("message", "") for e in report.get("errors", [])]


def full_store(store: Store) -> None:
    """Seeds (five reports, 2021 and 2023), a mirrored copy, and a report split over two pages with a conflict."""
    ingest_seeds(store)
    split_report(store)


def test_export_is_a_frictionless_valid_data_package_with_keys(store: Store, tmp_path: Path) -> None:
    full_store(store)
    out = tmp_path / "out"
    export(store, out)
    report = validate(out)
    assert report["valid"] is True and report["returncode"] == 0, errors(report)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in package["resources"]}
    assert set(by_name) == {"reports", "cells", "table2", "table3", "table4", "codebook", "agencies", "documents",
                            "checks", "check_rules", "conflicts", "coverage"}
    cells = by_name["cells"]["schema"]
    assert cells["primaryKey"] == ["report_id", "table", "row", "column"]
    assert {"fields": ["document_id"], "reference": {"resource": "documents", "fields": ["document_id"]}} \
        in cells["foreignKeys"]
    value = next(f for f in cells["fields"] if f["name"] == "value")
    assert value["type"] == "number" and value["description"]
    assert next(f for f in by_name["table3"]["schema"]["fields"] if f["name"] == "total")["type"] == "number"
    assert by_name["agencies"]["schema"]["foreignKeys"][0]["reference"] == {"resource": "", "fields": ["agency_id"]}
    assert len(read(out / "conflicts.csv")) == 1


def test_cells_written_by_a_second_process_are_byte_for_byte_the_in_process_export(store: Store, tmp_path: Path) -> None:
    """On several cores cells.csv comes from a forked process with its own connection; the
    package (every file, and so the descriptor's hashes) is the one a single process writes,
    filtered or not, with a BOM or not."""
    full_store(store)
    for kwargs in ({}, {"bom": True, "filters": Filters(years=(2023,))}):
        one = export(store, tmp_path / "one", parallel=False, **kwargs)
        two = export(store, tmp_path / "two", parallel=True, **kwargs)
        assert list(one.files) == list(two.files) and one.files == two.files and one.files["cells.csv"] > 100
        for name in one.files:
            assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
        packages = [json.loads((tmp_path / d / "datapackage.json").read_text(encoding="utf-8")) for d in ("one", "two")]
        assert [{k: v for k, v in p.items() if k != "created"} for p in packages][0] == \
            {k: v for k, v in packages[1].items() if k != "created"}
        shutil.rmtree(tmp_path / "one"), shutil.rmtree(tmp_path / "two")


def test_a_gzip_export_is_a_valid_package_of_the_same_rows(store: Store, tmp_path: Path) -> None:
    """`export --gzip`: every file NAME.csv.gz, its decompressed bytes those of the plain export,
    the descriptor's size and SHA-256 those of the compressed file; frictionless validates it
    (foreign keys across compressed files included); exporting twice gives the same bytes."""
    import gzip

    full_store(store)
    plain = export(store, tmp_path / "plain")
    packed = export(store, tmp_path / "gz", gzip=True)
    assert list(packed.files) == [f + ".gz" for f in plain.files] and list(packed.files.values()) == list(
        plain.files.values())
    for name in plain.files:
        assert gzip.decompress((tmp_path / "gz" / (name + ".gz")).read_bytes()) == (tmp_path / "plain" / name).read_bytes()
        assert not (tmp_path / "gz" / name).exists()
    package = json.loads((tmp_path / "gz" / "datapackage.json").read_text(encoding="utf-8"))
    cells = next(r for r in package["resources"] if r["name"] == "cells")
    assert (cells["path"], cells["compression"], cells["bytes"]) == (
        "cells.csv.gz", "gz", (tmp_path / "gz" / "cells.csv.gz").stat().st_size)
    report = validate(tmp_path / "gz")
    assert report["valid"] is True and report["returncode"] == 0, errors(report)
    again = tmp_path / "again"
    export(store, again, gzip=True)
    assert all((again / n).read_bytes() == (tmp_path / "gz" / n).read_bytes() for n in packed.files)


def test_a_changed_byte_in_a_gzip_export_fails_validation(store: Store, tmp_path: Path) -> None:
    import gzip

    full_store(store)
    export(store, tmp_path / "gz", gzip=True)
    path = tmp_path / "gz" / "reports.csv.gz"
    text_ = gzip.decompress(path.read_bytes()).replace("临淄区".encode(), "临沂区".encode(), 1)
    path.write_bytes(gzip.compress(text_, mtime=0))
    report = validate(tmp_path / "gz")
    assert report["valid"] is False and "hash" in " ".join(errors(report)).lower()


def test_a_column_key_beyond_the_template_gets_a_wide_column_where_its_report_is_exported(
        store: Store, tmp_path: Path) -> None:
    """A cell whose column key the template lacks (an older extractor's, a hand-loaded one) is a
    column of its wide table — in the whole export and in a filtered export holding its report,
    not in one that leaves its report out (which never reads the other reports' cells)."""
    ingest_seeds(store)
    with store.engine.begin() as conn:
        doc, report, year = conn.execute(text(
            "SELECT rd.document_id, r.id, r.year FROM reports r JOIN report_documents rd ON rd.report_id = r.id "
            "WHERE rd.source ORDER BY r.id LIMIT 1")).one()
        conn.execute(text('INSERT INTO cells (document_id, "table", row_key, column_key, value, value_text, raw_text, '
                          "semantic) VALUES (:d, 'table3', 'new_received', 'zz_other', 4, '4', '4', 'number')"),
                     {"d": doc})
        other = conn.execute(text("SELECT MIN(year) FROM reports WHERE year <> :y"), {"y": year}).scalar()
    for name, filters, has in (("all", None, True), ("mine", Filters(years=(year,)), True),
                               ("other", Filters(years=(other,)), False)):
        export(store, tmp_path / name, filters=filters, parallel=False)
        rows = read(tmp_path / name / "table3.csv")
        assert rows and ("zz_other" in rows[0]) is has, name
        if has:
            mine = [r for r in rows if r["report_id"] == str(report) and r["row"] == "new_received"]
            assert [r["zz_other"] for r in mine] == ["4"]


def test_a_failure_in_the_cells_process_fails_the_export(store: Store, tmp_path: Path) -> None:
    """The second process cannot write cells.csv (a directory stands in its way): the export
    raises that error instead of describing a package without it."""
    full_store(store)
    (tmp_path / "out" / "cells.csv").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="cells.csv"):
        export(store, tmp_path / "out", parallel=True)
    assert not (tmp_path / "out" / "datapackage.json").exists()


def test_a_failure_of_the_export_stops_its_cells_process(store: Store, tmp_path: Path) -> None:
    """This process cannot write reports.csv: the export raises that error at once, and the
    process writing cells.csv is not left running."""
    import multiprocessing

    full_store(store)
    (tmp_path / "out" / "reports.csv").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="reports.csv"):
        export(store, tmp_path / "out", parallel=True)
    assert multiprocessing.active_children() == []


def test_frictionless_catches_a_broken_foreign_key_and_a_changed_file(store: Store, tmp_path: Path) -> None:
    """The validation is real: a cell pointing at a report that is not exported fails it, and so does
    any change of a file's bytes (the descriptor carries each file's SHA-256)."""
    ingest_seeds(store)
    out = tmp_path / "out"
    export(store, out)
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    lines = (broken / "cells.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = "999999" + lines[1][lines[1].index(","):]
    (broken / "cells.csv").write_text("".join(lines), encoding="utf-8")
    report = validate(broken)
    assert report["valid"] is False and report["returncode"] != 0
    kinds = {e.split(": ")[1] for e in errors(report)}
    assert {"foreign-key", "hash-count"} <= kinds


def test_numeric_columns_hold_numbers_and_codes_say_why(store: Store, tmp_path: Path) -> None:
    ingest_seeds(store)
    with store.engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text(
            'SELECT c.id FROM cells c JOIN documents d ON d.id = c.document_id WHERE d.url LIKE \'%/001_%\' '
            'AND "table" = \'table3\' AND row_key = \'granted\' ORDER BY c.id LIMIT 3'))]  # a one-document report
        conn.execute(text("UPDATE cells SET value = NULL, value_text = NULL, semantic = 'unreadable', "
                          "raw_text = '1?' WHERE id = :i"), {"i": ids[0]})
        conn.execute(text("UPDATE cells SET value = 0, value_text = '0', semantic = 'blank', raw_text = '' "
                          "WHERE id = :i"), {"i": ids[1]})
        conn.execute(text("UPDATE cells SET value = NULL, value_text = '251000元', semantic = 'number', "
                          "raw_text = '251000元' WHERE id = :i"), {"i": ids[2]})
    out = tmp_path / "out"
    export(store, out)
    cells = read(out / "cells.csv")
    for row in cells:
        if row["value"]:
            float(row["value"])  # numbers only
    codes = {row["value_code"] for row in cells}
    assert codes <= set(dictionary()["codes"]["value_code"]["values"])
    with store.engine.connect() as conn:
        got = {}
        for cid in ids:
            doc, t, r, c = conn.execute(text('SELECT document_id, "table", row_key, column_key FROM cells '
                                             'WHERE id = :i'), {"i": cid}).one()
            got[cid] = next(x for x in cells if (x["document_id"], x["table"], x["row"], x["column"])
                            == (str(doc), t, r, c))
    assert (got[ids[0]]["value"], got[ids[0]]["value_code"], got[ids[0]]["raw_text"]) == ("", "unreadable", "1?")
    assert (got[ids[1]]["value"], got[ids[1]]["value_code"]) == ("0", "blank")
    assert (got[ids[2]]["value"], got[ids[2]]["value_code"], got[ids[2]]["value_text"]) == ("", "text", "251000元")
    assert validate(out)["valid"] is True


def test_formula_like_text_is_neutralised_and_negative_numbers_are_not(store: Store, tmp_path: Path) -> None:
    """OWASP CSV injection: text starting with = + - @ tab or CR gets a leading ', numbers stay numbers."""
    from conftest import SEED_000

    evil = '=HYPERLINK("http://evil.example/","x")'
    store.add_document(evil, SEED_000.read_bytes())
    store.link()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET title = :t"), {"t": "@SUM(A1:A9)"})
        conn.execute(text("UPDATE cells SET value = -3, value_text = '-3', raw_text = '-3' "
                          "WHERE \"table\" = 'table2' AND row_key = 'regulations' AND column_key = 'issued'"))
        conn.execute(text("UPDATE cells SET raw_text = :r WHERE \"table\" = 'table3' AND row_key = 'new_received' "
                          "AND column_key = 'total'"), {"r": "\t+27"})
    out = tmp_path / "out"
    export(store, out)
    [doc] = read(out / "documents.csv")
    assert doc["url"] == "'" + evil and doc["title"] == "'@SUM(A1:A9)"
    assert read(out / "reports.csv")[0]["source_url"] == "'" + evil
    cells = {(c["table"], c["row"], c["column"]): c for c in read(out / "cells.csv")}
    issued = cells[("table2", "regulations", "issued")]
    assert (issued["value"], issued["raw_text"], issued["value_text"]) == ("-3", "'-3", "'-3")
    assert cells[("table3", "new_received", "total")]["raw_text"] == "'\t+27"
    t2 = {r["row"]: r for r in read(out / "table2.csv")}
    assert t2["regulations"]["issued"] == "-3"
    for path in out.glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8", newline="")):
            for value in row:
                if value[:1] in ("=", "+", "@", "\t", "\r"):
                    pytest.fail(f"{path.name}: unneutralised {value!r}")


def placed(store: Store) -> None:
    """Link placed the seed agencies itself (agency identity): division codes, levels and the
    parent governments, which exist as agencies without reports."""
    with store.engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(text(
            "SELECT a.name, a.division_code, a.level, p.name AS parent, "
            "(SELECT COUNT(*) FROM reports r WHERE r.agency_id = a.id) AS reports "
            "FROM agencies a LEFT JOIN agencies p ON p.id = a.parent_id"))}
    assert (rows["临淄区工业和信息化局"].division_code, rows["临淄区工业和信息化局"].level) == ("370305", "county")
    assert rows["临淄区工业和信息化局"].parent == "淄博市临淄区人民政府"
    assert rows["淄博市临淄区人民政府"].parent == "淄博市人民政府"
    assert (rows["淄博市人民政府"].division_code, rows["淄博市人民政府"].reports) == ("370300", 0)
    assert rows["烟台市莱山区人民政府办公室"].division_code == "370613"


@pytest.mark.parametrize(("filters", "agencies"), [
    (Filters(years=(2021,)), {"临淄区工业和信息化局"}),
    (Filters(agencies=("临淄",)), {"临淄区人民政府办公室", "临淄区工业和信息化局"}),
    (Filters(regions=("370300",)), {"临淄区人民政府办公室", "临淄区工业和信息化局"}),
    (Filters(regions=("37",), years=(2023,)), {"临淄区人民政府办公室", "烟台市莱山区人民政府办公室",
                                             "聊城市人民政府办公室"}),
    (Filters(regions=("淄博市",)), {"临淄区人民政府办公室", "临淄区工业和信息化局"}),
    (Filters(levels=("county",), regions=("3706", "淄博")), {"临淄区人民政府办公室", "临淄区工业和信息化局",
                                                           "烟台市莱山区人民政府办公室"}),
    (Filters(levels=("city",)), {"聊城市人民政府办公室"}),
    (Filters(levels=("province",)), set()),
])
def test_filters_select_reports_and_keep_the_package_consistent(
        store: Store, tmp_path: Path, filters: Filters, agencies: set[str]) -> None:
    ingest_seeds(store)
    placed(store)
    out = tmp_path / "out"
    export(store, out, filters=filters)
    reports = read(out / "reports.csv")
    assert {r["agency"] for r in reports} == agencies
    ids = {r["report_id"] for r in reports}
    assert {c["report_id"] for c in read(out / "cells.csv")} == ids
    assert {d["report_id"] for d in read(out / "documents.csv")} == ids
    assert {c["report_id"] for c in read(out / "checks.csv")} == ids
    exported_agencies = {a["name"] for a in read(out / "agencies.csv")}
    assert agencies <= exported_agencies  # plus their parent governments
    if agencies & {"临淄区人民政府办公室"}:
        assert "淄博市人民政府" in exported_agencies
    # each row is the whole export's row; checks: the chosen reports' and their agencies' series
    export(store, tmp_path / "whole")
    whole = {c["check_id"]: c for c in read(tmp_path / "whole" / "checks.csv")}
    chosen = {a["agency_id"] for a in read(out / "agencies.csv")}
    assert {c["check_id"]: c for c in read(out / "checks.csv")} == {
        i: c for i, c in whole.items() if c["report_id"] in ids or (c["scope"] == "series" and c["agency_id"] in chosen
                                                                     and c["report_id"] == "")}
    if not filters.years:  # (a year filter counts and names only those years)
        every = {a["agency_id"]: a for a in read(tmp_path / "whole" / "agencies.csv")}
        assert all(a == every[a["agency_id"]] for a in read(out / "agencies.csv"))
    report = validate(out)
    assert report["valid"] is True, errors(report)


def test_export_command_filters_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harvester.cli import app

    data = tmp_path / "data"
    with Store(f"sqlite:///{data / 'h.sqlite'}", data) as store:
        ingest_seeds(store)
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "out"), "--year", "2021", "--agency", "临淄",
                                      "--db", f"sqlite:///{data / 'h.sqlite'}", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert [r["agency"] for r in read(tmp_path / "out" / "reports.csv")] == ["临淄区工业和信息化局"]
    assert "datapackage.json" in result.output


# ------------------------------------------------------------------ views = CSV
def test_sql_views_hold_exactly_the_csv_numbers(store: Store, tmp_path: Path) -> None:
    full_store(store)
    out = tmp_path / "out"
    export(store, out)
    with store.engine.connect() as conn:
        summary = {str(r.report_id): r for r in conn.execute(text("SELECT * FROM report_summary"))}
        cells = {(str(r.report_id), r.table, r.row_key, r.column_key): r
                 for r in conn.execute(text("SELECT * FROM report_cells"))}
        failed = dict(conn.execute(text("SELECT report_id, SUM(CASE WHEN ok THEN 0 ELSE 1 END) FROM report_checks "
                                        "GROUP BY report_id")).all())
        coverage = [tuple("" if v is None else str(v) for v in r) for r in conn.execute(text(
            "SELECT agency_id, agency, year, status, report_id, failed_checks FROM coverage"))]
    reports = read(out / "reports.csv")
    assert len(reports) == len(summary) == 5  # the split pages join seed 000's report
    for r in reports:
        v = summary[r["report_id"]]
        assert (r["agency"], r["year"], r["documents"], r["failed_checks"], r["value_documents"], r["source_url"]) == \
            (v.agency, str(v.year), str(v.documents), str(v.failed_checks), v.value_documents or "", v.source_url)
        assert int(r["failed_checks"]) == (failed.get(int(r["report_id"])) or 0)
    csv_cells = read(out / "cells.csv")
    assert len(csv_cells) == len(cells)
    for c in csv_cells:
        v = cells[(c["report_id"], c["table"], c["row"], c["column"])]
        assert c["value"] == ("" if v.value is None else f"{v.value:g}")
        assert (c["value_text"], c["document_id"]) == (v.value_text or "", str(v.document_id))
    assert sorted(coverage) == sorted(
        (r["agency_id"], r["agency"], r["year"], r["status"], r["report_id"], r["failed_checks"])
        for r in read(out / "coverage.csv"))
    with store.engine.connect() as conn:
        assert stored_summary(conn) == grouped_summary(conn)
        counted = {str(i) for (i,) in conn.execute(text("SELECT check_id FROM report_checks"))}
    checks = read(out / "checks.csv")
    assert {c["check_id"] for c in checks if c["counts_for_report"] == "true"} == counted
    assert "document" in {c["scope"] for c in checks if c["counts_for_report"] == "false"}  # the mirror's


def test_report_cells_view_merges_like_link(store: Store) -> None:
    """The view is `harvester.link.merged_cells` in SQL: same cell, same document, for every key."""
    from harvester.link import merged_cells

    full_store(store)
    with store.session() as s:
        python = {(c.report_id, c.table, c.row_key, c.column_key): (c.document_id, c.value_text)
                  for c in merged_cells(s)}
        sql = {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in s.execute(text(
            'SELECT report_id, "table", row_key, column_key, document_id, value_text FROM report_cells'))}
    assert sql == python
    assert len({k[0] for k in sql}) == 5


def test_report_cells_view_takes_values_only_from_the_newest_publication_like_link(store: Store) -> None:
    """Revisions: an older publication (version 2) never gives a value, even where the newer one
    has none and even though the old ranking (most passed checks) preferred it; the view reads
    the version and rank link wrote."""
    from conftest import SEED_000
    from harvester.link import merged_cells
    from test_link import DATED, NEW_RECEIVED

    body = SEED_000.read_bytes()
    old = store.add_document("http://www.linzi.gov.cn/2024/a.txt", body + DATED.format(2024, 1, 18).encode()).document_id
    corrected = body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n"))
    new = store.add_document("http://www.linzi.gov.cn/2024/b.txt",
                             corrected + DATED.format(2024, 3, 1).encode()).document_id
    with store.engine.begin() as conn:  # a cell only the old publication printed
        conn.execute(text("UPDATE cells SET value = NULL, value_text = NULL, semantic = 'unreadable' "
                          "WHERE document_id = :d AND \"table\" = 'table3' AND row_key = 'granted' "
                          "AND column_key = 'total'"), {"d": new})
    store.link()
    with store.session() as s:
        python = {(c.table, c.row_key, c.column_key): (c.document_id, c.value_text) for c in merged_cells(s)}
        sql = {(r[0], r[1], r[2]): (r[3], r[4]) for r in s.execute(text(
            'SELECT "table", row_key, column_key, document_id, value_text FROM report_cells'))}
        ranks = dict(s.execute(text("SELECT document_id, version FROM document_rank")).all())
    assert ranks == {new: 1, old: 2}
    assert sql == python
    assert sql[("table3", "new_received", "natural_person")] == (new, "25")
    assert sql[("table3", "granted", "total")] == (new, None)
    assert {d for d, _ in sql.values()} == {new}


def test_views_survive_migrations_and_repeated_upgrades(db_url: str) -> None:
    """upgrade() drops every view, migrates and recreates ours: a database whose old views reference
    the tables a (SQLite batch) migration rebuilds still upgrades, and running it again changes nothing."""
    from alembic import command
    from sqlalchemy import inspect

    from harvester.db import session as db_session
    from harvester.db.views import VIEWS, drop_views

    db_session.upgrade(db_url)
    engine = db_session.make_engine(db_url)
    try:
        with engine.begin() as conn:
            drop_views(conn)
            cfg = db_session.alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
            conn.execute(text('CREATE VIEW old_cells AS SELECT id, "table", value FROM cells'))
        for _ in range(2):
            db_session._upgraded.discard(engine.url.render_as_string(hide_password=False))
            db_session.upgrade(db_url)
        names = set(inspect(engine).get_view_names())
        assert set(VIEWS) <= names and "old_cells" not in names
        assert db_session.current_revision(db_url) == db_session.head_revision()
        with engine.connect() as conn:
            for name in VIEWS:
                conn.execute(text(f'SELECT * FROM "{name}"')).all()
    finally:
        engine.dispose()


# ------------------------------------------------------------------ scale: no parameter per id
def bulk_reports(store: Store, n: int) -> None:
    """n one-document reports with a few cells each, written directly (fast)."""
    from datetime import datetime

    from harvester.link import summarize

    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies (id, name, normalized_name, level) VALUES (:i, :n, :n, 'district')"),
                     [{"i": i, "n": f"第{i}区人民政府办公室"} for i in range(1, n + 1)])
        conn.execute(text("INSERT INTO documents (id, url, sha256, fetched_at, media_type, agency_name, year) "
                          "VALUES (:i, :u, :h, :t, 'text/html', :n, 2023)"),
                     [{"i": i, "u": f"http://x.gov.cn/{i}.html", "h": f"{i:064x}", "t": now,
                       "n": f"第{i}区人民政府办公室"} for i in range(1, n + 1)])
        conn.execute(text("INSERT INTO reports (id, agency_id, year, template, canonical_document_id) "
                          "VALUES (:i, :i, 2023, '2021', :i)"), [{"i": i} for i in range(1, n + 1)])
        conn.execute(text("INSERT INTO report_documents (document_id, report_id) VALUES (:i, :i)"),
                     [{"i": i} for i in range(1, n + 1)])
        conn.execute(text('INSERT INTO cells (document_id, "table", row_key, column_key, value, value_text, '
                          "raw_text, semantic) VALUES (:d, 'table3', :r, 'total', :v, :t, :t, 'number')"),
                     [{"d": i, "r": r, "v": i % 7, "t": str(i % 7)} for i in range(1, n + 1)
                      for r in ("new_received", "carried_over")])
        conn.execute(text("INSERT INTO checks (document_id, scope, rule, \"where\", expected, found, ok) "
                          "VALUES (:d, 'document', 'table3.row_sum', 'new_received', '1', '1', :ok)"),
                     [{"d": i, "ok": i % 3 != 0} for i in range(1, n + 1)])
        if conn.dialect.name == "postgresql":
            for table in ("agencies", "documents", "reports"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"))
        summarize(conn, list(range(1, n + 1)))  # what link stores for the reports it writes


def test_export_and_reports_never_send_one_parameter_per_id(store: Store, tmp_path: Path) -> None:
    """PostgreSQL refuses more than 65,535 parameters in one statement: the export selects with SQL
    predicates and subqueries, and looks up a batch of reports' cells a chunk of ids at a time, so
    no statement's parameter count grows with the database."""
    from harvester.agency.store import CHUNK
    from harvester.export import report_rows

    bulk_reports(store, 1500)
    biggest = [0]

    @event.listens_for(store.engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        size = len(parameters) if isinstance(parameters, (dict, list, tuple)) and not executemany else 0
        biggest[0] = max(biggest[0], size)

    result = export(store, tmp_path / "all")
    assert result.files["reports.csv"] == 1500 and result.files["cells.csv"] == 3000
    filtered = export(store, tmp_path / "some", filters=Filters(years=(2023,), levels=("district",),
                                                                 agencies=("第1",)))
    assert filtered.files["reports.csv"] == len([i for i in range(1, 1501) if str(i).startswith("1")])
    with store.engine.connect() as conn:
        rows = list(report_rows(conn))
    assert len(rows) == 1500 and sum(r[5] for r in rows) == 500
    assert 0 < biggest[0] <= CHUNK + 2 < 1500


# ------------------------------------------------------------------ one definition: dictionary and rules
def test_every_rule_the_extractor_defines_is_described_once_in_the_dictionary() -> None:
    rules = defined_rules()
    assert {"table3.row_sum", "table3.column_sum", "table3.balance", "table4.row_sum", "table3.alignment",
            "table3.glued_ambiguous", "narrative.new_received", "narrative.denied"} <= set(rules)
    undescribed = [r for r in rules if rule_family(r) is None]
    assert undescribed == []
    used = {rule_family(r) for r in rules}
    assert {"table2.row_missing", "table3.unmatched_label", "series.carried_over", "series.gap"} <= set(rules)
    placeholders = {"series.*"}  # series rules found in a database but no longer defined here
    assert set(dictionary()["rules"]) - placeholders == used


def test_checks_in_the_database_are_all_in_the_glossary(store: Store, tmp_path: Path) -> None:
    full_store(store)
    with store.engine.begin() as conn:
        agency = conn.execute(text("SELECT MIN(id) FROM agencies")).scalar_one()
        conn.execute(text("INSERT INTO checks (scope, agency_id, rule, \"where\", expected, found, ok) VALUES "
                          "('series', :a, 'series.carried_forward', '2022→2023', '2', '3', false)"), {"a": agency})
    out = tmp_path / "out"
    export(store, out)
    glossary = {r["rule"]: r for r in read(out / "check_rules.csv")}
    checks = read(out / "checks.csv")
    assert {c["rule"] for c in checks} <= set(glossary)
    assert all(r["description"] != "(not described)" for r in glossary.values())
    [series] = [c for c in checks if c["scope"] == "series"]
    assert (series["agency_id"], series["ok"], series["counts_for_report"], series["report_id"]) == \
        (str(agency), "false", "false", "")
    assert glossary["series.carried_forward"]["family"] == "series.*"
    assert validate(out)["valid"] is True


def test_data_dictionary_markdown_is_generated_from_the_toml() -> None:
    md = DICTIONARY_PATH.with_suffix(".md")
    assert md.read_text(encoding="utf-8") == dictionary_markdown(), \
        "docs/data-dictionary.md is stale: run `python -m harvester.export --dictionary-md`"


def test_excel_export_with_a_byte_order_mark_is_a_valid_package_too(store: Store, tmp_path: Path) -> None:
    ingest_seeds(store)
    out = tmp_path / "bom"
    export(store, out, bom=True)
    assert (out / "reports.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert {r["encoding"] for r in json.loads((out / "datapackage.json").read_text())["resources"]} == {"utf-8-sig"}
    report = validate(out)
    assert report["valid"] is True, errors(report)
