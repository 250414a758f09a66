"""The content-addressed archive never writes outside the data directory."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harvester.archive import Archive, ArchivePathError
from harvester.store import Store

from conftest import SEED_000


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "data")
    sha, rel = archive.put(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert rel == f"archive/{sha[:2]}/{sha[2:4]}/{sha}"
    assert archive.put(b"hello") == (sha, rel)
    assert files_under(tmp_path) == {tmp_path / "data" / rel}
    assert archive.get(rel) == b"hello"


@pytest.mark.parametrize("rel", ["../outside", "archive/../../outside", "/etc/passwd", "archive/../harvester.sqlite"])
def test_paths_outside_the_archive_are_refused(tmp_path: Path, rel: str) -> None:
    with pytest.raises(ArchivePathError):
        Archive(tmp_path / "data").resolve(rel)


def test_only_hex_digests_make_archive_paths() -> None:
    with pytest.raises(ArchivePathError):
        Archive.relative_path("../../" + "a" * 58)


@pytest.mark.parametrize("url", [
    "file:///../../../../../tmp/evil.txt",
    "http://example.gov.cn/../../../../etc/passwd",
    "http://example.gov.cn/%2e%2e/%2e%2e/evil.pdf",
    "../../evil.txt",
])
def test_path_traversal_like_source_names_write_only_inside_the_data_dir(db_url: str, tmp_path: Path,
                                                                          url: str) -> None:
    data_dir = tmp_path / "data"
    outside_before = files_under(tmp_path) - files_under(data_dir) if data_dir.exists() else files_under(tmp_path)
    with Store(db_url, data_dir) as store:
        store.add_document(url, SEED_000.read_bytes(), parent_url="../../parent")
    outside_after = {p for p in files_under(tmp_path) if not p.is_relative_to(data_dir)}
    # the SQLite test database lives beside the data dir on purpose; nothing else may appear
    new = {p for p in outside_after - outside_before if not p.name.startswith("harvester.sqlite")}
    assert new == set()
    assert not Path("/tmp/evil.txt").exists()
    archived = [p for p in files_under(data_dir) if p.is_relative_to(data_dir / "archive")]
    assert len(archived) == 1 and archived[0].name == hashlib.sha256(SEED_000.read_bytes()).hexdigest()
