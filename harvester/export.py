"""CSV export of linked reports: a data package a researcher can load blind.

Every file, column and code is described once, in the data dictionary
(``docs/data-dictionary.toml``); ``datapackage.json`` (Frictionless), the datasette
metadata and ``docs/data-dictionary.md`` are generated from it. Files (UTF-8, or UTF-8
with BOM for Excel), rows in a deterministic order:

* ``reports.csv``: one row per report (view ``report_summary``).
* ``cells.csv``: every cell of every report, long form, merged over the report's documents
  (view ``report_cells``: each cell from the best-ranked document that has a value).
* ``table2.csv``, ``table3.csv``, ``table4.csv``: one row per report and row key, one column
  per column key (numbers only).
* ``codebook.csv``: every row and column key with its templates and printed label.
* ``agencies.csv``, ``documents.csv``, ``checks.csv`` (+ ``check_rules.csv``, the glossary),
  ``conflicts.csv``, ``coverage.csv``.

Numeric columns hold numbers only: the printed text is in ``raw_text`` and the exact value
in ``value_text``; ``value_code`` says why a value is what it is (number, zero, blank,
unreadable, text). Text cells starting with ``= + - @``, a tab or a carriage return get a
leading ``'`` (OWASP CSV injection); numeric columns are never touched.

The export streams: every file is one ordered query read in batches (server-side cursor on
PostgreSQL), a report's cells are grouped in memory one report at a time, and filters are SQL
predicates (never one parameter per id), so memory stays flat whatever the database size.
"""
from __future__ import annotations

import hashlib
import gzip as _gzip
import io
import json
import os
import queue
import re
import threading
import tomllib
from dataclasses import dataclass
from datetime import datetime, UTC
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.orm import Session

from harvester.extract import labels as L

if TYPE_CHECKING:
    from harvester.store import Store

DICTIONARY_PATH = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.toml"
BATCH = 2000  # rows fetched per round trip

TABLE2_ROWS = list(L.TABLE2["2019"])  # the 2019 template has every table-2 row, in printed order
TABLE2_COLUMNS = list(L.COLUMN_LABELS["table2"])
TABLE3_ROWS = [*L.TABLE3_ROWS["2021"][:-2], "other", *L.TABLE3_ROWS["2021"][-2:]]
TABLE3_COLUMNS = list(L.TABLE3_COLUMNS)
TABLE4_ROWS = list(L.TABLE4_GROUPS)
TABLE4_COLUMNS = list(L.TABLE4_COLUMNS)

TABLES = {"table2": (TABLE2_ROWS, TABLE2_COLUMNS), "table3": (TABLE3_ROWS, TABLE3_COLUMNS),
          "table4": (TABLE4_ROWS, TABLE4_COLUMNS)}


# ------------------------------------------------------------------ the data dictionary
@cache
def dictionary() -> dict[str, Any]:
    """The data dictionary (docs/data-dictionary.toml), parsed once."""
    with DICTIONARY_PATH.open("rb") as fh:
        return tomllib.load(fh)


def resource(name: str) -> dict[str, Any]:
    return next(r for r in dictionary()["resources"] if r["name"] == name)


def fields(name: str) -> list[dict[str, Any]]:
    """The fields of a file; a wide table's are its prefix plus one number column per column key."""
    res = resource(name)
    if "wide" in res:
        return list(dictionary()["wide"]["prefix"]) + [
            {"name": c, "type": "number", "title": c, "description": f"{res['wide']} column {c!r} (codebook.csv)"}
            for c in wide_columns(res["wide"])]
    return list(res["fields"])


def header(name: str) -> list[str]:
    return [f["name"] for f in fields(name)]


#: Column keys printed by the extractor beyond the label table (none today); set per export run.
_EXTRA_COLUMNS: dict[str, list[str]] = {}


def wide_columns(table: str) -> list[str]:
    return TABLES[table][1] + _EXTRA_COLUMNS.get(table, [])


REPORTS_HEADER = header("reports")
CELLS_HEADER = header("cells")
WIDE_PREFIX = [f["name"] for f in dictionary()["wide"]["prefix"]]
CODEBOOK_HEADER = header("codebook")

# ------------------------------------------------------------------ values
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """OWASP CSV injection: a text cell a spreadsheet would run as a formula gets a leading '."""
    return "'" + value if value.startswith(_DANGEROUS) else value


def number(value: Any) -> str:
    """A number as text: integers without a decimal point; empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def value_code(value: float | None, value_text: str | None, semantic: str) -> str:
    """cells.csv `value_code` (codes in the data dictionary)."""
    if semantic == "unreadable" or value_text is None:
        return "unreadable"
    if value is None:
        return "text"
    return semantic


def _timestamp(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored as UTC
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _boolean(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _text(value: Any) -> Any:
    if value is None:
        return None
    value = str(value)
    return "'" + value if value[:1] in _DANGEROUS_FIRST else value


def _numeric(value: Any) -> Any:
    if value is None or type(value) is int:
        return value  # the csv module writes None as an empty cell
    return number(value)


_DANGEROUS_FIRST = frozenset(_DANGEROUS)
#: field type -> how a value of that type is written
RENDER = {"integer": _numeric, "number": _numeric, "boolean": _boolean, "datetime": _timestamp}


#: zlib level of `export(gzip=True)`: gzip's own default (level 9 costs twice the time for ~3 % less)
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Output:
    """Where and how an export writes its files."""

    dir: Path
    encoding: str = "utf-8"
    gzip: bool = False


#: a writer's memos are emptied past MEMO_LIMIT entries, checked every TRIM_EVERY rows: a few
#: thousand values cover a column's keys, codes, units and common small numbers, and ~50 memos
#: of a national export's varied numbers stay within tens of MB (100,000 each could pass 500 MB)
MEMO_LIMIT = 4096
TRIM_EVERY = 1000
#: a field holding one of these is quoted (RFC 4180). The csv module's minimal quoting, except
#: that a carriage return is quoted too: Python 3.11's writer leaves it bare and the row then
#: reads back as two (csv.reader, pandas, Excel all end a line at a bare CR)
_NEEDS_QUOTES = re.compile('[,"\r\n]').search


def csv_field(value: Any) -> str:
    """One rendered value as CSV text: empty for None, quoted (quotes doubled) when it holds a
    comma, a quote or a line break."""
    if value is None:
        return ""
    value = value if value.__class__ is str else str(value)
    return '"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES(value) else value


def csv_line(values: Sequence[Any]) -> str:
    """A row of already rendered values as one CSV line (the header of a file)."""
    return ",".join(map(csv_field, values)) + "\n"


class _Memo(dict):  # type: ignore[type-arg]
    """A value's CSV text, computed once: a national export writes the same row keys, units,
    codes and small numbers hundreds of millions of times. Holds keys of one type only (the
    renderer checks), so 1 and 1.0 never share an entry; `trim` keeps it bounded."""

    def __init__(self, render: Any) -> None:
        super().__init__()
        self.render = render

    def __missing__(self, value: Any) -> str:
        out = self[value] = csv_field(self.render(value))
        return out

    def trim(self, limit: int = MEMO_LIMIT) -> None:
        if len(self) > limit:
            self.clear()


def _line_renderer(kinds: list[str]) -> tuple[Any, list[_Memo]]:
    """A function turning one row (`len(kinds)` values) into its CSV line, each value rendered
    by its column's dictionary type — text through `_text`, numbers through `_numeric`, the other
    types through `RENDER` — then as CSV text (`csv_field`).

    The hot loop of an export (hundreds of millions of values nationally), so the function is
    generated with one expression per column: a str or float goes through a memo of its CSV
    text, an int is its digits, None is empty, anything else is rendered on the spot. It writes
    what the csv module writes (tested; a carriage return apart, see `_NEEDS_QUOTES`) at about
    a third of the cost of the module plus a render call per value."""
    scope: dict[str, Any] = {"_text": _text, "_numeric": _numeric, "csv_field": csv_field}
    memos: list[_Memo] = []
    parts = []
    for i, kind in enumerate(kinds):
        v = f"r[{i}]"
        render = RENDER.get(kind, _text)
        if render is _text or render is _numeric:
            scope[f"m{i}"] = memo = _Memo(render)
            memos.append(memo)
            memo_type = "str" if render is _text else "float"
            exact = "" if render is _text else f"str({v}) if {v}.__class__ is int else "
            parts.append(f"({exact}m{i}[{v}] if {v}.__class__ is {memo_type} else '' if {v} is None "
                         f"else csv_field({render.__name__}({v})))")
        else:
            scope[f"f{i}"] = render
            parts.append(f"csv_field(f{i}({v}))")
    source = f"lambda r: ','.join(({', '.join(parts)},)) + '\\n'"
    return eval(source, scope), memos  # noqa: S307 - built from our own column types only


_CHUNK = 1 << 18  # bytes handed to the compressing thread at a time


class _CompressingThread(io.RawIOBase):
    """The stream under a gzipped export file's text layer: a thread compresses and writes each
    chunk. zlib and file writes release the GIL, so on two cores compression leaves the
    exporting thread, where it took a fifth of the time of writing cells.csv. The queue is short
    (memory stays flat); a failure in the thread (a full disk) is raised by the next write or
    by `close`."""

    def __init__(self, gz: _gzip.GzipFile) -> None:
        super().__init__()
        self.gz = gz
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="export-gzip", daemon=True)
        self.thread.start()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.failure is not None:
            raise self.failure
        self.chunks.put(bytes(data))  # a copy: the buffered layer reuses its buffer
        return len(data)

    def _run(self) -> None:
        while (chunk := self.chunks.get()) is not None:
            if self.failure is None:
                try:
                    self.gz.write(chunk)
                except BaseException as exc:  # noqa: BLE001 - raised in the exporting thread
                    self.failure = exc

    def close(self) -> None:
        if self.closed:
            return
        self.chunks.put(None)
        self.thread.join()
        super().close()
        if self.failure is None:
            self.gz.close()  # the gzip trailer (not the file under it)
        if self.failure is not None:
            raise self.failure


class _Writer:
    """One CSV file of the package: renders each value by its dictionary type (text neutralised,
    numbers as numbers) into CSV lines (`_line_renderer`)."""

    def __init__(self, out: Output, name: str) -> None:
        self.name = name
        self.path = out.dir / (resource(name)["path"] + (".gz" if out.gzip else ""))
        kinds = [f["type"] for f in fields(name)]
        if len(kinds) < 2:  # a lone empty field would need quoting to read back as a row
            raise ValueError(f"{name}: a file of one column")
        self.width = len(kinds)
        self.line, self.memos = _line_renderer(kinds)
        self.raw = self.path.open("wb")
        binary: Any = self.raw
        if out.gzip:  # no time stamp in the header: the same export gives the same bytes
            binary = io.BufferedWriter(_CompressingThread(_gzip.GzipFile(
                filename=self.path.name[:-3], mode="wb", compresslevel=GZIP_LEVEL, fileobj=self.raw, mtime=0)),
                buffer_size=_CHUNK)
        self.fh = io.TextIOWrapper(binary, encoding=out.encoding, newline="")
        self.fh.write(csv_line(header(name)))
        self.rows = 0
        self.trim_at = TRIM_EVERY

    def write(self, row: Sequence[Any]) -> None:
        if len(row) != self.width:
            raise ValueError(f"{self.name}: a row of {len(row)} values for {self.width} columns")
        self.fh.write(self.line(row))
        self.rows += 1
        if self.rows >= self.trim_at:
            self.trim()

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Write `rows` (each of `width` values) in one write."""
        width, line = self.width, self.line
        for row in rows:
            if len(row) != width:
                raise ValueError(f"{self.name}: a row of {len(row)} values for {width} columns")
        self.fh.write("".join([line(row) for row in rows]))
        self.rows += len(rows)
        if self.rows >= self.trim_at:
            self.trim()

    def trim(self) -> None:
        """Bound the memos: a memo of every distinct value would grow with the corpus."""
        for memo in self.memos:
            memo.trim()
        self.trim_at = self.rows + TRIM_EVERY

    def close(self) -> None:
        try:
            self.fh.close()  # and the gzip stream (not the file under it)
        finally:
            self.raw.close()

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------ filters
def region_prefix(region: str) -> str | None:
    """The division-code prefix a --region code stands for (370300 → 3703, 370000 → 37), None for a name."""
    region = region.strip()
    if not re.fullmatch(r"\d{2,12}", region):
        return None
    while len(region) > 2 and len(region) % 2 == 0 and region.endswith("00"):
        region = region[:-2]
    return region


@dataclass(frozen=True)
class Filters:
    """Which reports to export. Values of one option are alternatives; options combine (AND).

    ``regions``: a GB/T 2260 code prefix (``37``, ``3703``, ``370305``; trailing ``00`` pairs
    of a full code are dropped) or a place name contained in the agency's name or its parent's
    or grandparent's (山东省, 淄博市). ``agencies``: an agency id, or text its name contains."""

    years: tuple[int, ...] = ()
    levels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.years or self.levels or self.regions or self.agencies)

    def agency_sql(self, a: str = "a") -> tuple[str, dict[str, Any]]:
        """A predicate on an `agencies` alias for the level/region/agency options."""
        from harvester.link import normalize_agency

        parts: list[str] = []
        params: dict[str, Any] = {}
        if self.levels:
            names = []
            for i, level in enumerate(self.levels):
                params[f"lv{i}"] = level
                names.append(f":lv{i}")
            parts.append(f"{a}.level IN ({', '.join(names)})")
        if self.regions:
            alts = []
            for i, region in enumerate(self.regions):
                prefix = region_prefix(region)
                if prefix is not None:
                    params[f"rg{i}"] = prefix + "%"
                    alts.append(f"{a}.division_code LIKE :rg{i}")
                else:
                    params[f"rg{i}"] = f"%{normalize_agency(region) or region}%"
                    alts.append(f"({a}.normalized_name LIKE :rg{i} OR EXISTS (SELECT 1 FROM agencies p1 "
                                f"LEFT JOIN agencies p2 ON p2.id = p1.parent_id WHERE p1.id = {a}.parent_id AND "
                                f"(p1.normalized_name LIKE :rg{i} OR p2.normalized_name LIKE :rg{i})))")
            parts.append("(" + " OR ".join(alts) + ")")
        if self.agencies:
            alts = []
            for i, agency in enumerate(self.agencies):
                agency = agency.strip()
                if agency.isdigit():
                    params[f"ag{i}"] = int(agency)
                    alts.append(f"{a}.id = :ag{i}")
                else:
                    params[f"ag{i}"] = f"%{normalize_agency(agency) or agency}%"
                    alts.append(f"{a}.normalized_name LIKE :ag{i}")
            parts.append("(" + " OR ".join(alts) + ")")
        return (" AND ".join(parts) or "1 = 1"), params

    def year_sql(self, column: str) -> tuple[str, dict[str, Any]]:
        if not self.years:
            return "1 = 1", {}
        params = {f"yr{i}": int(y) for i, y in enumerate(self.years)}
        return f"{column} IN ({', '.join(':' + k for k in params)})", params

    def reports_sql(self) -> tuple[str, dict[str, Any]]:
        """``SELECT r.id …``: the selected reports (a subquery, no parameter per id)."""
        agency, p1 = self.agency_sql("a")
        year, p2 = self.year_sql("r.year")
        return (f"SELECT r.id FROM reports r JOIN agencies a ON a.id = r.agency_id WHERE {agency} AND {year}",
                {**p1, **p2})

    def agencies_sql(self) -> tuple[str, dict[str, Any]]:
        """``SELECT id …``: the agencies matching the level/region/agency options that are expected in
        the years asked for (a report in one of them or before: coverage lists it), every agency
        when unfiltered."""
        if self.empty:
            return "SELECT id FROM agencies", {}
        agency, params = self.agency_sql("a")
        year = "1 = 1"
        if self.years:
            params["yrmax"] = max(int(y) for y in self.years)
            year = "rx.year <= :yrmax"
        return (f"SELECT a.id FROM agencies a WHERE {agency} AND EXISTS "
                f"(SELECT 1 FROM reports rx WHERE rx.agency_id = a.id AND {year})", params)


# ------------------------------------------------------------------ export
@dataclass
class ExportResult:
    out_dir: Path
    files: dict[str, int]  # file name -> data rows written


def export(target: "Store | Session", out_dir: str | Path, *, bom: bool = False, gzip: bool = False,
           filters: Filters | None = None, parallel: bool | None = None) -> ExportResult:
    """Write the data package. With a `Store` on a database file or server and more than one
    core (`parallel` None), cells.csv and the wide tables — the merged cells, most of the work —
    are written by a second process while this one writes the rest (`_CellsWriter`); the files
    are the same either way. A `Session` is exported in its own transaction, in-process.
    `bom`: UTF-8 with a byte-order mark (Excel); `gzip`: every CSV gzip-compressed (``.csv.gz``)."""
    out = Output(Path(out_dir), "utf-8-sig" if bom else "utf-8", gzip)
    if isinstance(target, Session):
        return _export(target.connection(), out, filters or Filters(), None)
    url = target.engine.url
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1
    separate = parallel and not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
    with target.engine.connect() as conn:
        return _export(conn, out, filters or Filters(), url.render_as_string(hide_password=False) if separate else None)


def _stream(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
    """Rows of one query, fetched in batches (a server-side cursor on PostgreSQL)."""
    result = conn.execute(text(sql).execution_options(stream_results=True, yield_per=BATCH), params or {})
    yield from result


def _export(conn: Connection, out: Output, filters: Filters, separate_url: str | None) -> ExportResult:
    out.dir.mkdir(parents=True, exist_ok=True)
    selected, params = filters.reports_sql()
    where = "1 = 1" if filters.empty else f"r.id IN ({selected})"
    # column keys beyond the template's, of the exported reports only: a filtered export of a
    # national database reads its own reports' cells, not all of them
    _EXTRA_COLUMNS.clear()
    for table, column in conn.execute(text(
            'SELECT DISTINCT "table", column_key FROM cells' if filters.empty else
            f'SELECT DISTINCT c."table", c.column_key FROM report_documents rd '
            f'JOIN cells c ON c.document_id = rd.document_id WHERE rd.report_id IN (SELECT r.id FROM reports r '
            f'WHERE {where})'), params):
        if table in TABLES and column not in TABLES[table][1]:
            _EXTRA_COLUMNS.setdefault(table, []).append(column)
    for cols in _EXTRA_COLUMNS.values():
        cols.sort()
    files: dict[str, int] = {}
    cells = _CellsWriter(separate_url, out, where, params) if separate_url else None
    try:
        _export_files(conn, out, where, params, filters, files, cells)
    except BaseException:
        if cells is not None:
            cells.kill()
        raise
    if cells is not None:
        files.update(cells.result())  # waits; a failure in the other process is raised here
    files = {name: files[name] for name in sorted(files, key=lambda f: _FILE_ORDER.index(f.removesuffix(".gz")))}
    write_datapackage(out)
    return ExportResult(out.dir, files)


def _export_files(conn: Connection, out: Output, where: str, params: dict[str, Any], filters: Filters,
                  files: dict[str, int], cells: "_CellsWriter | None") -> None:

    with _Writer(out, "reports") as w:
        for row in _stream(conn, f"""
                SELECT rs.report_id, rs.agency, rs.year, rs.template, rs.source_url, rs.documents,
                       CASE WHEN rs.checks = 0 THEN NULL ELSE rs.failed_checks = 0 END, rs.failed_checks,
                       rs.value_documents, rs.agency_id, rs.division_code, rs.level, rs.checks
                FROM report_summary rs JOIN reports r ON r.id = rs.report_id WHERE {where}
                ORDER BY rs.normalized_name, rs.year, rs.report_id""", params):
            w.write(row)
        files[w.path.name] = w.rows

    if cells is None:  # else the other process writes them
        files.update(_export_cells(conn, out, where, params, CELL_FILES))
    with _Writer(out, "codebook") as w:
        for row in codebook():
            w.write(row)
        files[w.path.name] = w.rows
    files.update(_export_agencies(conn, out, filters))
    files.update(_export_documents(conn, out, where, params, filters))
    files.update(_export_checks(conn, out, where, params, filters))
    files.update(_export_conflicts(conn, out, where, params))
    files.update(_export_coverage(conn, out, filters))


#: the files written from the merged cells, in one pass (by the second process of a parallel export)
CELL_FILES = ("cells", *TABLES)
#: files in the order of the data dictionary's resources (the order `export` reports them)
_FILE_ORDER = [r["path"] for r in dictionary()["resources"]]


class _CellsWriter:
    """cells.csv and the wide tables from a forked process (`_cells_process`), with its own
    connection, while the export process writes the other files: the export takes about half as
    long on two cores. (The wide tables were written by the export process, which merged every
    report's cells a second time: a third more CPU, and no faster on two cores shared with the
    database server.) The child is killed if the export process dies or
    fails, and exits without closing the parent's inherited connections (multiprocessing ends a
    forked child with ``os._exit``)."""

    def __init__(self, url: str, out: Output, where: str, params: dict[str, Any]) -> None:
        import multiprocessing

        # fork: a spawned child would re-import the caller's __main__ (a script without a main guard)
        context = multiprocessing.get_context("fork")
        self.receive, send = context.Pipe(duplex=False)
        self.process = context.Process(target=_cells_main, args=(send, os.getpid(), url, out, where, params),
                                       name="harvester-export-cells", daemon=True)
        self.process.start()
        send.close()

    def result(self) -> dict[str, int]:
        """The child's {file: rows}; its exception re-raised here."""
        try:
            status, value = self.receive.recv()
        except EOFError:
            self.process.join()
            raise RuntimeError(f"the process writing cells.csv died (exit code {self.process.exitcode})") from None
        self.process.join()
        if status == "error":
            raise value
        return value

    def kill(self) -> None:
        self.process.kill()
        self.process.join()


def _cells_main(send: Any, parent: int, url: str, out: Output, where: str,
                params: dict[str, Any]) -> None:
    from harvester.store import _die_with_parent

    _die_with_parent(parent)
    try:
        send.send(("ok", _cells_process(url, out, where, params)))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            send.send(("error", exc))
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            send.send(("error", RuntimeError(f"writing cells.csv: {exc!r}")))


def _cells_process(url: str, out: Output, where: str, params: dict[str, Any]) -> dict[str, int]:
    from harvester.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return _export_cells(conn, out, where, params, CELL_FILES)
    finally:
        engine.dispose()


def report_rows(conn: Connection, filters: Filters | None = None) -> Iterator[list[Any]]:
    """`harvester reports` rows, streamed from ``report_summary``: report_id, agency, year, template,
    documents, failed checks, source URL."""
    filters = filters or Filters()
    selected, params = filters.reports_sql()
    where = "1 = 1" if filters.empty else f"rs.report_id IN ({selected})"
    for row in _stream(conn, f"""
            SELECT rs.report_id, rs.agency, rs.year, rs.template, rs.documents, rs.failed_checks, rs.source_url
            FROM report_summary rs WHERE {where} ORDER BY rs.normalized_name, rs.year, rs.report_id""", params):
        yield list(row)


#: (table, key) -> position in the printed template; unknown keys sort after, by name
_ROW_POSITION = {(t, k): i for t, (rows, _cols) in TABLES.items() for i, k in enumerate(rows)}
_COLUMN_POSITION = {(t, k): i for t, (_rows, cols) in TABLES.items() for i, k in enumerate(cols)}


class _CellOrder(dict):  # type: ignore[type-arg]
    """(table, row, column) -> its place in a report's rows: the printed template's order; unknown
    keys after, by name. Computed once per key (a report has ~200 cells, the corpus millions)."""

    def __missing__(self, key: tuple[str, str, str]) -> tuple:
        table, row, column = key
        out = self[key] = (table, _ROW_POSITION.get((table, row), 1000), row,
                           _COLUMN_POSITION.get((table, column), 1000), column)
        return out


_CELL_ORDER = _CellOrder()


def _export_cells(conn: Connection, out: Output, where: str, params: dict[str, Any],
                  names: tuple[str, ...]) -> dict[str, int]:
    """cells.csv and/or the wide tables (`names`) in one pass, a batch of reports at a time in the
    export's report order: each batch's merged cells come from index lookups (`harvester.link`'s
    merge, the ``report_cells`` view's rule), never from one sorted pass over every cell of the
    corpus (which made SQLite materialize and sort all of them before the first row)."""
    from harvester.agency.store import CHUNK, chunks
    from harvester.link import merged_rows

    from harvester.db.models import Cell

    wide_only = () if "cells" in names else (Cell.table.in_(list(TABLES)),)
    writers = {name: _Writer(out, name) for name in names}
    try:
        reports = _stream(conn, f"""
            SELECT r.id, a.name, r.year, r.template FROM reports r JOIN agencies a ON a.id = r.agency_id
            WHERE {where} ORDER BY a.normalized_name, r.year, r.id""", params)
        order = _CELL_ORDER.__getitem__
        for batch in chunks(reports, CHUNK):
            merged = merged_rows(conn, [r[0] for r in batch], *wide_only)
            urls = _urls(conn, {c[0] for cells in merged.values() for c in cells}) if "cells" in names else {}
            for report in batch:
                cells = merged.get(report[0])
                if cells:  # (table, row, column) is unique in a report's merged cells
                    cells.sort(key=lambda c: order(c[1:4]))
                    _write_report_cells(writers, tuple(report), cells, urls)
            del merged  # before the next batch is read: one batch in memory at a time, not two
            if len(_CELL_ORDER) > 100_000:  # keys beyond the templates' are few, but unbounded
                _CELL_ORDER.clear()
    finally:
        for w in writers.values():
            w.close()
    return {w.path.name: w.rows for w in writers.values()}


def _urls(conn: Connection, doc_ids: set[int]) -> dict[int, str]:
    from harvester.agency.store import chunks

    out: dict[int, str] = {}
    for ids in chunks(sorted(doc_ids)):
        out.update(conn.execute(text("SELECT id, url FROM documents WHERE id IN :ids")
                                .bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all())
    return out


def _write_report_cells(writers: dict[str, "_Writer"], meta: tuple[int, str, int, str], cells: list[tuple],
                        urls: dict[int, str]) -> None:
    """One report's rows of cells.csv and of the wide tables (`cells`: its merged cells, rows of
    `harvester.link.MERGED_ROW`, in template order), those of them in `writers`."""
    rid, agency, year, _template = meta
    long = writers.get("cells")
    if long is not None:
        long.write_rows([(rid, agency, year, table, row_key, column_key, value, raw, semantic, doc_id, urls.get(doc_id),
                          value_code(value, value_text, semantic), value_text, unit)
                         for (doc_id, table, row_key, column_key, value_text, raw, semantic, _cell, value, unit)
                         in cells])
    wide: dict[str, dict[str, dict[str, Any]]] = {}
    for c in cells:
        if c[1] in writers:  # a wide table being written
            wide.setdefault(c[1], {}).setdefault(c[2], {})[c[3]] = c[8]
    for table, rows in wide.items():
        columns = wide_columns(table)
        writers[table].write_rows([(*meta, row_key, *(values.get(c) for c in columns))
                                   for row_key, values in rows.items()])  # already in template order


def _export_agencies(conn: Connection, out: Output, filters: Filters) -> dict[str, int]:
    chosen, params = filters.agencies_sql()
    year, yparams = filters.year_sql("r.year")
    params = {**params, **yparams}
    # the agencies asked for and their parent governments
    with_chosen = f"""
        WITH RECURSIVE chosen(id) AS (
            {chosen}
            UNION
            SELECT a.parent_id FROM agencies a JOIN chosen c ON a.id = c.id WHERE a.parent_id IS NOT NULL)"""
    agencies = _stream(conn, f"""{with_chosen}
        SELECT a.id, a.name, a.normalized_name, a.division_code, a.level, a.parent_id,
               COALESCE(n.reports, 0), n.first_year, n.last_year
        FROM agencies a
        LEFT JOIN (SELECT r.agency_id, COUNT(*) AS reports, MIN(r.year) AS first_year, MAX(r.year) AS last_year
                   FROM reports r WHERE {year} GROUP BY r.agency_id) n ON n.agency_id = a.id
        WHERE a.id IN (SELECT id FROM chosen) ORDER BY a.id""", params)
    names = _stream(conn, f"""{with_chosen if not filters.empty else ""}
        SELECT DISTINCT r.agency_id, d.agency_name FROM reports r
        JOIN report_documents rd ON rd.report_id = r.id JOIN documents d ON d.id = rd.document_id
        WHERE d.agency_name IS NOT NULL AND {year}
              {"" if filters.empty else "AND r.agency_id IN (SELECT id FROM chosen)"}
        ORDER BY r.agency_id, d.agency_name""", params)
    by_agency = groupby(names, key=lambda row: row[0])
    pending = next(by_agency, None)
    with _Writer(out, "agencies") as w:
        for agency_id, name, norm, code, level, parent, reports, first, last in agencies:
            while pending is not None and pending[0] < agency_id:
                pending = next(by_agency, None)
            printed = [n for _, n in pending[1]] if pending is not None and pending[0] == agency_id else []
            w.write([agency_id, name, norm, ";".join(printed), code, level, parent, reports, first, last])
        return {w.path.name: w.rows}


def _export_documents(conn: Connection, out: Output, where: str, params: dict[str, Any],
                      filters: Filters) -> dict[str, int]:
    scope = "1 = 1" if filters.empty else f"rd.report_id IN (SELECT r.id FROM reports r WHERE {where})"
    with _Writer(out, "documents") as w:
        for row in _stream(conn, f"""
                SELECT d.id, rd.report_id, d.url, d.final_url, d.parent_url, d.http_status, d.media_type, d.sha256,
                       d.size, d.fetched_at, d.portal_id, d.title, d.agency_name, d.year, d.template,
                       d.publication_date, d.report_kind, d.error_kind, d.error_message
                FROM documents d LEFT JOIN report_documents rd ON rd.document_id = d.id
                WHERE {scope} ORDER BY d.id""", params):
            w.write(row)
        return {w.path.name: w.rows}


def _export_checks(conn: Connection, out: Output, where: str, params: dict[str, Any],
                   filters: Filters) -> dict[str, int]:
    if filters.empty:
        scope = "1 = 1"
    else:
        chosen, aparams = filters.agencies_sql()
        params = {**params, **aparams}
        # by index: the chosen reports' documents' checks, their report checks, their agencies'
        # series checks (a scan of every check ordered by id read the whole table)
        chosen_reports = f"SELECT r.id FROM reports r WHERE {where}"
        scope = (f"ch.id IN (SELECT c.id FROM report_documents rs JOIN checks c ON c.document_id = rs.document_id "
                 f"WHERE rs.report_id IN ({chosen_reports}) "
                 f"UNION SELECT c.id FROM checks c WHERE c.report_id IN ({chosen_reports}) "
                 f"UNION SELECT c.id FROM checks c WHERE c.scope = 'series' AND c.agency_id IN ({chosen}))")
    rules: set[str] = set()
    false = "false" if conn.dialect.name == "postgresql" else "0"
    with _Writer(out, "checks") as w:
        # counts_for_report: the rows of the ``report_checks`` view (a report check, or a document
        # check of one of the report's sources), decided per row from what link stored
        for row in _stream(conn, f"""
                SELECT ch.id, ch.rule, ch.scope, ch."where", ch.expected, ch.found, ch.ok, ch.document_id,
                       COALESCE(ch.report_id, rd.report_id), COALESCE(ch.agency_id, rr.agency_id),
                       CASE WHEN ch.scope = 'report' THEN ch.report_id IS NOT NULL
                            WHEN ch.scope = 'document' THEN COALESCE(rd.source, {false})
                            ELSE {false} END
                FROM checks ch
                LEFT JOIN report_documents rd ON rd.document_id = ch.document_id
                LEFT JOIN reports rr ON rr.id = COALESCE(ch.report_id, rd.report_id)
                WHERE {scope} ORDER BY ch.id""", params):
            w.write(row)
            rules.add(row[1])
        files = {w.path.name: w.rows}
    with _Writer(out, "check_rules") as w:
        for row in rule_glossary(rules):
            w.write(row)
        files[w.path.name] = w.rows
    return files


def _export_conflicts(conn: Connection, out: Output, where: str, params: dict[str, Any]) -> dict[str, int]:
    with _Writer(out, "conflicts") as w:
        for row in _stream(conn, f"""
                SELECT c.id, c.report_id, c.document_id, c."table", c.row_key, c.column_key, c.canonical_value,
                       c.other_value
                FROM report_conflicts c JOIN reports r ON r.id = c.report_id WHERE {where} ORDER BY c.id""", params):
            w.write(row)
        return {w.path.name: w.rows}


def _export_coverage(conn: Connection, out: Output, filters: Filters) -> dict[str, int]:
    chosen, params = filters.agencies_sql()
    agency = f"a.id IN ({chosen})"
    year, yparams = filters.year_sql("cv.year")
    with _Writer(out, "coverage") as w:
        for row in _stream(conn, f"""
                SELECT cv.agency_id, cv.agency, cv.division_code, cv.level, cv.year, cv.status, cv.report_id,
                       cv.documents, cv.failed_documents, cv.failed_checks
                FROM coverage cv JOIN agencies a ON a.id = cv.agency_id
                WHERE {agency} AND {year} ORDER BY a.normalized_name, cv.year""", {**params, **yparams}):
            w.write(row)
        return {w.path.name: w.rows}


# ------------------------------------------------------------------ codebook and rule glossary
def codebook() -> list[list[str]]:
    """Every row and column key of the exports with the templates that print it and its printed label."""
    out: list[list[str]] = []
    for key in TABLE2_ROWS:
        tpls = [t for t in ("2019", "2021") if key in L.TABLE2[t]]
        out.append(["table2", "row", key, " ".join(tpls), L.TABLE2[tpls[0]][key][0][0]])
    for key in TABLE2_COLUMNS:
        tpls = [t for t in ("2019", "2021") if any(key in cols for _, cols in L.TABLE2[t].values())]
        out.append(["table2", "column", key, " ".join(tpls), L.COLUMN_LABELS["table2"][key]])
    for key in TABLE3_ROWS:
        # the undivided （六）其他处理 row is the 2019 template's, and some 2021-template reports keep it
        tpls = ["2019", "2021"] if key == "other" else [t for t in ("2019", "2021") if key in L.TABLE3_ROWS[t]]
        if key in L.TABLE3_TOP:
            label = L.TABLE3_TOP[key][0]
        elif key in L.TABLE3_GROUPS:
            label = f"{L.TABLE3_GROUPS[key]}（一行）"
        else:
            label = f"{L.TABLE3_GROUPS[key.split('.')[0]]}·{L.TABLE3_ITEMS[key][0]}"
        out.append(["table3", "row", key, " ".join(tpls), label])
    out += [["table3", "column", k, "2019 2021", L.COLUMN_LABELS["table3"][k]] for k in TABLE3_COLUMNS]
    out += [["table4", "row", k, "2019 2021", L.TABLE4_GROUP_LABELS[k]] for k in TABLE4_ROWS]
    out += [["table4", "column", k, "2019 2021", L.COLUMN_LABELS["table4"][k]] for k in TABLE4_COLUMNS]
    return out


def _zero_tables() -> dict[str, dict[str, dict[str, int]]]:
    """Every table of the 2021 template filled with zeros (every rule applies to it)."""
    return {
        "table2": {row: {c: 0 for c in cols} for row, (_labels, cols) in L.TABLE2["2021"].items()},
        "table3": {row: {c: 0 for c in TABLE3_COLUMNS} for row in L.TABLE3_ROWS["2021"]},
        "table4": {g: {c: 0 for c in TABLE4_COLUMNS} for g in TABLE4_ROWS},
    }




@cache
def defined_rules() -> tuple[str, ...]:
    """Every rule name the extractor can emit, derived from where the rules are defined: the
    template arithmetic and the prose checks are *run* on a zero-filled template
    (`checks.run_checks`, `checks.narrative_checks` over `narrative.PATTERNS`), the layout notes
    are `interpret.LAYOUT_RULES` (pinned against the module's source by a test); the series
    rules are `harvester.agency.series` (`SERIES_RULES`, `GAP_RULE`). Report checks (scope
    report) run the document rules on merged numbers, under the same names."""
    from types import SimpleNamespace

    from harvester.agency.series import GAP_RULE, SERIES_RULES
    from harvester.extract import checks, interpret, narrative

    tables = _zero_tables()
    record = SimpleNamespace(**tables)
    names = {c.rule for c in checks.run_checks(record)}
    stated = [narrative.Statement(t, rows, col, 0, "") for _p, t, rows, col in narrative.PATTERNS]
    names |= {c.rule for c in checks.narrative_checks(record, stated)}
    names |= {f"{table}.{suffix}" for suffix in interpret.LAYOUT_RULES for table in TABLES}
    names |= {rule.rule for rule in SERIES_RULES} | {GAP_RULE}
    return tuple(sorted(names))


def rule_family(rule: str) -> str | None:
    """The data dictionary's family entry that describes `rule`, or None."""
    families = dictionary()["rules"]
    if rule in families:
        return rule
    table, _, rest = rule.partition(".")
    if table in TABLES and "{table}." + rest in families:
        return "{table}." + rest
    if table + ".*" in families:
        return table + ".*"
    return None


def rule_glossary(seen: Iterable[str] = ()) -> list[list[str]]:
    """check_rules.csv: every defined rule and every rule in checks.csv, described once
    per family in the data dictionary ("(not described)" flags a rule nobody documented)."""
    out = []
    for rule in sorted(set(defined_rules()) | set(seen)):
        family = rule_family(rule)
        out.append([rule, family or "", dictionary()["rules"][family] if family else "(not described)"])
    return out


# ------------------------------------------------------------------ datapackage.json and docs
def _schema_field(f: dict[str, Any]) -> dict[str, Any]:
    out = {k: f[k] for k in ("name", "type", "title", "description") if k in f}
    if f["type"] == "datetime":
        out["format"] = "%Y-%m-%dT%H:%M:%SZ"
    return out


def datapackage(encoding: str = "utf-8", out: Path | None = None, *, gzip: bool = False) -> dict[str, Any]:
    """The Frictionless data package descriptor of an export (types, descriptions, keys from the
    dictionary); with `gzip` each file is ``NAME.csv.gz`` (``"compression": "gz"``), its size and
    hash those of the compressed file as it lies on disk."""
    d = dictionary()
    resources = []
    for res in d["resources"]:
        schema: dict[str, Any] = {"fields": [_schema_field(f) for f in fields(res["name"])],
                                  "missingValues": [""], "primaryKey": res["primary_key"]}
        if res.get("foreign_keys"):
            schema["foreignKeys"] = [
                {"fields": fk["fields"],
                 "reference": {"resource": "" if fk["resource"] == res["name"] else fk["resource"],
                               "fields": fk["reference"]}} for fk in res["foreign_keys"]]
        name = res["path"] + (".gz" if gzip else "")
        entry: dict[str, Any] = {"name": res["name"], "path": name, "title": res["title"],
                                 "description": res["description"], "profile": "tabular-data-resource",
                                 "format": "csv", "mediatype": "text/csv", "encoding": encoding, "schema": schema}
        if gzip:
            entry["compression"] = "gz"
        if out is not None and (out / name).exists():
            with (out / name).open("rb") as fh:  # streamed: cells.csv runs to tens of GB nationally
                digest = hashlib.file_digest(fh, "sha256")
            entry["bytes"] = (out / name).stat().st_size
            entry["hash"] = "sha256:" + digest.hexdigest()
        resources.append(entry)
    return {"profile": "tabular-data-package", "name": "govreports", "title": d["title"],
            "description": d["description"], "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": resources}


def write_datapackage(out: Output) -> Path:
    path = out.dir / "datapackage.json"
    package = datapackage(out.encoding, out.dir, gzip=out.gzip)
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def dictionary_markdown() -> str:
    """docs/data-dictionary.md, generated from docs/data-dictionary.toml."""
    d = dictionary()
    lines = ["# Data dictionary", "", "<!-- generated from data-dictionary.toml by "
             "`python -m harvester.export --dictionary-md`; do not edit -->", "", d["title"], "", d["description"], ""]
    for res in d["resources"]:
        lines += [f"## `{res['path']}`: {res['title']}", "", res["description"], "",
                  f"Primary key: `{', '.join(res['primary_key'])}`."]
        for fk in res.get("foreign_keys", []):
            lines.append(f"Foreign key: `{', '.join(fk['fields'])}` → `{fk['resource']}.{', '.join(fk['reference'])}`.")
        lines += ["", "| column | type | description |", "|---|---|---|"]
        if "wide" in res:
            lines += [f"| `{f['name']}` | {f['type']} | {f['description']} |" for f in d["wide"]["prefix"]]
            lines.append(f"| `{'`, `'.join(TABLES[res['wide']][1])}` | number | one column per column key "
                         "(codebook.csv); empty when the report has no number there |")
        else:
            lines += [f"| `{f['name']}` | {f['type']} | {f['description']} |" for f in res["fields"]]
        lines.append("")
    lines += ["## Codes", ""]
    for name, code in d["codes"].items():
        lines += [f"### `{name}`", "", code["description"], "", "| code | meaning |", "|---|---|"]
        lines += [f"| `{k}` | {v} |" for k, v in code["values"].items()]
        lines.append("")
    lines += ["## Check rules", "", "Rule names come from the code (`check_rules.csv` lists each one); "
              "each family is described here.", "", "| family | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in d["rules"].items()]
    lines += ["", "## SQL views", "", "| view | holds |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in d["views"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import sys

    if sys.argv[1:] == ["--dictionary-md"]:
        target = DICTIONARY_PATH.with_suffix(".md")
        target.write_text(dictionary_markdown(), encoding="utf-8")
        print(target)
    else:
        sys.exit("usage: python -m harvester.export --dictionary-md")
