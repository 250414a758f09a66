"""Every registered command (including ones added later) has help text and `--help` works."""
from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from harvester.cli import app


def all_commands() -> list[tuple[list[str], Any]]:
    """(path, command) for the root, every command and every sub-command, walked from the built CLI."""
    found: list[tuple[list[str], Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        found.append((path, cmd))
        subcommands = getattr(cmd, "commands", None)
        if isinstance(subcommands, dict):
            for name, sub in sorted(subcommands.items()):
                walk(sub, path + [name])

    walk(typer.main.get_command(app), [])
    return found


def test_the_expected_commands_are_registered() -> None:
    names = {" ".join(path) for path, _ in all_commands()}
    assert {"extract", "ingest", "link", "export", "reports", "coverage", "serve", "db", "db upgrade"} <= names


def test_every_command_has_help_and_help_exits_zero() -> None:
    runner = CliRunner()
    for path, cmd in all_commands():
        assert (cmd.help or "").strip(), f"`harvester {' '.join(path)}` has no help text"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"harvester {' '.join(path)} --help: {result.output}"
        assert "Usage" in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for path, _ in all_commands():
        if path:
            assert f"harvester {' '.join(path)}" in readme, f"README does not document `harvester {' '.join(path)}`"
