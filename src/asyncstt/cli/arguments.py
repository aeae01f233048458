"""Command-line arguments shared by the commands: where the store is, durations and points in time."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asyncstt.errors import InvalidArgument


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """`--data-dir` and `--database`, which every command that opens the store takes."""
    parser.add_argument(
        "--data-dir", help="where the store and caches live (default: ./asyncstt-data)"
    )
    parser.add_argument(
        "--database",
        help="store URL, e.g. postgresql://user@host/db (default: SQLite in the data dir)",
    )


def store_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The settings `add_store_options` gave on the command line."""
    values: dict[str, object] = {}
    if getattr(args, "data_dir", None):
        values["data_dir"] = Path(args.data_dir)
    if getattr(args, "database", None):
        values["database_url"] = args.database
    return values


_DURATION = re.compile(r"(\d+)([smhdw])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s`, `2w`, or a sum of them such as `1d12h`."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise InvalidArgument(
            f"invalid duration {text!r}; write a number and a unit: 30d, 12h, 90m, 45s, 2w"
        )
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_DURATION_UNITS[unit]: int(number)})
    return total


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(
            f"invalid time {text!r}; write ISO 8601, e.g. 2026-03-01T12:00:00Z"
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
