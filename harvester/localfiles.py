"""Reading local files safely for `harvester ingest` and `harvester extract`.

A folder given to the harvester may hold anything: FIFOs and devices (a read would block
forever or never end), symlinks pointing out of the folder (to /etc, to another user's
files), unreadable sub-folders, files far too large to be a report. `walk()` yields every
candidate file or a `Skipped` entry saying why a path was not read, in a stable order, and
never lets one bad path stop the rest; `open_regular()` opens without blocking and checks
again, from the open descriptor, that it is a regular file of an acceptable size (a path
can be swapped between the listing and the open).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

#: Why a path was not read (the `kind` of a `Skipped`).
NOT_REGULAR = "not_a_regular_file"  # FIFO, socket, device
OUTSIDE = "symlink_outside"  # a symlink leading out of the folder given
UNREADABLE_DIR = "unreadable_directory"
UNREADABLE = "unreadable_file"
TOO_LARGE = "too_large"
MISSING = "missing"


@dataclass(frozen=True)
class LocalFile:
    path: Path
    size: int


@dataclass(frozen=True)
class Skipped:
    path: Path
    kind: str
    message: str


class RefusedFile(OSError):
    """Raised by `open_regular` for a path that must not be read (carries a `Skipped` kind)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def walk(paths: Iterable[Path], max_bytes: int) -> Iterator[LocalFile | Skipped]:
    """Files under `paths` (folders recursively, hidden entries skipped, sorted by name).

    A path named on the command line is taken as given (a symlink named there is followed);
    inside a folder, symlinks are followed only when their target stays inside that folder.
    """
    for path in paths:
        try:
            st = path.stat()
        except OSError as exc:
            yield Skipped(path, MISSING if isinstance(exc, FileNotFoundError) else UNREADABLE, str(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(path, path.resolve(), max_bytes)
        else:
            yield _check(path, st, max_bytes)


def _walk_dir(folder: Path, root: Path, max_bytes: int) -> Iterator[LocalFile | Skipped]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Skipped(folder, UNREADABLE_DIR, f"could not read directory: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    yield Skipped(path, OUTSIDE, f"symlink to {target}, outside {root}: not followed")
                    continue
                if target.is_dir():
                    continue  # the folder it points to is inside the root and walked there
                st = target.stat()
            else:
                st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            yield Skipped(path, UNREADABLE, str(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(path, root, max_bytes)
        else:
            yield _check(path, st, max_bytes)


def _check(path: Path, st: os.stat_result, max_bytes: int) -> LocalFile | Skipped:
    if not stat.S_ISREG(st.st_mode):
        return Skipped(path, NOT_REGULAR, f"not a regular file ({_kind(st.st_mode)}): not read")
    if st.st_size > max_bytes:
        return Skipped(path, TOO_LARGE, f"{st.st_size} bytes is over the {max_bytes}-byte limit: not read")
    return LocalFile(path, st.st_size)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "special file"


def open_regular(path: Path, max_bytes: int) -> BinaryIO:
    """Open `path` for reading without ever blocking; refuse anything but a regular file of at
    most `max_bytes` (checked on the open descriptor, so a path swapped after listing is caught)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RefusedFile(NOT_REGULAR, f"{path}: not a regular file ({_kind(st.st_mode)}): not read")
        if st.st_size > max_bytes:
            raise RefusedFile(TOO_LARGE, f"{path}: {st.st_size} bytes is over the {max_bytes}-byte limit: not read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (raises `RefusedFile` or `OSError`)."""
    with open_regular(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise RefusedFile(TOO_LARGE, f"{path}: grew over the {max_bytes}-byte limit while being read: not read")
    return data
