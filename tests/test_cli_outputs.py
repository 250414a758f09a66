"""Listing commands share one output option (table / json / csv / tsv); reextract re-runs extraction offline."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from harvester.cli import app

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


def _ingest(db_url: str, data_dir: Path) -> list[str]:
    opts = ["--db", db_url, "--data-dir", str(data_dir)]
    result = CliRunner().invoke(app, ["ingest", *map(str, sorted(SEEDS.glob("*.txt"))), *opts])
    assert result.exit_code == 0, result.output
    return opts


def test_reports_lists_each_linked_report_in_every_output_format(db_url: str, data_dir: Path):
    opts = _ingest(db_url, data_dir)
    runner = CliRunner()
    lines = runner.invoke(app, ["reports", "--format", "json", *opts]).output.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 5
    linzi = next(r for r in rows if r["agency"] == "临淄区人民政府办公室")
    assert (linzi["year"], linzi["template"], linzi["documents"], linzi["checks_failed"]) == (2023, "2021", 1, 1)
    as_csv = list(csv.DictReader(io.StringIO(runner.invoke(app, ["reports", "-f", "csv", "--year", "2021", *opts]).output)))
    assert [r["agency"] for r in as_csv] == ["临淄区工业和信息化局"]
    table = runner.invoke(app, ["reports", *opts]).output
    assert "report_id" in table and "2023" in table


def test_reextract_rebuilds_cells_from_the_archive_and_adds_nothing(db_url: str, data_dir: Path):
    from sqlalchemy import func, select

    from harvester.db.models import Cell, Document, Report
    from harvester.store import Store

    opts = _ingest(db_url, data_dir)
    with Store(db_url, data_dir) as store, store.session() as s:
        before = [s.scalar(select(func.count()).select_from(m)) for m in (Document, Report, Cell)]
    result = CliRunner().invoke(app, ["reextract", "--all", *opts])
    assert result.exit_code == 0, result.output
    assert "re-extracted 5 documents" in result.output
    with Store(db_url, data_dir) as store, store.session() as s:
        assert [s.scalar(select(func.count()).select_from(m)) for m in (Document, Report, Cell)] == before
        assert before[2] == 5 * 200  # every template cell, the undetermined ones as null


def test_reextract_redoes_only_documents_of_an_older_extractor_version_unless_all(db_url: str, data_dir: Path):
    from sqlalchemy import select, update

    from harvester.db.models import Document
    from harvester.extract import EXTRACTOR_VERSION
    from harvester.store import Store

    opts = _ingest(db_url, data_dir)
    runner = CliRunner()
    assert "re-extracted 0 documents" in runner.invoke(app, ["reextract", *opts]).output
    with Store(db_url, data_dir) as store, store.session() as s, s.begin():
        ids = list(s.scalars(select(Document.id).order_by(Document.id)))[:2]
        s.execute(update(Document).where(Document.id.in_(ids)).values(extractor_version=EXTRACTOR_VERSION - 1))
    result = runner.invoke(app, ["reextract", *opts])
    assert "re-extracted 2 documents" in result.output, result.output
    with Store(db_url, data_dir) as store, store.session() as s:
        assert set(s.scalars(select(Document.extractor_version))) == {EXTRACTOR_VERSION}
    assert "re-extracted 0 documents" in runner.invoke(app, ["reextract", *opts]).output
