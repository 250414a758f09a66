"""Options shared by every command that touches the database or data directory."""
from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterable, Optional

import typer

if TYPE_CHECKING:
    from harvester.store import Store

DataDir = Annotated[Optional[str], typer.Option("--data-dir", envvar="HARVESTER_DATA_DIR",
                                                 help="Data directory (archive, SQLite file). Default ./data")]
DbUrl = Annotated[Optional[str], typer.Option("--db", envvar="HARVESTER_DB",
                                               help="SQLAlchemy database URL. Default: SQLite file in the data directory")]

Workers = Annotated[Optional[int], typer.Option("--workers", "-w", min=1,
                                                help="Extraction processes. Default: every core")]


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


#: The one output option every listing command shares.
OutputFormat = Annotated[Format, typer.Option("--format", "-f", help="Output: a table for reading, or json/csv/tsv.")]


def emit(columns: list[str], rows: Iterable[list[Any]], fmt: Format, title: str | None = None) -> None:
    """Print rows in the chosen format (JSON Lines for json). json, csv and tsv stream the rows."""
    if fmt is Format.json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(columns, row)), ensure_ascii=False))
    elif fmt in (Format.csv, Format.tsv):
        writer = csv.writer(sys.stdout, delimiter="," if fmt is Format.csv else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    else:
        print_table(columns, [["" if v is None else str(v) for v in row] for row in rows], title=title)


def print_table(columns: list[str], rows: list[list[str]], *, title: str | None = None) -> None:
    """A Rich table that never cuts a cell: no wrapping, no ellipsis; the table is as wide as its
    longest line even on a narrow terminal or a pipe (the terminal may wrap the line, the text
    stays whole: a 46-character agency name is printed in full)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*row)
    console = Console()
    needed = Console(width=100_000).measure(table).maximum
    console.width = max(console.width, needed)
    console.print(table, crop=False)


# ---------------------------------------------------------------- errors and the store
class CliError(Exception):
    """An expected failure of a command: printed as one ``error:`` line, exits with ``code``."""

    def __init__(self, message: str, code: int = 1, *, prefix: str = "error") -> None:
        super().__init__(message)
        self.code = code
        self.prefix = prefix


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _error_table() -> list[tuple[type[BaseException], int, Callable[[BaseException], str]]]:
    from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

    from harvester.errors import ConfigError

    return [
        (CliError, 1, str),
        (ConfigError, 2, str),
        (NoSuchModuleError, 2, lambda e: f"unknown database URL scheme: {_first_line(e)}"),
        (ArgumentError, 2, lambda e: f"malformed database URL: {_first_line(e)}"),
        (OperationalError, 1, lambda e: f"cannot use the database: {_first_line(e)}"),
        (InterfaceError, 1, lambda e: f"cannot use the database: {_first_line(e)}"),
        (PermissionError, 1, lambda e: f"permission denied: {e}"),
    ]


def cli_error(exc: BaseException) -> tuple[int, str] | None:
    """``(exit code, one line "error: ...")`` for an expected failure, None for a bug (traceback)."""
    for cls, code, message in _error_table():
        if isinstance(exc, cls):
            if isinstance(exc, CliError):
                return exc.code, f"{exc.prefix}: {exc}"
            return code, f"error: {message(exc)}"
    return None


def _sqlite_file(db_url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def open_store(data_dir: str | None, db: str | None, *, read_only: bool = False) -> "Store":
    """The `Store` of a command, after the checks every command shares.

    A read-only command (export, reports, status, changes) pointed at a SQLite file that does not
    exist fails with a warning instead of creating an empty database; a writing command needs a
    writable data directory.
    """
    from harvester.config import resolve
    from harvester.store import Store

    settings = resolve(data_dir, db)
    sqlite = _sqlite_file(settings.db_url)
    if read_only and sqlite is not None and not sqlite.exists():
        raise CliError(f"no database at {sqlite} (data directory {settings.data_dir}); nothing to read. "
                       "Run `harvester crawl` or `harvester ingest` first, or pass --data-dir / --db.",
                       prefix="warning")
    if not read_only:
        check_writable(settings.data_dir)
    return Store(settings.db_url, settings.data_dir)


def check_writable(path: Path) -> None:
    """Create the data directory if needed and write a probe file into it (as root, `os.access`
    says yes to read-only mounts and /proc; only a real write tells)."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise CliError(f"data directory {path} is not writable: {exc.strerror or exc}") from None
