"""`harvester ingest` and `harvester link` through the real command line."""
from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from harvester.cli import app
from harvester.db.models import CrawlRun, Document, Report, ReportDocument
from harvester.db.session import head_revision
from harvester.store import Store

from conftest import SEED_000, SEEDS

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def count(db_url: str, data_dir: Path, model) -> int:
    with Store(db_url, data_dir) as store, store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_ingesting_a_folder_twice_adds_nothing_the_second_time(db_url: str, data_dir: Path) -> None:
    first = run("ingest", str(SEEDS), "--data-dir", str(data_dir), "--db", db_url)
    assert "ingest" in first.output
    docs = count(db_url, data_dir, Document)
    assert docs == 6  # five seeds and the README (stored as not-a-report)
    run("ingest", str(SEEDS), "--data-dir", str(data_dir), "--db", db_url)
    assert count(db_url, data_dir, Document) == docs
    assert count(db_url, data_dir, Report) == 5
    assert count(db_url, data_dir, CrawlRun) == 2


def test_ingested_files_are_stored_as_file_uris_of_their_resolved_path(db_url: str, data_dir: Path,
                                                                       tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(SEEDS)
    run("ingest", SEED_000.name, "--data-dir", str(data_dir), "--db", db_url)
    with Store(db_url, data_dir) as store, store.session() as s:
        assert list(s.scalars(select(Document.url))) == [SEED_000.resolve().as_uri()]


def test_two_copies_at_different_paths_link_to_one_report(db_url: str, data_dir: Path, tmp_path: Path) -> None:
    for sub in ("a", "b/nested"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        shutil.copy(SEED_000, tmp_path / "in" / sub / SEED_000.name)
    run("ingest", str(tmp_path / "in"), "--data-dir", str(data_dir), "--db", db_url)
    with Store(db_url, data_dir) as store, store.session() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1
        assert s.scalar(select(func.count()).select_from(ReportDocument)) == 2


def test_a_corrupt_file_is_recorded_and_the_run_goes_on(db_url: str, data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "0_broken.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\ngarbage that is no pdf\n")
    (folder / "1_empty.doc").write_bytes(b"")
    shutil.copy(SEED_000, folder / "2_report.txt")
    result = run("ingest", str(folder), "--data-dir", str(data_dir), "--db", db_url)
    assert "0_broken.pdf" in result.output
    with Store(db_url, data_dir) as store, store.session() as s:
        rows = s.execute(select(Document.url, Document.error_kind).order_by(Document.url)).all()
        assert [Path(u).name for u, _ in rows] == ["0_broken.pdf", "1_empty.doc", "2_report.txt"]
        assert rows[0][1] is not None and rows[1][1] is not None and rows[2][1] is None
        assert s.scalar(select(func.count()).select_from(Report)) == 1


def test_link_command_reports_its_counts_and_is_idempotent(db_url: str, data_dir: Path) -> None:
    run("ingest", str(SEEDS), "--data-dir", str(data_dir), "--db", db_url)
    out1 = run("link", "--data-dir", str(data_dir), "--db", db_url).output
    out2 = run("link", "--data-dir", str(data_dir), "--db", db_url).output
    assert "reports: 5" in out1 and out1 == out2


def test_export_command_writes_the_csv_files(db_url: str, data_dir: Path, tmp_path: Path) -> None:
    run("ingest", str(SEEDS), "--data-dir", str(data_dir), "--db", db_url)
    run("export", "--out", str(tmp_path / "out"), "--bom", "--data-dir", str(data_dir), "--db", db_url)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["agencies.csv", "cells.csv", "check_rules.csv", "checks.csv", "codebook.csv", "conflicts.csv",
                     "coverage.csv", "datapackage.json", "documents.csv", "reports.csv", "table2.csv", "table3.csv",
                     "table4.csv"]
    assert (tmp_path / "out" / "reports.csv").read_bytes().startswith(b"\xef\xbb\xbfreport_id,agency,")


def test_db_upgrade_command_brings_a_new_database_to_head(db_url: str, data_dir: Path) -> None:
    out = run("db", "upgrade", "--data-dir", str(data_dir), "--db", db_url).output
    assert head_revision() in out
    assert run("db", "current", "--data-dir", str(data_dir), "--db", db_url).output.strip() == head_revision()
