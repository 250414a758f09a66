"""`harvester db upgrade|current`: schema migrations (every command also upgrades on start)."""
from __future__ import annotations

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, check_writable

db_app = typer.Typer(help="Database schema: upgrade to the latest migration, show the current one.",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade_command(data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Apply every pending migration (safe to run again)."""
    from harvester.config import resolve
    from harvester.db.session import current_revision, upgrade

    settings = resolve(data_dir, db)
    check_writable(settings.data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url)
    typer.echo(f"database at revision {current_revision(settings.db_url)}")


@db_app.command("current")
def current_command(data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Print the database's current migration revision (empty if none)."""
    from harvester.config import resolve
    from harvester.db.session import current_revision

    settings = resolve(data_dir, db)
    typer.echo(current_revision(settings.db_url) or "")
