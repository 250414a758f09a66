"""Progress display: Rich bars when stderr is a terminal (checked in a real pseudo-terminal), plain
`progress:` lines when it is not; stdout stays clean for machine-readable output."""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from portal_server import REGISTRY, serve

HARVESTER = Path(sys.executable).with_name("harvester")
SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))
BAR = "━"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_pty(args: list[str], cwd: Path, env: dict | None = None) -> tuple[int, str]:
    """Run with stdin/stdout/stderr on a pseudo-terminal; return (exit code, everything written)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                            env={**os.environ, "COLUMNS": "120", "TERM": "xterm-256color", **(env or {})})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_ingest_draws_a_progress_bar_on_a_terminal(tmp_path):
    code, out = in_pty([str(HARVESTER), "ingest", *map(str, SEEDS), "--data-dir", str(tmp_path / "d")], tmp_path)
    assert code == 0, out[-2000:]
    assert BAR in out and "\x1b[" in out  # a drawn bar with terminal escapes
    plain = ANSI.sub("", out)
    assert f"{len(SEEDS)}/{len(SEEDS)} files" in plain and "progress:" not in plain


def test_ingest_prints_plain_progress_lines_when_not_a_terminal(tmp_path):
    proc = subprocess.run([str(HARVESTER), "ingest", *map(str, SEEDS), "--data-dir", str(tmp_path / "d")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HARVESTER_PROGRESS_INTERVAL": "0"})
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("progress: ingest")]
    assert lines[0].startswith("progress: ingest 0/")
    assert lines[-1].startswith(f"progress: ingest {len(SEEDS)}/{len(SEEDS)} files (100%)") and lines[-1].endswith("done")
    assert len(lines) == len(SEEDS) + 2  # start, one per file (interval 0), done
    assert BAR not in proc.stderr and "\x1b[" not in proc.stderr and "progress" not in proc.stdout


def test_extract_json_stdout_stays_pure_json_lines_while_progress_goes_to_stderr(tmp_path):
    proc = subprocess.run([str(HARVESTER), "extract", "--json", *map(str, SEEDS[:2])], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert [json.loads(line)["source"] for line in proc.stdout.splitlines()] == [str(p) for p in SEEDS[:2]]
    assert "progress: extract 2/2 files (100%)" in proc.stderr


def test_progress_can_be_switched_off(tmp_path):
    proc = subprocess.run([str(HARVESTER), "extract", str(SEEDS[0])], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HARVESTER_PROGRESS": "off"})
    assert "progress" not in proc.stderr


def test_crawl_shows_one_bar_per_portal_on_a_terminal_and_plain_lines_otherwise(tmp_path):
    ids = ["linzi-zfxxgknb", "yaodu-col1229"]
    with serve() as srv:
        maps = [a for entry in srv.host_map() for a in ("--host-map", entry)]
        cmd = [str(HARVESTER), "crawl", *ids, "--registry", str(REGISTRY), *maps, "--log-level", "ERROR"]
        code, out = in_pty(cmd + ["--data-dir", str(tmp_path / "tty")], tmp_path)
        piped = subprocess.run(cmd + ["--data-dir", str(tmp_path / "pipe")], cwd=tmp_path, capture_output=True,
                               text=True, timeout=300)
    assert code == 0, out[-3000:]
    plain = ANSI.sub("", out)
    assert BAR in out
    for portal in ids:
        assert f"crawl {portal}" in plain
    assert "5 documents" in plain  # linzi: two report pages, two PDF URLs, one docx (the 500 PDF is an error)
    assert piped.returncode == 0, piped.stderr[-3000:]
    done = [line for line in piped.stderr.splitlines() if line.startswith("progress: crawl") and line.endswith("done")]
    assert len(done) == 2 and any("linzi-zfxxgknb" in line and "5 documents" in line for line in done)
    assert BAR not in piped.stderr
