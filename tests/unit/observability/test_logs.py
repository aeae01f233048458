"""Plain and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from asyncstt.observability.logs import (
    FORMAT_SETTING,
    JsonFormatter,
    configure_logging,
    json_requested,
)


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, with its handlers and level put back afterwards."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)


def emit(root: logging.Logger, message: str, *args: object, **extra: object) -> str:
    """Send one record through the handler configure_logging installed, captured in memory."""
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    logging.getLogger("asyncstt.test").info(message, *args, extra=extra)
    return stream.getvalue()


def test_json_lines_carry_the_operation_and_request_ids(root: logging.Logger) -> None:
    configure_logging(json=True)
    line = emit(root, "finished %s", "op1", operation_id="op1", request_id="req9")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    entry = json.loads(line)
    assert entry["message"] == "finished op1"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "asyncstt.test"
    assert entry["operation_id"] == "op1"
    assert entry["request_id"] == "req9"
    assert entry["time"].endswith("+00:00")


def test_json_lines_leave_out_ids_a_record_does_not_have(root: logging.Logger) -> None:
    configure_logging(json=True)
    entry = json.loads(emit(root, "claimed"))
    assert set(entry) == {"time", "level", "logger", "message"}


def test_an_exception_stays_on_one_line() -> None:
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: broken" in json.loads(line)["exception"]


def test_plain_lines_are_the_usual_format(root: logging.Logger) -> None:
    configure_logging(json=False)
    line = emit(root, "claimed %s", "op1", operation_id="op1")
    assert line.rstrip("\n").endswith(" INFO asyncstt.test: claimed op1")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_the_environment_picks_json(root: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FORMAT_SETTING, "JSON")
    assert json_requested()
    configure_logging()
    assert json.loads(emit(root, "hello"))["message"] == "hello"
    monkeypatch.setenv(FORMAT_SETTING, "plain")
    assert not json_requested()


def test_configuring_twice_keeps_one_handler_at_the_level_asked(root: logging.Logger) -> None:
    configure_logging(json=True)
    configure_logging("warning", json=False)
    assert len(root.handlers) == 1
    assert root.level == logging.WARNING
