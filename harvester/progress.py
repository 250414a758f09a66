"""Progress of long commands: Rich bars on a terminal, plain periodic lines otherwise.

One component for every command (crawl per portal, ingest, extract, reextract, export, nightly)::

    with Progress() as progress:
        task = progress.task("ingest", total=len(files), unit="files")
        for f in files:
            ...
            task.advance()

On a terminal (stderr is a tty) each task is a Rich progress bar (a spinner and a count when the
total is unknown, e.g. a portal's pages). Otherwise — cron, systemd, a pipe — each task prints a
plain line to stderr when it starts, every ``HARVESTER_PROGRESS_INTERVAL`` seconds (default 30)
while it moves, and when it ends::

    progress: ingest 120/480 files (25%) 00:42

The output goes to stderr so that stdout stays machine-readable (``--format json``).
``HARVESTER_PROGRESS=off`` silences it; ``HARVESTER_PROGRESS=plain`` forces the plain lines.

`CrawlProgress` is the Scrapy extension that feeds one task per portal from the crawl signals
(pages fetched, documents stored); `harvester crawl` and `harvester nightly` enable it.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO


def _interval() -> float:
    try:
        return float(os.environ.get("HARVESTER_PROGRESS_INTERVAL", "30"))
    except ValueError:
        return 30.0


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Task:
    def __init__(self, owner: "Progress", name: str, total: int | None, unit: str) -> None:
        self.owner, self.name, self.total, self.unit = owner, name, total, unit
        self.done = 0
        self.note = ""
        self.started = self.last_line = time.monotonic()
        self.rich_id: Any = None
        self.finished = False

    def advance(self, n: int = 1, note: str | None = None) -> None:
        self.done += n
        if note is not None:
            self.note = note
        self.owner._update(self)

    def update(self, *, done: int | None = None, total: int | None = None, note: str | None = None) -> None:
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        self.owner._update(self)

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.owner._finish(self)

    def line(self) -> str:
        count = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        pct = f" ({100 * self.done // self.total}%)" if self.total else ""
        note = f" {self.note}" if self.note else ""
        return (f"progress: {self.name} {count} {self.unit}{pct}{note} "
                f"{_clock(time.monotonic() - self.started)}").replace("  ", " ")


class Progress:
    """Bars on a terminal, plain lines elsewhere (see the module docstring)."""

    def __init__(self, stream: TextIO | None = None, *, mode: str | None = None) -> None:
        self.stream = stream or sys.stderr
        mode = mode or os.environ.get("HARVESTER_PROGRESS", "auto")
        if mode == "auto":
            mode = "bars" if _isatty(self.stream) else "plain"
        self.mode = mode  # bars | plain | off
        self.interval = _interval()
        self.tasks: list[Task] = []
        self._rich: Any = None

    def __enter__(self) -> "Progress":
        if self.mode == "bars":
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn,
                                       TextColumn, TimeElapsedColumn)

            console = Console(file=self.stream, force_terminal=True)
            self._rich = RichProgress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TextColumn("{task.fields[unit]} {task.fields[note]}"),
                                      TimeElapsedColumn(), console=console, transient=False,
                                      redirect_stdout=False, redirect_stderr=False)
            self._rich.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.finish()
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def task(self, name: str, total: int | None = None, unit: str = "") -> Task:
        task = Task(self, name, total, unit)
        self.tasks.append(task)
        if self._rich is not None:
            task.rich_id = self._rich.add_task(name, total=total, unit=unit, note="")
        elif self.mode == "plain":
            self._print(task)
        return task

    def _update(self, task: Task) -> None:
        if self._rich is not None:
            self._rich.update(task.rich_id, completed=task.done, total=task.total, note=task.note)
        elif self.mode == "plain" and time.monotonic() - task.last_line >= self.interval:
            self._print(task)

    def _finish(self, task: Task) -> None:
        if self._rich is not None:
            total = task.total if task.total is not None else task.done
            self._rich.update(task.rich_id, completed=task.done, total=total, note=task.note)
        elif self.mode == "plain":
            self._print(task, final=True)

    def _print(self, task: Task, final: bool = False) -> None:
        task.last_line = time.monotonic()
        print(task.line() + (" done" if final else ""), file=self.stream, flush=True)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class CrawlProgress:
    """Scrapy extension: one progress task per portal (pages fetched, documents found, errors).
    Enabled with the setting ``HARVESTER_PROGRESS`` (True in `harvester crawl` / `nightly`)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Task] = {}
        self.found: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CrawlProgress":
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("HARVESTER_PROGRESS", False):
            raise NotConfigured("HARVESTER_PROGRESS is off")
        progress = Progress()
        if progress.mode == "off":
            raise NotConfigured("HARVESTER_PROGRESS=off in the environment")
        ext = cls(progress)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.progress.__enter__()
        for portal_id in getattr(spider, "portal_ids", []) or []:
            self.tasks[portal_id] = self.progress.task(f"crawl {portal_id}", None, "pages")

    def _note(self, portal: str) -> str:
        errors = self.errors.get(portal, 0)
        return f"{self.found.get(portal, 0)} documents" + (f", {errors} errors" if errors else "")

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        portal = request.meta.get("portal_id")
        if portal in self.tasks:
            self.tasks[portal].advance(note=self._note(portal))

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        portal = dict(item).get("portal_id")
        if portal in self.tasks:
            target = self.errors if dict(item).get("fetch_error") else self.found
            target[portal] = target.get(portal, 0) + 1
            self.tasks[portal].update(note=self._note(portal))

    def spider_closed(self, spider: Any) -> None:
        self.progress.__exit__(None, None, None)
