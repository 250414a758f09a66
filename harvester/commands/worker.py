"""`harvester worker`: a Celery worker taking the harvest's tasks from the Redis broker."""
from __future__ import annotations

import socket
from typing import Annotated, Optional

import typer

from harvester.cli import app

Broker = Annotated[Optional[str], typer.Option("--broker", envvar="HARVESTER_BROKER",
                                               help="Redis URL of the broker. Default redis://127.0.0.1:6379/0")]


@app.command("worker")
def worker_command(
    broker: Broker = None,
    concurrency: Annotated[Optional[int], typer.Option(
        "--concurrency", "-c", min=1, help="Tasks run at once (processes). Default: every core")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Worker name. Default: harvester@HOST")] = None,
    beat: Annotated[bool, typer.Option(
        "--beat", help="Also run the beat schedule (the nightly crawl); on ONE worker only.")] = False,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
) -> None:
    """Start a worker: it crawls portals (one per task), extracts batches of documents, links and
    exports, on the database and data directory each task names. Start one per machine (or more);
    tasks of a worker that dies are delivered again to another."""
    import os

    if broker:
        os.environ["HARVESTER_BROKER"] = broker  # read when harvester.celery_app is first imported
    from harvester.celery_app import app as celery
    argv = ["worker", f"--loglevel={log_level}", f"--hostname={name or 'harvester@' + socket.gethostname()}",
            "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        argv.append("--beat")
    celery.worker_main(argv)
