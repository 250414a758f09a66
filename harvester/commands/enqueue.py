"""`harvester enqueue [--all | PORTAL ...]`: queue a run for the Celery workers."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from harvester.cli import app
from harvester.commands.options import DataDir, DbUrl
from harvester.commands.worker import Broker


@app.command("enqueue")
def enqueue_command(
    portals: Annotated[Optional[list[str]], typer.Argument(help="Portal ids from the registry.")] = None,
    all_portals: Annotated[bool, typer.Option("--all", help="Every registered portal.")] = False,
    extract_pending: Annotated[bool, typer.Option(
        "--extract-pending", help="Queue the documents pending extraction (in batches), then link.")] = False,
    export_to: Annotated[Optional[Path], typer.Option("--export", help="Queue an export to this folder.")] = None,
    registry: Annotated[Optional[list[Path]], typer.Option(
        "--registry", help="Extra registry TOML file (repeatable); also $HARVESTER_REGISTRY.")] = None,
    host_map: Annotated[Optional[list[str]], typer.Option(
        "--host-map", help="HOST=ADDR:PORT for the workers' crawls (repeatable).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Scrapy setting override KEY=VALUE for the workers' crawls (repeatable).")] = None,
    broker: Broker = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Queue one crawl task per portal (each then queues its extraction batches and the link).

    The database (PostgreSQL when workers run on several machines) and the data directory
    (a shared folder) named here are the ones every worker uses for these tasks.
    """
    from harvester import registry as reg_mod
    from harvester.config import resolve
    from harvester.errors import ConfigError
    from harvester.hostmap import parse_host_map
    from harvester.store import Store

    try:
        reg = reg_mod.load(registry or ())
        if all_portals and portals:
            raise ConfigError("give portal ids or --all, not both")
        chosen = list(reg.values()) if all_portals else reg.select(portals or ())
        if not chosen and not extract_pending and export_to is None:
            raise ConfigError("nothing to queue: name portal ids, --all, --extract-pending or --export")
        parse_host_map(host_map or [])
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    settings = resolve(data_dir, db)
    with Store(settings.db_url, settings.data_dir) as store:  # the schema exists before any worker starts
        from harvester.commands.crawl import register_portals

        register_portals(store, chosen)
    where = {"db": settings.db_url, "data_dir": str(settings.data_dir),
             "registry": [str(p.resolve()) for p in registry or ()], "host_map": list(host_map or []), "set": list(set_ or [])}
    if broker:
        os.environ["HARVESTER_BROKER"] = broker  # read when harvester.celery_app is first imported
    from harvester import tasks

    for portal in chosen:
        tasks.crawl_portal.delay(portal.id, where)
    batches = tasks.queue_extraction(where) if extract_pending else 0
    if export_to is not None:
        tasks.export_step.delay(where, str(export_to.resolve()))
    typer.echo(f"queued {len(chosen)} portal crawls, {batches} extraction batches"
               + (f", an export to {export_to}" if export_to is not None else ""))
