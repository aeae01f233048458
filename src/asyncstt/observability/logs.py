"""Logging for the server and the Dask workers: plain lines for a terminal, or one JSON object a line for a
log collector.

Log calls that concern one operation or request pass it as `extra={"operation_id": …}` or
`extra={"request_id": …}`; the JSON format turns those into fields of their own, so logs can be filtered by
operation across API hosts and workers.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

#: The environment variable that picks the format when the caller does not: `json` or `plain`.
FORMAT_SETTING = "ASYNCSTT_LOG_FORMAT"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Record attributes copied into JSON lines when a log call set them.
CONTEXT_FIELDS = ("operation_id", "request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, the context fields a
    record has, and `exception` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def json_requested() -> bool:
    """Whether the environment asks for JSON logs (`ASYNCSTT_LOG_FORMAT=json`)."""
    return os.environ.get(FORMAT_SETTING, "").strip().lower() == "json"


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Send this process's logs to stderr at `level`, as JSON lines when `json` is true.

    `json=None` reads `ASYNCSTT_LOG_FORMAT`. Replaces the handlers already on the root logger, so calling it
    again (a Dask worker that was configured by Dask first) switches the format rather than doubling lines.
    """
    use_json = json_requested() if json is None else json
    formatter = JsonFormatter() if use_json else logging.Formatter(PLAIN_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Dask gives its own loggers handlers that do not propagate; a worker's log stays one format only if
    # those handlers format like ours.
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and not logger.propagate:
            for own in logger.handlers:
                own.setFormatter(formatter)


class ThrottledLog:
    """One kind of event caused by clients (a refused request head, a connection closed by a limit) logged at
    most once per `interval_seconds`: the first line says what happened, the next one also how many times it
    happened in between. A flood of hostile traffic so costs a few log lines a minute, not one per
    connection."""

    def __init__(
        self,
        logger: logging.Logger,
        level: int,
        message: str,
        interval_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._level = level
        self._message = message
        self._interval = interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._next_at = float("-inf")
        self._unlogged = 0

    def __call__(self, *args: object) -> None:
        """One event; `args` fill the message's `%` fields."""
        now = self._clock()
        with self._lock:
            if now < self._next_at:
                self._unlogged += 1
                return
            unlogged, self._unlogged = self._unlogged, 0
            self._next_at = now + self._interval
        if unlogged:
            self._logger.log(
                self._level,
                self._message + " (and %d more like it since the last such line)",
                *args,
                unlogged,
            )
        else:
            self._logger.log(self._level, self._message, *args)
