"""`ingest` and `extract` on hostile local folders: FIFOs, devices, huge files, symlinks out of
the folder, unreadable folders, missing paths. Each runs the real command in a subprocess with a
timeout, so a blocking read fails the test instead of hanging it."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from harvester.db.models import Document
from harvester.store import Store

from conftest import SEED_000, SEEDS

HARVESTER = Path(sys.executable).with_name("harvester")
SEED_001 = sorted(SEEDS.glob("001_*"))[0]


AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def run(args: list[str], *, as_nobody: bool = False, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [str(HARVESTER), *args]
    if as_nobody and os.geteuid() == 0:  # root reads any folder: drop to nobody to meet a real EACCES
        if subprocess.run([*AS_NOBODY, str(HARVESTER), "--help"], capture_output=True).returncode != 0:
            # a checkout under a private folder (mktemp -d is 0700): nobody cannot start the command
            pytest.skip(f"the user nobody cannot run {HARVESTER}: clone under a folder others may read")
        cmd = [*AS_NOBODY, *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """A temporary folder an unprivileged user can reach (pytest's own is private to root)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="harvester-inputs-"))
    path.chmod(0o755)
    yield path
    for p in path.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A folder with two real reports and everything that must not be read."""
    folder = tmp_path / "reports"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SEED_000, folder / "000.txt")
    shutil.copy(SEED_001, folder / "sub" / "001.txt")
    os.mkfifo(folder / "pipe.txt")  # a read would block forever
    os.symlink("/dev/zero", folder / "zero.txt")  # a symlink out of the folder, to an endless device
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours", encoding="utf-8")
    os.symlink(outside, folder / "secret-link.txt")
    os.symlink(folder / "000.txt", folder / "sub" / "inside-link.txt")  # stays inside: fine
    with open(folder / "huge.pdf", "wb") as fh:  # 8 GB, sparse: refused from its size, never read
        fh.truncate(8 * 1024**3)
    locked = folder / "locked"
    locked.mkdir()
    shutil.copy(SEED_000, locked / "hidden.txt")
    locked.chmod(0o000)
    return folder


def test_ingest_reads_only_regular_files_inside_the_folder_and_names_what_it_skipped(
        hostile: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = f"sqlite:///{data / 'h.sqlite'}"
    if os.geteuid() == 0:
        shutil.chown(data, "nobody", "nogroup")
    # (a path that does not exist is a usage error of its own: tests/test_cli_hygiene.py)
    proc = run(["ingest", str(hostile), "--data-dir", str(data), "--db", db, "--workers", "1"], as_nobody=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert "pipe.txt" in out and "not_a_regular_file" in out and "FIFO" in out
    assert "zero.txt" in out and "secret-link.txt" in out and "symlink_outside" in out
    assert "locked" in out and "unreadable_directory" in out
    assert "huge.pdf" in out and "too_large" in out and "8589934592 bytes" in out
    with Store(db, data) as store, store.session() as s:
        docs = {Path(d.url.removeprefix("file://")).name: d for d in s.scalars(select(Document))}
    # the two reports (the inside link resolves to 000.txt: the same URL, stored once) and the
    # too-large file, recorded with its error but never read
    assert set(docs) == {"000.txt", "001.txt", "huge.pdf"}
    assert docs["000.txt"].sha256 == hashlib.sha256(SEED_000.read_bytes()).hexdigest()
    assert docs["000.txt"].size == SEED_000.stat().st_size and docs["000.txt"].year == 2023
    assert docs["huge.pdf"].sha256 is None and "too_large" in docs["huge.pdf"].error_message
    assert not any("not yours" in (d.text or "") for d in docs.values())


def test_extract_never_blocks_on_a_fifo_and_goes_on_after_each_bad_path(hostile: Path) -> None:
    proc = run(["extract", "--json", str(hostile)], as_nobody=True)
    assert proc.returncode == 1  # some inputs failed: said at the end
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    errors = {Path(line["source"]).name: line["error"]["kind"] for line in lines if line["error"]}
    assert errors == {"pipe.txt": "not_a_regular_file", "zero.txt": "symlink_outside",
                      "secret-link.txt": "symlink_outside", "huge.pdf": "too_large",
                      "locked": "unreadable_directory"}
    good = {Path(line["source"]).name: line for line in lines if not line["error"]}
    assert set(good) == {"000.txt", "001.txt", "inside-link.txt"}
    assert good["000.txt"]["sha256"] == hashlib.sha256(SEED_000.read_bytes()).hexdigest()


def test_extract_refuses_a_device_named_on_the_command_line() -> None:
    proc = run(["extract", "--json", "/dev/zero", str(SEED_000)])
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["error"]["kind"] if line["error"] else None for line in lines] == ["not_a_regular_file", None]
    assert proc.returncode == 1


def test_streamed_archive_copy_hashes_as_it_goes_and_refuses_a_file_that_grew(tmp_path: Path) -> None:
    from harvester.archive import Archive

    archive = Archive(tmp_path / "data")
    body = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
    src = tmp_path / "f.bin"
    src.write_bytes(body)
    with open(src, "rb") as fh:
        sha, rel, size = archive.put_stream(fh)
    assert (sha, size) == (hashlib.sha256(body).hexdigest(), len(body))
    assert archive.get(rel) == body
    with open(src, "rb") as fh, pytest.raises(ValueError, match="more than"):
        archive.put_stream(fh, max_bytes=1024)
    assert [p.name for p in (tmp_path / "data" / "archive").rglob(".tmp-*")] == []
