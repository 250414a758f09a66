"""Legacy formats (DOC, WPS, XLS) → their Office Open XML twins via LibreOffice headless.

LibreOffice is a local program (Debian package `libreoffice-writer-nogui`,
plus `libreoffice-calc-nogui` for XLS); nothing goes over the network. Each call
runs in its own temporary profile so parallel workers do not collide.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from harvester.errors import ConverterMissing, CorruptDocument

#: Seconds one conversion may take before it is abandoned.
TIMEOUT = 120
_BINARIES = ("soffice", "libreoffice")


def soffice() -> str:
    for name in _BINARIES:
        path = shutil.which(name)
        if path:
            return path
    raise ConverterMissing("LibreOffice (soffice) not found: install the Debian package "
                           "libreoffice-writer-nogui to read .doc/.wps files")


def convert(data: bytes, source_suffix: str, target: str) -> bytes:
    """Convert `data` (a file with `source_suffix`, e.g. ".doc") to `target` ("docx" or "xlsx")."""
    binary = soffice()
    with tempfile.TemporaryDirectory(prefix="harvester-lo-") as tmp:
        src = Path(tmp) / f"in{source_suffix}"
        src.write_bytes(data)
        cmd = [binary, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
               "--convert-to", target, "--outdir", str(Path(tmp) / "out"), str(src)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CorruptDocument(f"LibreOffice did not finish converting within {TIMEOUT} s") from exc
        out = Path(tmp) / "out" / f"in.{target}"
        if not out.exists():
            raise CorruptDocument(f"LibreOffice could not convert this {source_suffix} file")
        return out.read_bytes()
