from __future__ import annotations

from datetime import UTC, datetime

from asyncstt.errors import PermissionDenied, Unauthenticated
from asyncstt.iam.audit import MAX_TRACKED, Auditor, DenialLimit
from asyncstt.iam.auth import ANONYMOUS, Authenticator, Principal
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.tokens import TokenService
from asyncstt.settings import IamSettings
from tests.factories import ManualClock

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)


def test_past_the_limit_refusals_are_counted_and_the_count_comes_with_the_next_minute() -> None:
    clock = ManualClock(NOW)
    limit = DenialLimit(3, clock)
    assert [limit.admit("sa", "unauthenticated") for _ in range(5)] == [0, 0, 0, None, None]
    clock.advance(59.9)
    assert limit.admit("sa", "unauthenticated") is None
    clock.advance(0.1)
    assert limit.admit("sa", "unauthenticated") == 3
    assert limit.admit("sa", "unauthenticated") == 0


def test_callers_and_reasons_have_limits_of_their_own() -> None:
    limit = DenialLimit(1, ManualClock(NOW))
    assert limit.admit("sa", "unauthenticated") == 0
    assert limit.admit("sa", "unauthenticated") is None
    assert limit.admit("sa", "permission_denied") == 0
    assert limit.admit("other", "unauthenticated") == 0


def test_a_limit_of_zero_writes_no_refusal() -> None:
    limit = DenialLimit(0, ManualClock(NOW))
    assert limit.admit("sa", "unauthenticated") is None


def test_many_callers_do_not_grow_it_past_its_bound() -> None:
    clock = ManualClock(NOW)
    limit = DenialLimit(1, clock)
    for n in range(MAX_TRACKED + 5):
        assert limit.admit(f"sa-{n}", "unauthenticated") == 0
    assert len(limit) <= MAX_TRACKED
    clock.advance(60)
    assert limit.admit("sa-new", "unauthenticated") == 0
    assert len(limit) <= MAX_TRACKED


def test_a_flood_of_refusals_writes_a_bounded_audit_log() -> None:
    identity = InMemoryIdentityStore()
    clock = ManualClock(NOW)
    settings = IamSettings(audit_denials_per_minute=2)
    auth = Authenticator(
        identity,
        TokenService(identity, ServerKey(b"0123456789abcdef0123"), settings, clock),
        settings,
        Auditor(identity, clock),
        clock=clock,
    )
    for _ in range(50):
        auth.record_denial(None, "GET /operations/x", Unauthenticated("bad key"))
    auth.record_denial(
        Principal("folder", "sa-1"), "GET /operations/x", PermissionDenied("no role")
    )
    clock.advance(60)
    auth.record_denial(ANONYMOUS, "GET /operations/y", Unauthenticated("bad key"))
    rows = sorted(identity.list_audit(limit=1000), key=lambda e: (e.at, e.actor, e.target))
    assert [(e.actor, e.outcome, e.target) for e in rows] == [
        ("anonymous", "unauthenticated", "GET /operations/x"),
        ("anonymous", "unauthenticated", "GET /operations/x"),
        ("sa-1", "permission_denied", "GET /operations/x"),
        ("anonymous", "unauthenticated", "GET /operations/y"),
    ]
    assert rows[-1].detail == "bad key (48 earlier refusals like this were not written)"
    assert rows[0].detail == "bad key"
