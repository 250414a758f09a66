"""The `harvester` command line. Each command lives in `harvester/commands/<name>.py`
and registers itself on `app`; shared options are in `harvester/commands/options.py`."""
from __future__ import annotations

import typer

app = typer.Typer(
    name="harvester",
    help="Harvest, extract, link and export government information-disclosure annual reports.",
    no_args_is_help=True,
    add_completion=False,
)

@app.callback()
def main() -> None:
    """Harvest, extract, link and export government information-disclosure annual reports."""


COMMAND_MODULES = ["extract", "ingest", "crawl", "portals", "extract_pending", "reextract", "link", "export",
                   "reports", "coverage", "serve", "demo", "db", "worker", "enqueue"]


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        try:
            import_module(f"harvester.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"harvester.commands.{name}":
                raise


_register()
