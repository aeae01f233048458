"""What `transcribe` and `batch` do while they wait: poll each operation in flight in turn, within the quotas.

Every call goes through one `Pacer`, so a command polling many operations stays under the v3 quota of status
checks and result reads per second (5 by default); when the server answers 429 all the same (a smaller quota,
or the hourly submit quota spent), the command waits and tries again instead of failing the file.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from asyncstt.client import ClientError, OperationStatus

#: Calls per second at most: under the default v3 quota of 5, which status checks and result reads share (a
#: result read is two of them).
CALLS_PER_SECOND = 3.0
#: The shortest time between two polls of one operation.
POLL_INTERVAL_SECONDS = 0.5
#: The wait after a 429, doubled while the server keeps refusing, up to the last.
BACK_OFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
#: google.rpc.Code RESOURCE_EXHAUSTED: a quota is spent.
RESOURCE_EXHAUSTED = 8

T = TypeVar("T")


def quota_spent(error: ClientError) -> bool:
    """Whether the server refused a call only because the caller's quota is spent for now."""
    return error.code == RESOURCE_EXHAUSTED or error.http_status == 429


class Pacer:
    """Spaces calls at most `per_second` a second; retries one the server refuses for a spent quota.

    `on_wait` hears of each such wait (the command prints it), so a long one never looks like a hang.
    """

    def __init__(
        self,
        on_wait: Callable[[str], None],
        *,
        per_second: float = CALLS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._on_wait = on_wait
        self._spacing = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = clock()

    def call(self, request: Callable[[], T]) -> T:
        """`request()`'s answer, once its turn has come and the server accepts it."""
        refusals = 0
        while True:
            self._take_turn()
            try:
                return request()
            except ClientError as error:
                if not quota_spent(error):
                    raise
                delay = BACK_OFF_SECONDS[min(refusals, len(BACK_OFF_SECONDS) - 1)]
                refusals += 1
                self._on_wait(
                    f"the server's quota is spent ({error.message}); retrying in {delay:g} s"
                )
                self._sleep(delay)

    def _take_turn(self) -> None:
        now = self._clock()
        if self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._spacing


class Operations(Protocol):
    """The calls a flight makes about its operations (a `Client` has them)."""

    def get(self, operation_id: str) -> OperationStatus: ...

    def cancel(self, operation_id: str) -> OperationStatus: ...


class Flight:
    """The operations a command has submitted and not yet seen finish, by the name it shows for each."""

    def __init__(
        self,
        client: Operations,
        pacer: Pacer,
        on_status: Callable[[str, OperationStatus], None],
        *,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._pacer = pacer
        self._on_status = on_status
        self._poll_interval = poll_interval
        self._clock = clock
        self._sleep = sleep
        self._waiting: dict[str, OperationStatus] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, name: str, status: OperationStatus) -> None:
        """An operation just submitted (it may be done already: a resubmission answered by its first run)."""
        self._waiting[name] = status

    def ids(self) -> dict[str, str]:
        """The operation id of each name still in flight."""
        return {name: status.id for name, status in self._waiting.items()}

    def interrupt(self, *, detach: bool) -> list[str]:
        """Ctrl-C's answer: cancel every operation in flight, or with `detach` leave them running; the lines
        that say which ids (the command prints them)."""
        ids = self.ids()
        if not ids:
            return ["interrupted with nothing in flight"]
        if detach:
            lines = [f"interrupted; {len(ids)} operation(s) left running (--detach):"]
            return lines + [f"  left running {op} ({name})" for name, op in ids.items()]
        lines = [f"interrupted; cancelling {len(ids)} operation(s):"]
        for name, op in ids.items():
            try:
                self._pacer.call(functools.partial(self._client.cancel, op))
            except ClientError as error:
                lines.append(f"  could not cancel {op} ({name}): {error.message}")
            else:
                lines.append(f"  cancelled {op} ({name})")
        self._waiting.clear()
        return lines

    def round(self) -> list[tuple[str, OperationStatus]]:
        """Poll each operation in flight once and return those that finished, which leave the flight.

        A round lasts at least the poll interval. An operation the server no longer knows (deleted, or a
        refused poll) finishes with the server's error.
        """
        started = self._clock()
        finished: list[tuple[str, OperationStatus]] = []
        for name, last in list(self._waiting.items()):
            status = last if last.done else self._poll(last)
            self._on_status(name, status)
            if status.done:
                del self._waiting[name]
                finished.append((name, status))
            else:
                self._waiting[name] = status
        rest = self._poll_interval - (self._clock() - started)
        if rest > 0 and self._waiting:
            self._sleep(rest)
        return finished

    def _poll(self, last: OperationStatus) -> OperationStatus:
        try:
            return self._pacer.call(functools.partial(self._client.get, last.id))
        except ClientError as error:
            return dataclasses.replace(last, done=True, error=error)
