"""The audit log writer: credential changes and denied requests, each with who, what and when."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from asyncstt.clock import utcnow
from asyncstt.iam.records import AuditEvent
from asyncstt.iam.store import IdentityStore

log = logging.getLogger(__name__)

#: Actor of changes made with the admin command.
CLI_ACTOR = "cli"
ANONYMOUS_ACTOR = "anonymous"


class Auditor:
    def __init__(self, store: IdentityStore, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    def record(self, actor: str, action: str, target: str, outcome: str, detail: str = "") -> None:
        """Append an event. A store failure is logged, never raised: auditing must not turn a refusal into a
        500 or undo a change that was made."""
        event = AuditEvent(self._clock(), actor, action, target, outcome, detail)
        try:
            self._store.append_audit(event)
        except Exception:
            log.exception("writing the audit event %s %s %s failed", actor, action, target)
