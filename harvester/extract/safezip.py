"""Zip containers (DOCX, XLSX, OFD) are checked before anything is decompressed: a zip bomb
or an absurdly large member gives a `too_large` error instead of exhausting memory."""
from __future__ import annotations

import zipfile
from io import BytesIO

from harvester.errors import CorruptDocument, TooLarge

#: Total uncompressed size accepted for one document's zip container.
MAX_UNCOMPRESSED = 256 * 1024 * 1024
#: A member that expands more than this many times its compressed size is a bomb.
MAX_RATIO = 200


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CorruptDocument(f"not a readable zip container: {exc}") from exc
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise TooLarge(f"zip container expands to {total} bytes (limit {MAX_UNCOMPRESSED})")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise TooLarge(f"zip member {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}x: "
                           "a zip bomb?")
    return archive
