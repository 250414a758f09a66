"""Where data lives: the data directory (archive, SQLite file, exports) and the database URL.

Resolution order: command-line option, then environment (`HARVESTER_DATA_DIR`,
`HARVESTER_DB`), then the default `./data` with SQLite `./data/harvester.sqlite`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_url: str

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"


#: URL schemes other tools write for PostgreSQL, mapped to the driver the harvester ships (psycopg 3).
POSTGRES_SCHEMES = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


def normalize_db_url(url: str) -> str:
    """``postgres://`` (Heroku, libpq docs) and bare ``postgresql://`` mean PostgreSQL through psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in POSTGRES_SCHEMES:
        return f"{POSTGRES_SCHEMES[scheme.lower()]}://{rest}"
    return url


def resolve(data_dir: str | Path | None = None, db_url: str | None = None) -> Settings:
    root = Path(data_dir or os.environ.get("HARVESTER_DATA_DIR") or "data").resolve()
    url = db_url or os.environ.get("HARVESTER_DB") or f"sqlite:///{root / 'harvester.sqlite'}"
    return Settings(data_dir=root, db_url=normalize_db_url(url))
