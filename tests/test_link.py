"""link(): documents of one agency and year become one report with a canonical document."""
from __future__ import annotations

import pytest

from sqlalchemy import func, select

from harvester.db.models import Agency, AgencyAlias, CheckRow, Document, Report, ReportConflict, ReportDocument
from harvester.link import canonical_rank, link, normalize_agency
from harvester.store import Store

from conftest import SEED_000, SEEDS, grouped_summary, stored_summary
from datetime import UTC

CORRUPT_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nnot a pdf\x00\xff"
# seed 000's table 3 row 一、本年新收: 26 natural persons, 1 company, total 27
NEW_RECEIVED = b"\t26\n\t1\n\t0\n\t0\n\t0\n\t0\n\t27\n"


def snapshot(store: Store) -> dict:
    with store.session() as s:
        return {
            "agencies": s.execute(select(Agency.id, Agency.name, Agency.normalized_name).order_by(Agency.id)).all(),
            "reports": s.execute(select(Report.id, Report.agency_id, Report.year, Report.template,
                                        Report.canonical_document_id).order_by(Report.id)).all(),
            "members": s.execute(select(ReportDocument.document_id, ReportDocument.report_id)
                                 .order_by(ReportDocument.document_id)).all(),
            "conflicts": s.execute(select(ReportConflict.report_id, ReportConflict.document_id, ReportConflict.table,
                                          ReportConflict.row_key, ReportConflict.column_key,
                                          ReportConflict.canonical_value, ReportConflict.other_value)
                                   .order_by(ReportConflict.id)).all(),
        }


def test_two_copies_of_one_report_become_one_report_with_two_documents(store: Store) -> None:
    body = SEED_000.read_bytes()
    a = store.add_document("file:///reports/a/000.txt", body).document_id
    b = store.add_document("file:///reports/b/000.txt", body).document_id
    stats = link(store)
    assert (stats.reports, stats.linked, stats.multi_document_reports, stats.conflicts) == (1, 2, 1, 0)
    snap = snapshot(store)
    [(report_id, agency_id, year, template, canonical)] = snap["reports"]
    assert (year, template, canonical) == (2023, "2021", a)  # a tie goes to the lowest id
    assert snap["members"] == [(a, report_id), (b, report_id)]
    with store.session() as s:
        office = s.get(Agency, agency_id)
        chain = [office]
        while chain[-1].parent_id is not None:
            chain.append(s.get(Agency, chain[-1].parent_id))
        assert [(a.name, a.division_code, a.level) for a in chain] == [
            ("临淄区人民政府办公室", "370305", "county"), ("淄博市临淄区人民政府", "370305", "county"),
            ("淄博市人民政府", "370300", "city"), ("山东省人民政府", "370000", "province")]


def test_linking_again_changes_nothing(store: Store) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        store.add_document(path.as_uri(), path.read_bytes())
    store.add_document("http://mirror.example.gov.cn/000.txt", SEED_000.read_bytes())
    first = link(store)
    before = snapshot(store)
    second = link(store)
    assert snapshot(store) == before
    assert first.reports == second.reports == 5
    assert second.reports_created == 0 and first.reports_created == 5


def test_different_agencies_and_years_are_different_reports(store: Store) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        store.add_document(path.as_uri(), path.read_bytes())
    link(store)
    with store.session() as s:
        got = s.execute(select(Agency.name, Report.year).join(Report, Report.agency_id == Agency.id)
                        .order_by(Agency.name)).all()
    assert sorted(tuple(r) for r in got) == sorted([
        ("临淄区人民政府办公室", 2023), ("临汾市尧都区人民政府办公室", 2023), ("聊城市人民政府办公室", 2023),
        ("烟台市莱山区人民政府办公室", 2023), ("临淄区工业和信息化局", 2021)])


def test_attachment_without_agency_or_year_inherits_them_from_its_page(store: Store) -> None:
    page = store.add_document("http://www.linzi.gov.cn/art/2024/1/1/art_1.html", SEED_000.read_bytes()).document_id
    att = store.add_document("http://www.linzi.gov.cn/attach/report.pdf", CORRUPT_PDF,
                             parent_url="http://www.linzi.gov.cn/art/2024/1/1/art_1.html").document_id
    with store.session() as s:
        assert s.get(Document, att).agency_name is None and s.get(Document, att).year is None
    stats = link(store)
    assert stats.reports == 1 and stats.unlinked == 0
    snap = snapshot(store)
    [(report_id, *_rest, canonical)] = snap["reports"]
    assert canonical == page  # the page has the cells; the broken PDF has none
    assert snap["members"] == [(page, report_id), (att, report_id)]


def test_attachment_stored_before_its_page_is_linked_once_the_page_arrives(store: Store) -> None:
    att = store.add_document("http://www.linzi.gov.cn/attach/report.pdf", CORRUPT_PDF,
                             parent_url="http://www.linzi.gov.cn/detail.html").document_id
    assert link(store).unlinked == 1
    page = store.add_document("http://www.linzi.gov.cn/detail.html", SEED_000.read_bytes()).document_id
    stats = link(store)
    assert (stats.parents_resolved, stats.unlinked, stats.reports) == (1, 0, 1)
    with store.session() as s:
        assert s.get(Document, att).parent_document_id == page
        assert s.scalar(select(ReportDocument.report_id).where(ReportDocument.document_id == att)) is not None


def test_disagreeing_documents_are_recorded_as_conflicts(store: Store) -> None:
    body = SEED_000.read_bytes()
    assert body.count(NEW_RECEIVED) == 1
    good = store.add_document("http://www.linzi.gov.cn/a.html", body).document_id
    bad = store.add_document("http://www.linzi.gov.cn/a.txt",
                             body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n"))).document_id
    stats = link(store)
    assert stats.conflicts == 1
    snap = snapshot(store)
    [(report_id, *_rest, canonical)] = snap["reports"]
    assert canonical == good  # same number of cells; the copy fails the row-sum check
    assert snap["conflicts"] == [(report_id, bad, "table3", "new_received", "natural_person", "26", "25")]
    link(store)
    assert snapshot(store) == snap


def test_fetch_failures_are_never_linked(store: Store) -> None:
    store.add_document("http://www.linzi.gov.cn/down.pdf", None, fetch_error="timeout",
                       parent_url="http://www.linzi.gov.cn/detail.html")
    store.add_document("http://www.linzi.gov.cn/detail.html", SEED_000.read_bytes())
    stats = link(store)
    assert (stats.documents, stats.linked) == (1, 1)


def test_canonical_prefers_cells_then_passed_checks_then_pdf_then_lowest_id() -> None:
    html, pdf = "text/html", "application/pdf"
    assert min([(200, 1, html, 1), (199, 9, pdf, 2)], key=lambda d: canonical_rank(*d))[3] == 1
    assert min([(200, 1, html, 1), (200, 2, html, 2)], key=lambda d: canonical_rank(*d))[3] == 2
    assert min([(200, 2, html, 1), (200, 2, pdf, 2)], key=lambda d: canonical_rank(*d))[3] == 2
    assert min([(200, 2, pdf, 3), (200, 2, pdf, 2)], key=lambda d: canonical_rank(*d))[3] == 2


def test_agency_names_are_compared_after_nfkc_and_without_whitespace() -> None:
    assert normalize_agency(" 临淄区 人民政府\u3000办公室\n") == "临淄区人民政府办公室"
    assert normalize_agency("临淄区人民政府办公室（临淄区）") == normalize_agency("临淄区人民政府办公室(临淄区)")
    assert normalize_agency("  ") is None


def _seed_as(tmp_path, title_lines: str, year: int, name: str):
    text = (SEED_000.read_text(encoding="utf-8").replace("2023", str(year)).split("\n", 2)[2])
    path = tmp_path / name
    path.write_text(title_lines + "\n" + text, encoding="utf-8")
    return path


def test_agency_printed_with_and_without_its_city_is_one_agency_across_years(store, tmp_path):
    a = _seed_as(tmp_path, "临淄区人民政府办公室\n2022年政府信息公开工作年度报告", 2022, "a.txt")
    b = _seed_as(tmp_path, "淄博市临淄区人民政府办公室\n2023年政府信息公开工作年度报告", 2023, "b.txt")
    c = _seed_as(tmp_path, "山东省淄博市临淄区人民政府办公室\n2024年政府信息公开工作年度报告", 2024, "c.txt")
    for p in (a, b, c):
        store.add_document(p.as_uri(), p.read_bytes())
    store.link()
    with store.session() as s:
        agencies = s.execute(select(Agency.name).join(Report, Report.agency_id == Agency.id)).scalars().all()
    assert sorted(agencies) == ["山东省淄博市临淄区人民政府办公室"] * 3


def test_same_district_name_in_two_cities_stays_two_agencies_and_the_bare_name_a_third(store, tmp_path):
    for i, (title, year) in enumerate([("北京市朝阳区人民政府", 2021), ("长春市朝阳区人民政府", 2022),
                                       ("朝阳区人民政府", 2023)]):
        p = _seed_as(tmp_path, f"{title}\n{year}年政府信息公开工作年度报告", year, f"{i}.txt")
        store.add_document(p.as_uri(), p.read_bytes())
    store.link()
    with store.session() as s:
        names = s.execute(select(Agency.name).join(Report, Report.agency_id == Agency.id)).scalars().all()
    assert sorted(names) == ["北京市朝阳区人民政府", "朝阳区人民政府", "长春市朝阳区人民政府"]


# ---- incremental linking, stable ids, revisions, concurrency, scale ---------------------------

def _linked_at(store: Store) -> dict[int, object]:
    with store.session() as s:
        return dict(s.execute(select(Document.id, Document.linked_at)).all())


def test_link_touches_only_the_reports_whose_documents_changed(store, tmp_path):
    for path in sorted(SEEDS.glob("*.txt")):
        store.add_document(path.as_uri(), path.read_bytes())
    link(store)
    before, snap = _linked_at(store), snapshot(store)
    p = _seed_as(tmp_path, "临淄区人民政府办公室\n2022年政府信息公开工作年度报告", 2022, "2022.txt")
    new = store.add_document(p.as_uri(), p.read_bytes()).document_id
    stats = link(store)
    assert (stats.documents, stats.reports_touched, stats.reports_created, stats.reports) == (1, 1, 1, 6)
    after = _linked_at(store)
    assert {d: t for d, t in after.items() if d != new} == before  # nothing else was looked at
    assert snapshot(store)["reports"][:5] == snap["reports"]
    again = link(store)
    assert (again.documents, again.reports_touched) == (0, 0)
    assert store.reextract([new]) == 1
    assert link(store).documents == 1  # re-extracted: linked again


def test_report_id_survives_a_longer_name_variant_arriving_later(store, tmp_path):
    short = _seed_as(tmp_path, "临淄区人民政府办公室\n2023年政府信息公开工作年度报告", 2023, "a.txt")
    store.add_document(short.as_uri(), short.read_bytes())
    link(store)
    [(report_id, agency_id, *_)] = snapshot(store)["reports"]
    full = _seed_as(tmp_path, "山东省淄博市临淄区人民政府办公室\n2023年政府信息公开工作年度报告", 2023, "b.txt")
    store.add_document("http://www.zibo.gov.cn/b.txt", full.read_bytes())
    link(store)
    [(report_id2, agency_id2, *_)] = snapshot(store)["reports"]
    assert (report_id2, agency_id2) == (report_id, agency_id)
    with store.session() as s:
        agency = s.get(Agency, agency_id)
        aliases = sorted(s.scalars(select(AgencyAlias.name).where(AgencyAlias.agency_id == agency_id)))
    assert (agency.name, agency.identity_key) == ("山东省淄博市临淄区人民政府办公室", "370305:人民政府办公室")
    assert aliases == ["临淄区人民政府办公室", "山东省淄博市临淄区人民政府办公室"]
    assert link(store, full=True).reports_created == 0 and snapshot(store)["reports"][0][:2] == (report_id, agency_id)


def test_agency_created_before_identity_keys_keeps_its_id(store):
    with store.session() as s, s.begin():
        legacy = Agency(name="临淄区人民政府办公室", normalized_name="临淄区人民政府办公室")
        s.add(legacy)
        s.flush()
        report = Report(agency_id=legacy.id, year=2023)
        s.add(report)
        s.flush()
        ids = (legacy.id, report.id)
    store.add_document("file:///000.txt", SEED_000.read_bytes())
    link(store)
    [(report_id, agency_id, *_)] = snapshot(store)["reports"]
    assert (agency_id, report_id) == ids


DATED = "\n{}年{}月{}日\n"


def test_republished_report_with_changed_numbers_exports_the_newest_and_keeps_the_old(store):
    body = SEED_000.read_bytes()
    old = store.add_document("http://www.linzi.gov.cn/2024/a.txt",
                             body + DATED.format(2024, 1, 18).encode()).document_id
    link(store)
    [(report_id, *_)] = snapshot(store)["reports"]
    corrected = body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n"))
    new = store.add_document("http://www.linzi.gov.cn/2024/b.txt",
                             corrected + DATED.format(2024, 3, 1).encode()).document_id
    stats = link(store)
    assert stats.reports_created == 0
    with store.session() as s:
        members = s.execute(select(ReportDocument.document_id, ReportDocument.version, ReportDocument.rank)
                            .order_by(ReportDocument.rank)).all()
        assert [tuple(m) for m in members] == [(new, 1, 0), (old, 2, 1)]
        assert s.get(Report, report_id).canonical_document_id == new  # fewer passed checks, but newer
        from harvester.link import iter_merged_cells
        merged = {(c.table, c.row_key, c.column_key): c.value_text for c in iter_merged_cells(s, [report_id])}
        assert merged[("table3", "new_received", "natural_person")] == "25"
        conflicts = s.execute(select(ReportConflict.document_id, ReportConflict.row_key, ReportConflict.column_key,
                                     ReportConflict.canonical_value, ReportConflict.other_value,
                                     ReportConflict.kind)).all()
    assert [tuple(c) for c in conflicts] == [(old, "new_received", "natural_person", "25", "26", "revision")]
    with store.engine.connect() as conn:  # the older publication gives no value, its checks do not count
        summary = stored_summary(conn)
        assert summary == grouped_summary(conn)
    documents, checks, failed, failed_documents, values, sources = summary[report_id]
    assert (documents, failed_documents, values, sources) == (2, 0, str(new), {new})
    assert 0 < failed < checks  # the corrected 25 breaks its sums: the new publication's checks count


def test_same_url_fetched_again_with_other_bytes_is_the_newer_version(store):
    body = SEED_000.read_bytes()
    url = "http://www.linzi.gov.cn/art/2024/1/18/art_1.html"
    old = store.add_document(url, body).document_id
    link(store)
    new = store.add_document(url, body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n"))).document_id
    link(store)
    with store.session() as s:
        versions = dict(s.execute(select(ReportDocument.document_id, ReportDocument.version)).all())
        kinds = set(s.scalars(select(ReportConflict.kind)))
    assert versions == {new: 1, old: 2} and kinds == {"revision"}


def test_reading_conflicts_of_one_publication_are_marked_as_readings(store):
    body = SEED_000.read_bytes()
    store.add_document("http://www.linzi.gov.cn/a.html", body)
    changed = body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n"))
    store.add_document("http://www.linzi.gov.cn/a.txt", changed)
    link(store)
    with store.session() as s:
        assert set(s.scalars(select(ReportConflict.kind))) == {"reading"}
        assert set(s.scalars(select(ReportDocument.version))) == {1}


@pytest.mark.slow
def test_concurrent_link_processes_never_fail_on_a_unique_constraint(db_url, data_dir, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    with Store(db_url, data_dir) as store:
        for _i, path in enumerate(sorted(SEEDS.glob("*.txt"))):
            for copy in range(4):
                store.add_document(f"http://example.gov.cn/{copy}/{path.name}", path.read_bytes())
        for year in (2019, 2020, 2021, 2022):
            p = _seed_as(tmp_path, f"淄博市临淄区人民政府办公室\n{year}年政府信息公开工作年度报告", year, f"{year}.txt")
            store.add_document(p.as_uri(), p.read_bytes())
    harvester = Path(sys.executable).with_name("harvester")
    cmd = [str(harvester), "link", "--db", db_url, "--data-dir", str(data_dir)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e[-2000:] for _, e in outs]
    with Store(db_url, data_dir) as store:
        snap = snapshot(store)
        assert len(snap["reports"]) == 9 and len(snap["members"]) == 24
        assert link(store).documents == 0


def test_no_link_statement_carries_one_parameter_per_document(store):
    """PostgreSQL refuses more than 65,535 parameters in one statement: every id list is chunked,
    so the largest statement of a link does not grow with the number of documents."""
    from datetime import datetime

    from sqlalchemy import event, insert

    from harvester.agency.store import CHUNK

    n = 3 * CHUNK
    now = datetime.now(UTC)
    with store.session() as s, s.begin():
        s.execute(insert(Document), [
            dict(url=f"http://example.gov.cn/{i}.html", sha256=f"{i:064x}", fetched_at=now, extracted_at=now,
                 agency_name="临淄区人民政府办公室" if i % 2 else "淄博市临淄区工业和信息化局",
                 year=2010 + (i // 2) % 14, media_type="text/html",
                 parent_url=f"http://example.gov.cn/{i - 1}.html" if i % 3 == 0 else None) for i in range(n)])
    sizes: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        rows = parameters if executemany else [parameters]
        sizes.append(max((len(r) for r in rows), default=0))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        stats = link(store)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    # document 0 points at a page never stored
    assert (stats.documents, stats.linked, stats.reports, stats.parents_resolved) == (n, n, 28, n // 3 - 1)
    assert 0 < max(sizes) <= CHUNK + 2 < n  # a chunk of ids and a constant or two


def test_template_arithmetic_is_checked_on_the_reports_merged_numbers(store):
    body = SEED_000.read_bytes()
    store.add_document("http://www.linzi.gov.cn/a.html", body)
    bad = body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n"))
    store.add_document("http://www.linzi.gov.cn/b.txt", bad)
    stats = link(store)
    with store.session() as s:
        [report_id] = s.scalars(select(Report.id)).all()
        checks = s.scalars(select(CheckRow).where(CheckRow.scope == "report")).all()
        doc_failed = s.scalar(select(func.count()).select_from(CheckRow).where(CheckRow.scope == "document",
                                                                             CheckRow.ok.is_(False)))
    assert {c.report_id for c in checks} == {report_id} and all(c.document_id is None for c in checks)
    assert stats.report_checks == len(checks) > 0
    # the merged numbers come from the consistent reading: its row sums hold, the bad copy's do not
    assert [c.where for c in checks if not c.ok] == [] and doc_failed >= 1
    assert {"table3.row_sum", "table3.balance", "table4.row_sum"} <= {c.rule for c in checks}


def test_upgrade_from_0003_keeps_agencies_reports_and_their_ids(db_url, data_dir):
    """Migration 0004 rebuilds `agencies` on SQLite (to drop the UNIQUE on normalized_name) while
    reports and checks reference it; afterwards the first link adopts the old agency and report."""
    from sqlalchemy import text

    from harvester.db import session as db_session
    from harvester.db.session import make_engine, upgrade

    upgrade(db_url, "0003")
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO agencies (id, name, normalized_name) VALUES (41, '临淄区人民政府办公室', "
                       "'临淄区人民政府办公室'), (42, 'x', 'x')"))
        c.execute(text("UPDATE agencies SET parent_id = 41 WHERE id = 42"))
        c.execute(text("INSERT INTO reports (id, agency_id, year) VALUES (77, 41, 2023)"))
        c.execute(text("INSERT INTO checks (scope, agency_id, rule, ok) VALUES ('series', 41, 'r', true)"))
    engine.dispose()
    db_session._upgraded.discard(make_engine(db_url).url.render_as_string(hide_password=False))
    with Store(db_url, data_dir) as store:
        with store.session() as s:
            assert s.execute(select(Agency.id, Agency.parent_id).order_by(Agency.id)).all() == [(41, None), (42, 41)]
            assert s.scalar(select(func.count()).select_from(CheckRow)) == 1
        store.add_document("file:///000.txt", SEED_000.read_bytes())
        link(store)
        assert [tuple(r[:3]) for r in snapshot(store)["reports"]] == [(77, 41, 2023)]


def test_a_document_extracted_after_the_link_started_stays_pending_for_the_next_link(store, monkeypatch):
    """An extraction clears ``linked_at``; a link run that started before that extraction must
    not mark the new reading as linked (it read the old one)."""
    from datetime import datetime, timedelta

    import harvester.link as link_module

    doc = store.add_document("http://www.linzi.gov.cn/a.html", SEED_000.read_bytes()).document_id
    assert store.reextract([doc]) == 1
    with store.session() as s:
        extracted = s.scalar(select(Document.extracted_at).where(Document.id == doc))
    assert extracted is not None
    monkeypatch.setattr(link_module, "_now", lambda: extracted - timedelta(seconds=1))
    assert link(store).linked == 1
    assert _linked_at(store)[doc] is None  # still pending
    monkeypatch.setattr(link_module, "_now", lambda: datetime.now(UTC))
    assert link(store).documents == 1
    assert _linked_at(store)[doc] is not None and link(store).documents == 0


def test_a_nights_link_reads_no_large_table_whole(tmp_path):
    """A night's link costs in proportion to the night: every statement it runs on documents,
    cells, checks, report_documents or conflicts is an index lookup (SQLite's query plan), never
    a scan of the table, so a million stored reports cost it no more than a thousand."""
    from sqlalchemy import event

    big = {"documents", "cells", "checks", "report_documents", "report_conflicts", "agency_ambiguities"}
    with Store(f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path / "data") as store:
        for path in sorted(SEEDS.glob("*.txt")):
            store.add_document(path.as_uri(), path.read_bytes())
        link(store)
        p = _seed_as(tmp_path, "临淄区人民政府办公室\n2022年政府信息公开工作年度报告", 2022, "2022.txt")
        new = store.add_document(p.as_uri(), p.read_bytes()).document_id
        store.reextract([new])
        statements: list[tuple[str, object]] = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
                statements.append((statement, parameters[0] if executemany else parameters))

        event.listen(store.engine, "before_cursor_execute", keep)
        try:
            assert link(store).documents == 1
        finally:
            event.remove(store.engine, "before_cursor_execute", keep)
        scans = []
        with store.engine.connect() as conn:
            for statement, params in statements:
                raw = conn.connection.dbapi_connection
                for row in raw.execute("EXPLAIN QUERY PLAN " + statement, params or ()):
                    detail = row[-1]
                    if detail.startswith("SCAN ") and detail.split()[1] in big:
                        scans.append((detail, statement[:120]))
    assert len(statements) > 20
    assert scans == []


def test_upgrade_to_0008_leaves_documents_extracted_after_their_link_pending(db_url, data_dir):
    """Under the old rule a document re-extracted after its link (``linked_at < extracted_at``)
    was pending; the migration clears its ``linked_at`` so the new rule still finds it."""
    from sqlalchemy import text

    from harvester.db import session as db_session
    from harvester.db.session import make_engine, upgrade

    upgrade(db_url, "0007")
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO documents (id, url, fetched_at, extracted_at, linked_at) VALUES "
                       "(1, 'http://a.gov.cn/1', '2026-01-01', '2026-01-03', '2026-01-02'), "
                       "(2, 'http://a.gov.cn/2', '2026-01-01', '2026-01-02', '2026-01-03'), "
                       "(3, 'http://a.gov.cn/3', '2026-01-01', NULL, '2026-01-03')"))
    engine.dispose()
    db_session._upgraded.discard(make_engine(db_url).url.render_as_string(hide_password=False))
    with Store(db_url, data_dir) as store, store.session() as s:
        pending = dict(s.execute(select(Document.id, Document.linked_at.is_(None))).all())
    assert pending == {1: True, 2: False, 3: False}


def test_upgrade_to_0009_summarizes_the_reports_already_linked(db_url, data_dir):
    """A database linked before link stored summaries gets them from the migration, with link's
    own function: what a fresh link writes, and the grouping the old view did."""
    from alembic import command
    from sqlalchemy import inspect as sa_inspect

    from harvester.db import session as db_session
    from harvester.db.views import drop_views

    with Store(db_url, data_dir) as store:
        for i, path in enumerate(sorted(SEEDS.glob("*.txt"))):
            store.add_document(f"http://www.example.gov.cn/{i}/a.html", path.read_bytes())
            store.add_document(f"http://www.example.gov.cn/{i}/att.pdf", CORRUPT_PDF,
                               parent_url=f"http://www.example.gov.cn/{i}/a.html")
        link(store)
        with store.engine.connect() as conn:
            linked = stored_summary(conn)
    # downgraded the way upgrade() migrates (SQLite: foreign keys off while batch tables are rebuilt)
    engine = (db_session._transactional_sqlite_engine(db_url) if db_url.startswith("sqlite")
              else db_session.make_engine(db_url))
    with engine.begin() as conn:
        drop_views(conn)
        cfg = db_session.alembic_config(db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
        assert "value_documents" not in {c["name"] for c in sa_inspect(conn).get_columns("reports")}
    engine.dispose()
    db_session._upgraded.clear()
    with Store(db_url, data_dir) as store, store.engine.connect() as conn:
        assert db_session.current_revision(db_url) == db_session.head_revision()
        assert stored_summary(conn) == linked == grouped_summary(conn)
    assert len(linked) == 5 and all(e == 1 and c > 0 for _, c, _, e, _, _ in linked.values())


def test_a_link_in_small_segments_writes_what_one_pass_writes(store: Store, monkeypatch) -> None:
    """`link` holds one segment of pending documents, then one segment of touched reports, in
    memory. Segments of 3 documents and 2 reports cut reports, pages and their attachments
    apart; the result (reports, members, versions, conflicts, report and series checks,
    ambiguities, stats) is what one pass over everything writes."""
    import harvester.link as L
    from harvester.db.models import AgencyAmbiguity

    body = SEED_000.read_bytes()
    # stored before its page, which lands in the last segment
    store.add_document("http://www.example.gov.cn/early.pdf", CORRUPT_PDF, parent_url="http://www.example.gov.cn/last.html")
    for i, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        store.add_document(f"http://www.example.gov.cn/{i}/a.html", path.read_bytes())
        store.add_document(f"http://www.example.gov.cn/{i}/att.pdf", CORRUPT_PDF,
                           parent_url=f"http://www.example.gov.cn/{i}/a.html")
    store.add_document("http://www.linzi.gov.cn/b.txt",
                       body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t25\n")))
    store.add_document("http://www.linzi.gov.cn/b.txt",  # fetched again with other bytes: a revision
                       body.replace(NEW_RECEIVED, NEW_RECEIVED.replace(b"\t26\n", b"\t24\n")))
    store.add_document("http://www.linzi.gov.cn/2022.txt", body.replace("2023年".encode(), "2022年".encode()))
    store.add_document("http://www.example.gov.cn/bare.txt", body.replace("临淄区".encode(), "朝阳区".encode()))
    store.add_document("http://www.example.gov.cn/late.pdf", CORRUPT_PDF, parent_url="http://www.example.gov.cn/0/a.html")
    store.add_document("http://www.example.gov.cn/last.html", body.replace("2023年".encode(), "2020年".encode()))

    def state() -> dict:
        with store.session() as s:
            return {**snapshot(store),
                    "versions": s.execute(select(ReportDocument.document_id, ReportDocument.version,
                                                 ReportDocument.rank).order_by(ReportDocument.document_id)).all(),
                    "checks": s.execute(select(CheckRow.report_id, CheckRow.scope, CheckRow.rule, CheckRow.where,
                                               CheckRow.ok).where(CheckRow.report_id.is_not(None))
                                        .order_by(CheckRow.report_id, CheckRow.rule, CheckRow.where)).all(),
                    "ambiguities": s.execute(select(AgencyAmbiguity.document_id, AgencyAmbiguity.agency_id)
                                             .order_by(AgencyAmbiguity.document_id)).all(),
                    "parents": s.execute(select(Document.id, Document.parent_document_id).order_by(Document.id)).all()}

    monkeypatch.setattr(L, "SEGMENT", 3)
    monkeypatch.setattr(L, "REPORT_SEGMENT", 2)
    small = link(store).as_dict()
    segmented = state()
    monkeypatch.undo()
    whole = link(store, full=True).as_dict()
    assert state() == segmented
    assert segmented["checks"] and segmented["ambiguities"] and segmented["conflicts"]
    assert any(v > 1 for _, v, _ in segmented["versions"])
    # what only a first link does: create the reports, resolve the parent stored after its attachment
    first_only = ("reports_created", "parents_resolved")
    assert [small[k] for k in first_only] == [8, 1] and [whole[k] for k in first_only] == [0, 0]
    assert {k: v for k, v in small.items() if k not in first_only} == {
        k: v for k, v in whole.items() if k not in first_only}
    assert small["documents"] == len(segmented["parents"])
    with store.engine.connect() as conn:
        summary = stored_summary(conn)
        assert summary == grouped_summary(conn)
    assert any(e > 0 for _, _, _, e, _, _ in summary.values())  # the corrupt attachments
    assert any(f > 0 for _, _, f, _, _, _ in summary.values()) and any(n > 1 for n, *_ in summary.values())
