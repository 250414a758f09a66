"""`harvester extract-pending [--workers N]`: the extraction stage over archived documents."""
from __future__ import annotations

from typing import Annotated

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl, Workers


@app.command("extract-pending")
def extract_pending_command(
    workers: Workers = None,
    link: Annotated[bool, typer.Option("--link/--no-link", help="Link reports afterwards.")] = True,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Extract every archived document not extracted yet, on a pool of processes (default: every
    core), recording the extractor version on each; then link.

    A crawl stores documents pending and runs this at its end; run it yourself after
    `crawl --fetch-only` or `ingest --store-only`, or on another machine sharing the database
    and archive. Running it twice extracts nothing twice.
    """
    from harvester.config import resolve
    from harvester.store import Store, default_workers

    settings = resolve(data_dir, db)
    with Store(settings.db_url, settings.data_dir) as store:
        stats = store.extract_pending(workers)
        line = (f"extracted {stats.extracted} documents on {workers or default_workers()} workers "
                f"({stats.archive_errors} archive errors)")
        if link:
            line += f"; {store.link()}"
    typer.echo(line)
    if stats.archive_errors:
        raise typer.Exit(code=1)
