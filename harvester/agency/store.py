"""Agencies in the database: stable ids for identities, aliases, parents, recorded ambiguities.

`ensure_agencies` maps identity keys to agency ids, inserting the missing ones with
``INSERT … ON CONFLICT DO NOTHING`` (two `link` runs that meet on a new agency both get its one
row). An id, once given, is never re-keyed: a longer printed name later only updates ``name``
(the most complete form printed so far) and adds an alias. A database from before agency
identity (agencies keyed by their printed name) keeps its ids: an agency without a key whose
normalized name is printed again is adopted by the identity it resolves to.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from harvester.agency.divisions import divisions
from harvester.agency.resolve import GOVERNMENT, Identity, government_name, normalize_name
from harvester.db.models import Agency, AgencyAlias, AgencyAmbiguity

T = TypeVar("T")
#: ids per IN (…) list: far below PostgreSQL's 65,535 parameters and SQLite's 32,766
CHUNK = 500


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_ignore(s: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows into `model`'s table, skipping those that hit a unique constraint
    (``ON CONFLICT DO NOTHING``, PostgreSQL and SQLite). Every row names the same columns.

    On PostgreSQL the rows travel by ``COPY`` (a night's link writes tens of thousands of check
    rows: as multi-row ``INSERT … VALUES`` statements the driver spent more time parsing their
    placeholders than the server spent storing them). A table whose only unique key is a primary
    key the rows do not give (checks, conflicts) cannot conflict and is copied into directly;
    otherwise the rows are copied to a temporary table and moved with ``INSERT … SELECT … ON
    CONFLICT DO NOTHING``. On SQLite, one executemany of plain tuples (sqlite3's C loop, without
    SQLAlchemy's per-row parameter processing).
    """
    if not rows:
        return
    table = cast(Table, model.__table__)
    conn = s.connection()
    columns = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    processors = [(i, p) for i, c in enumerate(columns) if (p := _copy_processor(table.c[c].type, conn.dialect))]

    def values() -> Iterator[list[Any]]:
        for row in rows:
            out = [row[c] for c in columns]
            for i, process in processors:
                out[i] = process(out[i])
            yield out

    if conn.dialect.name != "postgresql":  # sqlite3's executemany: one C loop over plain tuples
        conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))}) "
                             "ON CONFLICT DO NOTHING", [tuple(v) for v in values()])
        return
    with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
        if not _may_conflict(table, columns):
            with cur.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in values():
                    copy.write_row(row)
            return
        stage = quote(f"_insert_{table.name}")
        cur.execute(f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
                    f"SELECT {names} FROM {quote(table.name)} WITH NO DATA")
        with cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in values():
                copy.write_row(row)
        cur.execute(f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")
        cur.execute(f"DROP TABLE {stage}")


def _copy_processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How a value of `type_` goes to the driver outside SQLAlchemy's statement execution (a COPY
    row, a plain executemany): JSON as its text (psycopg adapts it only in a bound parameter),
    else the type's own bind processing (SQLite's dates as text)."""
    from sqlalchemy import JSON

    if isinstance(type_, JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    return cast("Callable[[Any], Any] | None", type_.bind_processor(dialect))


def _may_conflict(table: Table, columns: list[str]) -> bool:
    """Can a row with these columns hit a unique key of `table`? (Not if the only one is a
    primary key the database generates.)"""
    from sqlalchemy import UniqueConstraint

    if any(c.name in columns for c in table.primary_key.columns):
        return True
    return any(isinstance(c, UniqueConstraint) for c in table.constraints) or any(
        i.unique for i in table.indexes) or any(c.unique for c in table.columns)


def _parent_key(identity_key: str) -> str | None:
    """The key of the parent government: a department's own government, a government's the
    enclosing division's (临淄区 → 淄博市 → 山东省)."""
    code, _, department = identity_key.partition(":")
    if code == "name":
        return None
    if department != GOVERNMENT:
        return f"{code}:{GOVERNMENT}"
    parent = divisions().by_code[code].parent if code in divisions().by_code else None
    return f"{parent}:{GOVERNMENT}" if parent else None


def _built(key: str) -> dict[str, Any]:
    """Row fields of an agency known from its key alone (a parent government)."""
    code, _, department = key.partition(":")
    name = government_name(code) if department == GOVERNMENT else divisions().full_name(code) + department
    return dict(name=name, normalized_name=name, division_code=code, level=divisions().by_code[code].level)


def ensure_agencies(s: Session, identities: Iterable[Identity]) -> dict[str, int]:
    """identity key -> agency id for every identity given (and their parent governments)."""
    printed: dict[str, Identity] = {}  # key -> the longest printed form seen in this batch
    names: dict[str, set[str]] = {}
    for ident in identities:
        names.setdefault(ident.key, set()).add(ident.name)
        if ident.key not in printed or len(ident.name) > len(printed[ident.key].name):
            printed[ident.key] = ident
    keys = set(printed)
    frontier = set(printed)
    while frontier:  # parent governments up to the province
        frontier = {p for p in map(_parent_key, frontier) if p and p not in keys}
        keys |= frontier
    ids = _ids(s, keys)
    _adopt_legacy(s, {k: names[k] for k in keys - set(ids) if k in names}, ids)
    missing = sorted(keys - set(ids))
    rows: list[dict[str, Any]] = []
    for key in missing:
        if key in printed:
            ident = printed[key]
            rows.append(dict(identity_key=key, name=ident.name, normalized_name=ident.name,
                             division_code=ident.division_code, level=ident.level))
        else:
            rows.append(dict(identity_key=key, **_built(key)))
    insert_ignore(s, Agency, rows)
    ids.update(_ids(s, set(missing)))
    _update_agencies(s, printed, ids)
    aliases = [dict(agency_id=ids[k], name=n, normalized=n, source="document")
               for k, ns in names.items() for n in sorted(ns)]
    aliases += [dict(agency_id=ids[r["identity_key"]], name=r["name"], normalized=r["normalized_name"],
                     source="division") for r in rows if r["identity_key"] not in printed]
    insert_ignore(s, AgencyAlias, aliases)
    return ids


def _ids(s: Session, keys: set[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for batch in chunks(sorted(keys)):
        out.update((k, i) for k, i in s.execute(select(Agency.identity_key, Agency.id)
                                                  .where(Agency.identity_key.in_(batch))) if k is not None)
    return out


def _adopt_legacy(s: Session, names: dict[str, set[str]], ids: dict[str, int]) -> None:
    """Agencies created before identity keys (keyed by printed name) keep their id."""
    by_name = {n: k for k, ns in names.items() for n in ns}
    for batch in chunks(sorted(by_name)):
        for agency_id, norm in s.execute(select(Agency.id, Agency.normalized_name).where(
                Agency.identity_key.is_(None), Agency.normalized_name.in_(batch)).order_by(Agency.id)).all():
            key = by_name[norm]
            if key not in ids:
                s.execute(update(Agency).where(Agency.id == agency_id).values(identity_key=key))
                ids[key] = agency_id


def _update_agencies(s: Session, printed: dict[str, Identity], ids: dict[str, int]) -> None:
    """Longer printed names, missing division codes / levels and parents of existing agencies."""
    current = {}
    for batch in chunks(sorted(ids.values())):
        current.update({r.id: r for r in s.execute(select(Agency.id, Agency.name, Agency.division_code,
                                                          Agency.level, Agency.parent_id)
                                                   .where(Agency.id.in_(batch)))})
    for key, agency_id in ids.items():
        row = current[agency_id]
        want: dict[str, Any] = {}
        ident = printed.get(key)
        if ident is not None:
            if len(ident.name) > len(row.name):
                want.update(name=ident.name, normalized_name=ident.name)
            if row.division_code is None and ident.division_code:
                want["division_code"] = ident.division_code
            if row.level is None and ident.level:
                want["level"] = ident.level
        parent = _parent_key(key)
        if parent is not None and row.parent_id != ids.get(parent):
            want["parent_id"] = ids[parent]
        if want:
            s.execute(update(Agency).where(Agency.id == agency_id).values(**want))


def record_ambiguities(s: Session, found: dict[int, tuple[Identity, int, str | None]],
                       document_ids: Sequence[int]) -> None:
    """Replace the recorded ambiguities of `document_ids`: `found` maps a document to its
    ambiguous identity, the agency it was filed under and its portal."""
    from sqlalchemy import delete

    for batch in chunks(document_ids):
        s.execute(delete(AgencyAmbiguity).where(AgencyAmbiguity.document_id.in_(batch)))
    data = divisions()
    rows = [dict(document_id=d, agency_id=agency_id, printed_name=ident.name, portal_id=portal,
                 candidate_codes=";".join(ident.candidates),
                 candidate_names=";".join(data.describe(c) for c in ident.candidates))
            for d, (ident, agency_id, portal) in sorted(found.items())]
    insert_ignore(s, AgencyAmbiguity, rows)


__all__ = ["CHUNK", "chunks", "ensure_agencies", "insert_ignore", "normalize_name", "record_ambiguities"]
