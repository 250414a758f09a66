"""Content-addressed store of raw bytes: ``<data_dir>/archive/ab/cd/<sha256>``.

Paths are derived from the SHA-256 of the content only, never from a URL or a
file name, so nothing a portal serves can choose where a file lands. Writes go to
a temporary file in the target directory and are renamed into place (atomic on
one filesystem); storing the same bytes twice is a no-op. Reading back checks the
bytes against their digest (`ArchiveCorrupt` on a mismatch).

The store only talks to the small `ArchiveBackend` interface (put, put_file, get,
sync), so a shared folder or an object store can replace the local folder when several
machines crawl into one database: the relative path ``archive/ab/cd/<sha256>`` is the key.

Durability: ``put(data, durable=False)`` skips the per-file fsync; the caller then calls
`sync()` once per batch before committing the rows that point at those files (the crawl
pipeline does so), so a crash never leaves a database row whose bytes were not on disk.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO, Protocol

from harvester.errors import HarvesterError

_HEX64 = re.compile(r"[0-9a-f]{64}")
CHUNK = 1024 * 1024


class ArchivePathError(ValueError):
    """A path that is not a well-formed archive path inside the data directory."""


class ArchiveCorrupt(HarvesterError):
    """Archived bytes whose SHA-256 no longer matches their name (disk or copy damage)."""

    kind = "archive_corrupt"


class ArchiveBackend(Protocol):
    def put(self, data: bytes, *, durable: bool = True) -> tuple[str, str]: ...

    def put_stream(self, fh: BinaryIO, *, max_bytes: int | None = None,
                   durable: bool = True) -> tuple[str, str, int]: ...

    def get(self, relative: str) -> bytes: ...

    def sync(self) -> None: ...


class Archive:
    """The local-folder backend (the default)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.root = self.data_dir / "archive"
        self._unsynced = False

    @staticmethod
    def relative_path(sha256: str) -> str:
        """The archive path of a digest, relative to the data directory (POSIX separators)."""
        if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
            raise ArchivePathError(f"not a lowercase hex sha256: {sha256!r}")
        return f"archive/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def resolve(self, relative: str) -> Path:
        """Absolute path of a stored relative path; refuses anything outside the archive."""
        path = (self.data_dir / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ArchivePathError(f"{relative!r} is outside the archive of {self.data_dir}")
        return path

    def put(self, data: bytes, *, durable: bool = True) -> tuple[str, str]:
        """Store `data`; return ``(sha256, path relative to the data directory)``.

        The crawl's hot path: plain ``os`` calls on a name derived from the digest (a hex digest
        cannot name anything outside the archive), the fan-out folders created only when the
        write finds them missing, and a temporary name unique to this process and thread.
        """
        digest = hashlib.sha256(data).hexdigest()
        relative = self.relative_path(digest)
        target = os.path.join(self.root, digest[:2], digest[2:4], digest)
        try:
            if os.stat(target).st_size == len(data):
                return digest, relative
        except FileNotFoundError:
            pass
        tmp = os.path.join(self.root, digest[:2], digest[2:4], f".tmp-{digest}-{os.getpid()}-{threading.get_ident()}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(tmp, flags, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd = os.open(tmp, flags, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if durable:
                    os.fsync(fd)
                else:
                    self._unsynced = True
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return digest, relative

    def put_stream(self, fh: BinaryIO, *, max_bytes: int | None = None,
                   durable: bool = True) -> tuple[str, str, int]:
        """Copy an open file into the archive in chunks, hashing as it goes (flat memory).

        Raises `ValueError` when more than `max_bytes` arrive (a file that grew after its size
        was checked); nothing is left behind then.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := fh.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ValueError(f"more than {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                self._flush(out, durable)
            relative = self.relative_path(digest.hexdigest())
            target = self.resolve(relative)
            if target.exists() and target.stat().st_size == size:
                os.unlink(tmp)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest.hexdigest(), relative, size

    def get(self, relative: str) -> bytes:
        """The bytes stored at `relative`, checked against the digest in their name."""
        data = self.resolve(relative).read_bytes()
        name = relative.rsplit("/", 1)[-1]
        if _HEX64.fullmatch(name) and hashlib.sha256(data).hexdigest() != name:
            raise ArchiveCorrupt(f"{relative}: SHA-256 of the {len(data)} bytes read back is "
                                 f"{hashlib.sha256(data).hexdigest()}, not {name}")
        return data

    def sync(self) -> None:
        """Make every file written with ``durable=False`` since the last call reach the disk."""
        if self._unsynced:
            os.sync()
            self._unsynced = False

    # ---- helpers ----------------------------------------------------------------------
    def _flush(self, fh: BinaryIO, durable: bool) -> None:
        fh.flush()
        if durable:
            os.fsync(fh.fileno())
        else:
            self._unsynced = True


def is_disk_full(exc: BaseException) -> bool:
    """True for the errors a full disk or an exhausted quota raises (the run must fail loudly)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
