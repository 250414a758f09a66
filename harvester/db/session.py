"""Engines, sessions and schema upgrades.

Every command that touches the database calls `upgrade()` first (through
`harvester.store.Store`), so a fresh or older database is brought to the current
schema automatically. Migrations run programmatically from the installed package:
no `alembic.ini` in the working directory is needed.

Several processes may start at once on a fresh database (workers on many machines, a
crawl and an export), and a process may be killed in the middle of a migration. So every
upgrade runs once and all at once:

* PostgreSQL: one transaction (PostgreSQL's DDL is transactional) holding
  ``pg_advisory_xact_lock``; the second process waits, then finds the schema at head.
* SQLite: an exclusive ``flock`` on ``<database>.migrate-lock`` beside the file, and the
  whole upgrade in one ``BEGIN IMMEDIATE`` transaction on a connection whose driver does
  not commit on its own around DDL (pysqlite's default would), so a kill at any point rolls
  back to the previous revision instead of leaving half-copied tables behind.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from threading import Lock
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_upgraded: set[str] = set()
_lock = Lock()
#: Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number).
PG_MIGRATION_LOCK = 0x68617276657374  # "harvest"


def make_engine(db_url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys on and a busy timeout (several writers)."""
    if db_url.startswith("sqlite"):
        engine = create_engine(db_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(db_url, pool_pre_ping=True)


def alembic_config(db_url: str):
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def _transactional_sqlite_engine(db_url: str) -> Engine:
    """A SQLite engine whose transactions are real ones, DDL included: the driver's own
    transaction handling is switched off and every transaction starts with BEGIN IMMEDIATE
    (the write lock is taken at once, waiting up to the busy timeout)."""
    engine = make_engine(db_url)

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
        dbapi_conn.isolation_level = None
        # A batch migration copies a table and drops the old one; with foreign keys on, that DROP
        # deletes (or cascades through) every row referencing it. Off for the migration (it can
        # only change outside a transaction), checked with `foreign_key_check` before commit.
        dbapi_conn.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn) -> None:  # pragma: no cover - trivial
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def upgrade(db_url: str | Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (idempotent; cheap after the first call per URL).

    Safe when several processes call it at once, and atomic: see the module docstring.
    Every view is dropped first and `harvester.db.views` are created again after the migrations,
    in the same transaction (at ``head`` only: an older revision may lack what they read); views
    are not part of the migrations because SQLite batch migrations cannot copy a table a view uses.
    """
    from alembic import command
    from alembic.migration import MigrationContext

    url = db_url.url if isinstance(db_url, Engine) else make_url(db_url)
    key = url.render_as_string(hide_password=False)
    with _lock:
        if revision == "head" and key in _upgraded:
            return
        sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        if url.get_backend_name() == "sqlite" and not sqlite_file and isinstance(db_url, Engine):
            engine, own = db_url, False  # in-memory SQLite: its one database lives in the caller's engine
        else:
            engine, own = (_transactional_sqlite_engine(key) if sqlite_file else make_engine(key)), True
        from harvester.db.views import create_views, drop_views

        cfg = alembic_config(key)
        try:
            lock: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
            if sqlite_file:
                db_path = Path(str(url.database))
                db_path.parent.mkdir(parents=True, exist_ok=True)
                lock = _file_lock(db_path.with_name(db_path.name + ".migrate-lock"))
            with lock, engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
                drop_views(conn)
                cfg.attributes["connection"] = conn
                before = MigrationContext.configure(conn).get_current_revision()
                command.upgrade(cfg, revision)
                if revision == "head":
                    create_views(conn)
                # only after a migration ran: the check reads every row of every table with a
                # foreign key (55 s of each command's start on a 1M-report database)
                if sqlite_file and MigrationContext.configure(conn).get_current_revision() != before:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration to {revision} left broken references: {broken[:5]}")
        finally:
            if own:
                engine.dispose()
        if revision == "head":
            _upgraded.add(key)


def current_revision(db_url: str) -> str | None:
    from alembic.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def head_revision() -> str:
    """The newest migration shipped with this version of the package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
