"""A killed crawl leaves no extraction workers behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """
import time
import harvester.store as st

def slow(data_dir, jobs):
    time.sleep(120)
    return []

st._extract_chunk = slow
print("started", flush=True)
for _ in st._map_extract("/nonexistent", [(i, "a", "b") for i in range(8)], 2):
    pass
"""


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def test_extraction_workers_die_with_a_killed_parent() -> None:
    """Orphaned pool workers held each other's result pipe and lock and slept forever after a
    SIGKILL of `harvester crawl` (two per killed crawl were found alive an hour later)."""
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.1)
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)  # not our children: init reaps them once they die
        alive = [w for w in workers if Path(f"/proc/{w}").exists()
                 and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]]
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()
