"""The audit log writer: credential changes and denied requests, each with who, what and when."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asyncstt.clock import utcnow
from asyncstt.iam.records import AuditEvent
from asyncstt.iam.store import IdentityStore

log = logging.getLogger(__name__)

#: Actor of changes made with the admin command.
CLI_ACTOR = "cli"
ANONYMOUS_ACTOR = "anonymous"
#: Longest target (a refused request's method and path) and detail an audit event keeps; the rest is counted.
MAX_TARGET_CHARS = 256
MAX_DETAIL_CHARS = 1024
#: How often an Auditor deletes the events past their retention...
AUDIT_PRUNE_INTERVAL = timedelta(hours=1)
#: ...and the most it deletes at once; when there were more, the next event written deletes more.
AUDIT_PRUNE_BATCH = 1000


class Auditor:
    """Writes the audit log, and keeps it to its retention: each process that writes events deletes those older
    than `retention_days` (0: none) as it goes, at most once an hour, so the log never needs a job of its own."""

    def __init__(
        self,
        store: IdentityStore,
        clock: Callable[[], datetime] = utcnow,
        *,
        retention_days: float = 0.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = timedelta(days=retention_days) if retention_days > 0 else None
        self._prune_lock = threading.Lock()
        self._pruned_at: datetime | None = None

    def record(self, actor: str, action: str, target: str, outcome: str, detail: str = "") -> None:
        """Append an event. A store failure is logged, never raised: auditing must not turn a refusal into a
        500 or undo a change that was made. A long target or detail is cut, saying how much was left out:
        anyone may send a request whose path is tens of kilobytes."""
        event = AuditEvent(
            self._clock(),
            actor,
            action,
            shortened(target, MAX_TARGET_CHARS),
            outcome,
            shortened(detail, MAX_DETAIL_CHARS),
        )
        try:
            self._store.append_audit(event)
        except Exception:
            log.exception("writing the audit event %s %s %s failed", actor, action, event.target)
        self._prune_if_due(event.at)

    def _prune_if_due(self, now: datetime) -> None:
        if self._retention is None:
            return
        with self._prune_lock:
            if self._pruned_at is not None and now - self._pruned_at < AUDIT_PRUNE_INTERVAL:
                return
            self._pruned_at = now
        cutoff = now - self._retention
        try:
            pruned = self._store.prune_audit_before(cutoff, AUDIT_PRUNE_BATCH)
        except Exception:
            log.exception("deleting the audit events from before %s failed", cutoff.isoformat())
            return
        if pruned == AUDIT_PRUNE_BATCH:
            # More may be left: go on at the next event instead of an hour later.
            with self._prune_lock:
                self._pruned_at = None


def shortened(text: str, most: int) -> str:
    """`text` if it has at most `most` characters, else its start and how many characters follow."""
    if len(text) <= most:
        return text
    return f"{text[:most]}… ({len(text) - most} more characters)"


#: Callers tracked at most by one `DenialLimit`; past it, windows that have ended are forgotten first.
MAX_TRACKED = 10_000
_WINDOW_SECONDS = 60.0


@dataclass
class _Window:
    started: float
    written: int = 0
    dropped: int = 0


class DenialLimit:
    """How many refused requests of one caller, for one reason, are written to the audit log per minute.

    A flood of refused requests (a client with a revoked key in a retry loop, or garbage credentials from
    anywhere) would otherwise cost a store write each and grow the audit table without bound. Past the
    limit, refusals are counted; the next one written once a new minute begins says how many were not.
    """

    def __init__(self, per_minute: int, clock: Callable[[], datetime] = utcnow) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}

    def __len__(self) -> int:
        return len(self._windows)

    def admit(self, actor: str, outcome: str) -> int | None:
        """None: do not write this refusal. A number: write it, noting that many left out before it."""
        now = self._clock().timestamp()
        key = (actor, outcome)
        with self._lock:
            window = self._windows.get(key)
            carried = 0
            if window is None or now - window.started >= _WINDOW_SECONDS:
                carried = window.dropped if window is not None else 0
                if window is None and len(self._windows) >= MAX_TRACKED:
                    self._forget_ended(now)
                window = self._windows[key] = _Window(now)
            if window.written >= self._per_minute:
                if window.dropped == 0:
                    log.warning(
                        "more than %d refusals (%s) of %s this minute: the rest are counted, not written "
                        "to the audit log",
                        self._per_minute,
                        outcome,
                        actor,
                    )
                window.dropped += 1
                return None
            window.written += 1
            return carried

    def _forget_ended(self, now: float) -> None:
        ended = [k for k, w in self._windows.items() if now - w.started >= _WINDOW_SECONDS]
        for key in ended or list(self._windows)[: MAX_TRACKED // 2]:
            del self._windows[key]
