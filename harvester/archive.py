"""Content-addressed store of raw bytes: ``<data_dir>/archive/ab/cd/<sha256>``.

Paths are derived from the SHA-256 of the content only, never from a URL or a
file name, so nothing a portal serves can choose where a file lands. Writes go to
a temporary file in the target directory and are renamed into place (atomic on
one filesystem); storing the same bytes twice is a no-op.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_HEX64 = re.compile(r"[0-9a-f]{64}")


class ArchivePathError(ValueError):
    """A path that is not a well-formed archive path inside the data directory."""


class Archive:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.root = self.data_dir / "archive"

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

    def put(self, data: bytes) -> tuple[str, str]:
        """Store `data`; return ``(sha256, path relative to the data directory)``."""
        digest = hashlib.sha256(data).hexdigest()
        relative = self.relative_path(digest)
        target = self.resolve(relative)
        if target.exists() and target.stat().st_size == len(data):
            return digest, relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest, relative

    def get(self, relative: str) -> bytes:
        return self.resolve(relative).read_bytes()
