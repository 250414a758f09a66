"""The store and extract stages apart: documents stored pending, extracted by `extract-pending` on a
process pool with the extractor version recorded; archived bytes checked against their SHA-256."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from harvester.cli import app
from harvester.db.models import Cell, Document, ExtractionErrorRow
from harvester.extract import EXTRACTOR_VERSION
from harvester.store import Store

from conftest import SEEDS


def test_extract_pending_on_two_workers_extracts_each_pending_document_once(db_url: str, data_dir: Path) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    with Store(db_url, data_dir) as store:
        for p in seeds:
            assert store.add_document(p.as_uri(), p.read_bytes(), extract=False).created
        assert len(store.documents_to_extract("pending")) == len(seeds)
    opts = ["--db", db_url, "--data-dir", str(data_dir)]
    result = CliRunner().invoke(app, ["extract-pending", "--workers", "2", *opts])
    assert result.exit_code == 0, result.output
    assert f"extracted {len(seeds)} documents on 2 workers" in result.output
    again = CliRunner().invoke(app, ["extract-pending", "--workers", "2", *opts])
    assert "extracted 0 documents" in again.output
    with Store(db_url, data_dir) as store, store.session() as s:
        assert set(s.scalars(select(Document.extractor_version))) == {EXTRACTOR_VERSION}
        assert s.query(Cell).count() == 200 * len(seeds)


def test_archived_bytes_that_no_longer_match_their_sha256_are_a_recorded_error(db_url: str, data_dir: Path) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    with Store(db_url, data_dir) as store:
        doc_id = store.add_document(seed.as_uri(), seed.read_bytes(), extract=False).document_id
        with store.session() as s:
            raw_path = s.get(Document, doc_id).raw_path
        target = data_dir / raw_path
        target.write_bytes(target.read_bytes().replace("政府".encode(), "政务".encode(), 1))  # one flipped word
        stats = store.extract_pending(1)
        assert (stats.extracted, stats.archive_errors) == (0, 1)
        with store.session() as s:
            doc = s.get(Document, doc_id)
            assert doc.error_kind == "archive_corrupt" and doc.sha256 in doc.error_message
            assert [e.kind for e in s.scalars(select(ExtractionErrorRow).where(
                ExtractionErrorRow.document_id == doc_id))] == ["archive_corrupt"]
            assert s.query(Cell).count() == 0  # nothing read from damaged bytes
    result = CliRunner().invoke(app, ["reextract", "--all", "--db", db_url, "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "1 archive errors" in result.output
