"""Options shared by every command that touches the database or data directory."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

DataDir = Annotated[Optional[str], typer.Option("--data-dir", envvar="HARVESTER_DATA_DIR",
                                                 help="Data directory (archive, SQLite file). Default ./data")]
DbUrl = Annotated[Optional[str], typer.Option("--db", envvar="HARVESTER_DB",
                                               help="SQLAlchemy database URL. Default: SQLite file in the data directory")]
