"""The `harvester` command line. Each command lives in `harvester/commands/<name>.py`
and registers itself on `app`; shared options are in `harvester/commands/options.py`.

Exit codes (every command): 0 ok; 1 something failed (a crawl or a portal failed, the
database cannot be reached, the data directory is not writable, no database to read);
2 usage (unknown option, malformed database URL, a path that does not exist, bad registry).
Errors are one line on stderr, ``error: ...``; `harvester.commands.options.CLI_ERRORS`
is the table that maps exception classes to messages and codes.
"""
from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup


class HarvesterGroup(TyperGroup):
    """Turns the expected failures (bad URL, unreachable database, unwritable directory)
    into one-line errors with the documented exit code instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:
        from harvester.commands.options import cli_error

        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 - translated when known (a table), re-raised otherwise
            known = cli_error(exc)
            if known is None:
                raise
            code, line = known
            typer.echo(line, err=True)
            raise typer.Exit(code) from None


app = typer.Typer(
    name="harvester",
    help="Harvest, extract, link and export government information-disclosure annual reports.",
    no_args_is_help=True,
    add_completion=False,
    cls=HarvesterGroup,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"harvester {version('govreports-harvester')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            typer.echo("harvester (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    _version_flag: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    """Harvest, extract, link and export government information-disclosure annual reports.

    Exit codes: 0 ok, 1 something failed, 2 usage error. See README.md, "The command line".
    """


COMMAND_MODULES = ["extract", "ingest", "crawl", "portals", "extract_pending", "reextract", "link", "export",
                   "reports", "coverage", "serve", "demo", "db", "worker", "enqueue", "status", "changes",
                   "nightly"]


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        try:
            import_module(f"harvester.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"harvester.commands.{name}":
                raise


_register()
