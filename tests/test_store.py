"""Store.add_document: archive, idempotence, extraction results and errors in the database."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from harvester.db.models import Cell, CheckRow, CrawlRun, Document, ExtractionErrorRow, Portal
from harvester.extract import extract
from harvester.link import link
from harvester.store import Store

from conftest import SEED_000, SEEDS

CORRUPT_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf at all\x00\xff\xfe"


def count(store: Store, model, *where) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def cells_of(store: Store, doc_id: int) -> dict[tuple[str, str, str], Cell]:
    with store.session() as s:
        return {(c.table, c.row_key, c.column_key): c
                for c in s.scalars(select(Cell).where(Cell.document_id == doc_id))}


def test_stored_document_holds_the_extracted_record(store: Store) -> None:
    body = SEED_000.read_bytes()
    record = extract(body, source="file:///seed000.txt")
    result = store.add_document("file:///seed000.txt", body)
    assert result.created
    with store.session() as s:
        doc = s.get(Document, result.document_id)
        assert (doc.agency_name, doc.year, doc.template) == ("临淄区人民政府办公室", 2023, "2021")
        assert (doc.title, doc.media_type, doc.sha256) == (record.title, record.media_type, record.sha256)
        assert doc.size == len(body) and doc.error_kind is None and doc.extracted_at is not None
        assert doc.text == record.text
        checks = s.execute(select(CheckRow.rule, CheckRow.where, CheckRow.ok)
                           .where(CheckRow.document_id == doc.id).order_by(CheckRow.id)).all()
    assert [tuple(c) for c in checks] == [(c.rule, c.where, c.ok) for c in record.checks]

    stored = cells_of(store, result.document_id)
    assert len(stored) == len(record.cells) > 100
    for c in record.cells:
        row = stored[(c.table, c.row, c.column)]
        assert (row.value_text, row.raw_text, row.semantic) == (None if c.value is None else str(c.value), c.raw,
                                                                c.semantic)
    assert stored[("table3", "new_received", "total")].value == 27
    assert stored[("table3", "carried_forward", "total")].value == 2
    assert stored[("table4", "review", "pending")].value == 2


def test_raw_bytes_are_archived_under_their_sha256(store: Store, data_dir: Path) -> None:
    body = SEED_000.read_bytes()
    result = store.add_document("http://example.gov.cn/a.txt", body)
    with store.session() as s:
        doc = s.get(Document, result.document_id)
    sha = doc.sha256
    assert doc.raw_path == f"archive/{sha[:2]}/{sha[2:4]}/{sha}"
    assert (data_dir / doc.raw_path).read_bytes() == body


def test_same_url_and_bytes_twice_adds_nothing(store: Store, data_dir: Path) -> None:
    body = SEED_000.read_bytes()
    first = store.add_document("http://example.gov.cn/a.txt", body)
    n_cells = count(store, Cell)
    second = store.add_document("http://example.gov.cn/a.txt", body)
    assert (second.document_id, second.created) == (first.document_id, False)
    assert count(store, Document) == 1
    assert count(store, Cell) == n_cells
    assert len([p for p in (data_dir / "archive").rglob("*") if p.is_file()]) == 1


def test_same_bytes_at_another_url_or_new_bytes_at_same_url_are_new_documents(store: Store) -> None:
    body = SEED_000.read_bytes()
    a = store.add_document("http://example.gov.cn/a.txt", body)
    b = store.add_document("http://mirror.example.gov.cn/a.txt", body)
    c = store.add_document("http://example.gov.cn/a.txt", body + b"\n")
    assert a.created and b.created and c.created
    assert len({a.document_id, b.document_id, c.document_id}) == 3


def test_corrupt_file_is_stored_with_its_error_and_the_next_one_goes_on(store: Store) -> None:
    bad = store.add_document("http://example.gov.cn/broken.pdf", CORRUPT_PDF)
    good = store.add_document("http://example.gov.cn/ok.txt", SEED_000.read_bytes())
    with store.session() as s:
        doc = s.get(Document, bad.document_id)
        assert doc.media_type == "application/pdf"
        assert doc.error_kind and doc.error_message
        errors = s.execute(select(ExtractionErrorRow.kind, ExtractionErrorRow.message)
                           .where(ExtractionErrorRow.document_id == doc.id)).all()
        assert [tuple(e) for e in errors] == [(doc.error_kind, doc.error_message)]
        assert s.get(Document, good.document_id).error_kind is None
    assert count(store, Cell, Cell.document_id == bad.document_id) == 0
    assert count(store, Cell, Cell.document_id == good.document_id) > 0


def test_fetch_error_without_body_is_a_document_with_error_kind_fetch(store: Store) -> None:
    first = store.add_document("http://example.gov.cn/down.pdf", None, http_status=500,
                               fetch_error="HTTP 500 Internal Server Error")
    again = store.add_document("http://example.gov.cn/down.pdf", None, http_status=500,
                               fetch_error="HTTP 500 Internal Server Error")
    assert first.created and not again.created and again.document_id == first.document_id
    with store.session() as s:
        doc = s.get(Document, first.document_id)
        assert (doc.error_kind, doc.error_message, doc.http_status) == ("fetch", "HTTP 500 Internal Server Error",
                                                                        500)
        assert doc.sha256 is None and doc.raw_path is None
        assert s.scalar(select(ExtractionErrorRow.kind).where(ExtractionErrorRow.document_id == doc.id)) == "fetch"


def test_error_status_page_is_archived_but_not_extracted(store: Store, data_dir: Path) -> None:
    result = store.add_document("http://example.gov.cn/gone.txt", SEED_000.read_bytes(), http_status=404)
    with store.session() as s:
        doc = s.get(Document, result.document_id)
    assert (doc.error_kind, doc.error_message) == ("fetch", "HTTP 404")
    assert (data_dir / doc.raw_path).is_file()
    assert count(store, Cell) == 0


def test_attachment_points_to_the_page_it_was_linked_from(store: Store) -> None:
    page = store.add_document("http://example.gov.cn/detail.html", SEED_000.read_bytes())
    pdf = store.add_document("http://example.gov.cn/att.pdf", CORRUPT_PDF,
                             parent_url="http://example.gov.cn/detail.html", portal_id="zibo")
    with store.session() as s:
        doc = s.get(Document, pdf.document_id)
        assert doc.parent_document_id == page.document_id
        assert doc.portal_id == "zibo" and s.get(Portal, "zibo") is not None


def test_batch_resolves_parents_stored_before_and_earlier_in_the_same_batch(store: Store) -> None:
    """One batch (the crawl's unit of work): a page already in the database, a page redirected to
    its final URL and an attachment of each, in one transaction; the same bytes twice in the batch
    are one document."""
    from harvester.store import Fetched

    old = store.add_document("http://example.gov.cn/old.html", b"old page")
    base = "http://example.gov.cn"
    results = store.add_documents([
        Fetched(f"{base}/a.pdf", b"attachment of the old page", parent_url=f"{base}/old.html"),
        Fetched(f"{base}/new.html", b"new page", final_url=f"{base}/new/index.html"),
        Fetched(f"{base}/b.pdf", b"attachment of the new page", parent_url=f"{base}/new/index.html"),
        Fetched(f"{base}/b.pdf", b"attachment of the new page", parent_url=f"{base}/new/index.html"),
        Fetched(f"{base}/c.pdf", b"linked from nowhere stored", parent_url=f"{base}/missing.html"),
        Fetched(f"{base}/down.pdf", None, http_status=503),
    ])
    assert [r.created for r in results] == [True, True, True, False, True, True]
    assert results[3].document_id == results[2].document_id
    with store.session() as s:
        parent = {r.document_id: s.get(Document, r.document_id).parent_document_id for r in results}
        down = s.get(Document, results[5].document_id)
        assert (down.error_kind, down.error_message) == ("fetch", "HTTP 503")
        assert s.scalar(select(ExtractionErrorRow.kind).where(ExtractionErrorRow.document_id == down.id)) == "fetch"
    assert parent[results[0].document_id] == old.document_id
    assert parent[results[2].document_id] == results[1].document_id
    assert parent[results[4].document_id] is None
    assert len({r.document_id for r in results}) == 5


def test_runs_and_portals_are_recorded(store: Store) -> None:
    store.ensure_portal("linzi", name="临淄区人民政府", level="county", start_urls=["http://www.linzi.gov.cn/"])
    store.ensure_portal("linzi", cms="trs")
    run_id = store.start_run("crawl", ["linzi"])
    store.add_document("http://www.linzi.gov.cn/a.txt", SEED_000.read_bytes(), run_id=run_id, portal_id="linzi")
    store.finish_run(run_id, {"documents_new": 1})
    with store.session() as s:
        portal = s.get(Portal, "linzi")
        assert (portal.name, portal.level, portal.cms, portal.start_urls) == (
            "临淄区人民政府", "county", "trs", ["http://www.linzi.gov.cn/"])
        run = s.get(CrawlRun, run_id)
        assert (run.kind, run.portals, run.stats) == ("crawl", ["linzi"], {"documents_new": 1})
        assert run.finished_at is not None
        assert s.scalar(select(Document.crawl_run_id)) == run_id


def test_reextract_rebuilds_cells_from_the_archive(store: Store) -> None:
    doc_id = store.add_document("http://example.gov.cn/a.txt", SEED_000.read_bytes()).document_id
    before = {k: (c.value_text, c.semantic) for k, c in cells_of(store, doc_id).items()}
    with store.session() as s, s.begin():
        s.query(Cell).filter(Cell.document_id == doc_id).delete()
        s.get(Document, doc_id).year = None
    assert store.reextract() == 1
    assert {k: (c.value_text, c.semantic) for k, c in cells_of(store, doc_id).items()} == before
    with store.session() as s:
        assert s.get(Document, doc_id).year == 2023


def test_every_seed_is_stored_without_error(store: Store) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        store.add_document(path.resolve().as_uri(), path.read_bytes())
    assert count(store, Document) == 5
    assert count(store, Document, Document.error_kind.is_not(None)) == 0


def test_a_failed_refetch_of_the_page_does_not_become_the_attachments_parent(store: Store) -> None:
    """The parent is the newest *fetched* version of the page the link was read from, in the
    crawl's store and in `link` alike (`harvester.db.queries.newest_pages`): a later attempt at
    the page that failed (503) holds no links."""
    from harvester.store import Fetched

    base = "http://example.gov.cn"
    page = store.add_document(f"{base}/list.html", b"list page")
    [failed] = store.add_documents([Fetched(f"{base}/list.html", None, http_status=503)])
    [late] = store.add_documents([Fetched(f"{base}/late.html", b"page stored later", final_url=f"{base}/moved.html")])
    [att] = store.add_documents([Fetched(f"{base}/a.pdf", b"attachment", parent_url=f"{base}/list.html")])
    orphans = [store.add_document(f"{base}/{name}.pdf", b"attachment of " + name.encode(), parent_url=f"{base}/{parent}")
               for name, parent in (("b", "list.html"), ("c", "moved.html"))]
    with store.session() as s:
        assert failed.document_id > page.document_id
        assert s.get(Document, att.document_id).parent_document_id == page.document_id
        # as if the attachments were stored before their pages: `link` resolves them
        s.execute(update(Document).where(Document.id.in_([o.document_id for o in orphans]))
                  .values(parent_document_id=None))
        s.commit()
    stats = link(store)
    with store.session() as s:
        assert [s.get(Document, o.document_id).parent_document_id for o in orphans] == [
            page.document_id, late.document_id]
    assert stats.parents_resolved == 2
