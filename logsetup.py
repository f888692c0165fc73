"""Logging for every process: JSON lines carrying the request or task they belong to.

``log_context`` is a context variable (greenlet-local under gevent, thread-local
in workers) that request hooks and the task middleware fill; every record
logged while it is set carries its fields (``request_id``, ``task_id``, ``actor``).
"""
from __future__ import annotations

import contextvars
import logging

from pythonjsonlogger.json import JsonFormatter

log_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})


class ContextFilter(logging.Filter):
    """Copies the current ``log_context`` onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_context.get().items():
            setattr(record, key, value)
        return True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger's records to stderr as JSON lines (or plain text) with context."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if fmt == "json":
            handler.setFormatter(JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"}))
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
    root.setLevel(level)
