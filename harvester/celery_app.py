"""The Celery application: many machines share the harvest through a Redis broker.

Units of work (`harvester/tasks.py`): one portal crawl per task (so per-host politeness
holds inside one Scrapy process), a batch of documents to extract, the link step, the export.
Every task is idempotent and acknowledged late (`task_acks_late`, `task_reject_on_worker_lost`):
a task whose worker dies is delivered again, and running it again adds nothing twice.

Configuration from the environment (the same on every machine):

* ``HARVESTER_BROKER``: the Redis URL (default ``redis://127.0.0.1:6379/0``);
* ``HARVESTER_VISIBILITY_TIMEOUT``: seconds after which a task taken by a worker that vanished
  (machine lost, not just its process) goes back to the queue (default 3600; a crawl of one
  portal must finish within it);
* ``HARVESTER_NIGHTLY``: ``HH:MM`` UTC of the beat schedule's nightly crawl of every registered
  portal (default 02:17); ``HARVESTER_NIGHTLY_EXPORT``: a folder to export to every day at
  ``HARVESTER_NIGHTLY_EXPORT_AT`` (default 06:17; no export when unset).

Results are not stored (no result backend): the database is the record of what was done.
"""
from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def make_app(broker: str | None = None) -> Celery:
    app = Celery("harvester", broker=broker or os.environ.get("HARVESTER_BROKER", DEFAULT_BROKER),
                 include=["harvester.tasks"])
    schedule = {"nightly-crawl": {"task": "harvester.nightly", "schedule": _daily("HARVESTER_NIGHTLY", "02:17")}}
    if os.environ.get("HARVESTER_NIGHTLY_EXPORT"):
        schedule["nightly-export"] = {"task": "harvester.nightly_export",
                                      "schedule": _daily("HARVESTER_NIGHTLY_EXPORT_AT", "06:17")}
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the task it runs
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(os.environ.get("HARVESTER_VISIBILITY_TIMEOUT", 3600))},
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule=schedule,
    )
    return app


def _daily(variable: str, default: str) -> crontab:
    value = os.environ.get(variable, default)
    hour, sep, minute = value.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        from harvester.errors import ConfigError

        raise ConfigError(f"{variable}={value!r}: expected HH:MM (UTC)")
    return crontab(hour=int(hour), minute=int(minute))


app = make_app()
