"""The README's worked example (crawl → export → frictionless → pandas pivot) runs as printed, on the demo
data, and prints what the README says it prints."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- worked-example:"


def blocks() -> tuple[str, str, str]:
    """(shell, python, expected output) — the three fenced blocks after the marker."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(MARKER):]
    found = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)[:3]
    assert [lang for lang, _ in found] == ["sh", "python", ""], found
    return found[0][1], found[1][1], found[2][1]


def squeeze(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.strip().splitlines()]


def test_readme_worked_example_runs_on_the_demo_data(tmp_path: Path) -> None:
    shell, python, expected = blocks()
    bin_dir = Path(sys.executable).parent
    for line in shell.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command:
            continue
        argv = shlex.split(command)
        assert argv[0].startswith(".venv/bin/"), f"the example runs installed commands: {command}"
        argv[0] = str(bin_dir / argv[0].removeprefix(".venv/bin/"))
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    proc = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert squeeze(proc.stdout) == squeeze(expected)
