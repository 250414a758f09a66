"""Engines, sessions and schema upgrades.

Every command that touches the database calls `upgrade()` first (through
`harvester.store.Store`), so a fresh or older database is brought to the current
schema automatically. Migrations run programmatically from the installed package:
no `alembic.ini` in the working directory is needed.
"""
from __future__ import annotations

from pathlib import Path
from threading import Lock

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_upgraded: set[str] = set()
_lock = Lock()


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


def upgrade(db_url: str | Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (idempotent; cheap after the first call per URL)."""
    from alembic import command

    engine = db_url if isinstance(db_url, Engine) else make_engine(db_url)
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        if revision == "head" and key in _upgraded:
            return
        if not isinstance(db_url, Engine) and key.startswith("sqlite:///"):
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        cfg = alembic_config(key)
        raw = None
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                # pysqlite does not put DDL in a transaction: a process killed during a migration
                # would leave a half-made schema ("table agencies already exists" forever after).
                # BEGIN IMMEDIATE makes the migration all or nothing (and one migrator at a time).
                raw = conn.connection.driver_connection
                raw.isolation_level = None
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        if raw is not None:
            raw.isolation_level = ""  # back to pysqlite's default for the pooled connection
        if revision == "head":
            _upgraded.add(key)
        if not isinstance(db_url, Engine):
            engine.dispose()


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
