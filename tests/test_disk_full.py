"""A full disk makes the run fail loudly: non-zero exit and the count of documents not stored.
The data directory is a real 128 kB tmpfs (mounted by the test as root), the database elsewhere."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from harvester.db.models import Document
from portal_server import PORTALS, REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def stored(db: str) -> int:
    engine = create_engine(db)
    try:
        with Session(engine) as s:
            return s.scalar(select(func.count()).select_from(Document).where(Document.sha256.is_not(None)))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_crawl_onto_a_full_disk_exits_non_zero_and_counts_what_was_not_stored(tiny_disk: Path,
                                                                                tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    with serve() as srv:
        proc = subprocess.run([str(HARVESTER), "crawl", "linzi-zfxxgknb", "--registry", str(REGISTRY),
                               "--data-dir", str(tiny_disk), "--db", db,
                               *[a for e in srv.host_map() for a in ("--host-map", e)]],
                              capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert "documents not stored" in proc.stderr and "disk_full" in proc.stderr
    assert "disk full" in proc.stderr  # the pipeline's log line, with the errno text
    assert not list(tiny_disk.rglob(".tmp-*"))  # no half-written archive file left behind


@pytest.mark.slow
def test_an_ingest_onto_a_full_disk_exits_non_zero_and_counts_the_files_not_stored(tiny_disk: Path,
                                                                                   tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    folder = PORTALS / "linzi-zfxxgknb"  # 500 kB of pages, PDFs and a DOCX
    files = [p for p in folder.rglob("*") if p.is_file() and not any(x.startswith(".") for x in p.parts)]
    proc = subprocess.run([str(HARVESTER), "ingest", str(folder), "--data-dir", str(tiny_disk), "--db", db],
                          capture_output=True, text=True, timeout=240, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    not_stored = int(proc.stderr.split("disk full, ")[1].split(" files not stored")[0])
    assert not_stored >= 1
    assert stored(db) + not_stored == len(files)  # every file is either stored or counted
    assert not list(tiny_disk.rglob(".tmp-*"))
