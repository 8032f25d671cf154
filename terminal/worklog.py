"""The worker's log (issue 17, item 4): one line per firing (INFO), retry (WARNING) and incident or
failure (ERROR), and with ``--verbose`` what it skipped (DEBUG), through Python's logging (logger
``hall``, so the engine's own warnings land in the same stream).

A line starts with what happened, then where: ``fired    instance 12     remind  due 2026-…``;
warnings and errors carry their level first (``WARNING retry …``), so that ``grep`` finds them.
"""

from __future__ import annotations

import logging
from typing import Any, TextIO

#: The level of each kind of worker event (engine.jobs.worker.Event).
LEVELS = {
    "fired": logging.INFO,
    "retry": logging.WARNING,
    "incident": logging.ERROR,
    "error": logging.ERROR,
    "group_failed": logging.ERROR,
    "stale": logging.DEBUG,
    "released": logging.DEBUG,
    "lost": logging.DEBUG,
}


class _Format(logging.Formatter):
    """The message alone at INFO and below; the level name first from WARNING up."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        return f"{record.levelname} {text}" if record.levelno >= logging.WARNING else text


class EventLog:
    """A logger that turns worker events into log records."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def debug(self, message: str, *args: Any) -> None:
        """A DEBUG line (shown with --verbose)."""
        self.logger.debug(message, *args)

    def event(self, event: Any) -> None:
        """Log one worker event at its kind's level."""
        job = event.job
        where = f"instance {job.instance_id:<6}" if job.instance_id is not None else f"starts {job.process_id:<9}"
        text = f"{event.kind:<8} {where} {job.element:<20} due {job.due_at.isoformat()}"
        if event.error:
            text += f"  error: {event.error}"
        if event.next_due:
            text += f"  next attempt {event.next_due.isoformat()}"
        self.logger.log(LEVELS.get(event.kind, logging.INFO), text)


def event_logger(verbose: bool, stream: TextIO | None) -> EventLog:
    """The worker's log on ``stream`` (None: silent, as with --json), INFO and up, DEBUG with ``verbose``."""
    logger = logging.getLogger("hall")
    for old in [h for h in logger.handlers if getattr(h, "hall_worker", False)]:
        logger.removeHandler(old)  # a second run in one process (tests) replaces the first's handler
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    if stream is None:
        logger.addHandler(logging.NullHandler())
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(_Format())
        handler.hall_worker = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return EventLog(logger)
