"""API keys end to end, on the SQLite deployment with two tenant folders: missing, bad, revoked and expired
credentials are refused on every endpoint, and a key is rotated without a moment of downtime."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import cast

import httpx
import pytest

from tests.acceptance.iam_admin import ApiKey, at_once, parse_key
from tests.acceptance.iam_requests import assert_status, bearer, endpoint_calls
from tests.acceptance.iam_tenants import CACHE_SECONDS, AliceOperations, Tenants

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_missing_bad_revoked_and_expired_credentials_are_401_everywhere(
    tenants: Tenants, alice_operations: AliceOperations, reference_audio: Path
) -> None:
    operator, http = tenants.operator, tenants.http
    polled = f"/operations/{alice_operations.v2}"
    lifetime = 8.0

    def expiring() -> tuple[ApiKey, float, int]:
        """A key with a short life, used as soon as the command that made it has returned."""
        key = operator.key(tenants.alice.account_id, "--expires-in", f"{lifetime:.0f}s")
        # The key expires `lifetime` after a moment inside the command, so before `returned + lifetime`.
        returned = time.monotonic()
        with httpx.Client(base_url=tenants.server.url, timeout=30) as own:
            return key, returned, own.get(polled, headers=key.header).status_code

    revoked, fresh = at_once(lambda: operator.key(tenants.alice.account_id), expiring)
    revoked_key = cast(ApiKey, revoked)
    expiring_key, returned, first_status = cast(tuple[ApiKey, float, int], fresh)
    assert first_status == 200
    assert http.get(polled, headers=revoked_key.header).status_code == 200
    operator.revoke(revoked_key)
    # The server has just read this key: it trusts what it read for the cache time.
    time.sleep(CACHE_SECONDS)

    calls = endpoint_calls(reference_audio, alice_operations.v2, alice_operations.v3)
    valid_id = tenants.alice.key.partition(".")[0]
    refusals: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
        ("no Authorization", {}, ("authorization",)),
        ("empty Authorization", {"Authorization": ""}, ("authorization",)),
        ("garbage API key", {"Authorization": "Api-Key not-a-key"}, ("api key",)),
        (
            "known key id, wrong secret",
            {"Authorization": f"Api-Key {valid_id}.{secrets.token_urlsafe(32)}"},
            ("api key",),
        ),
        ("unknown scheme", {"Authorization": f"Basic {tenants.alice.key}"}, ()),
        ("garbage IAM token", bearer("t1.garbage.garbage"), ("token",)),
        ("revoked key", revoked_key.header, ("revoked",)),
    ]
    for label, headers, fragments in refusals:
        for name, call in calls:
            answer = call(http, headers)
            assert answer.status_code == 401, (label, name, answer.text)
            assert_status(answer, 401, 16, *fragments)

    remaining = returned + lifetime + 1.5 - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    for name, call in calls:
        answer = call(http, expiring_key.header)
        assert answer.status_code == 401, ("expired key", name, answer.text)
        assert_status(answer, 401, 16, "expired")
    # None of the refused calls touched A's operations.
    assert (
        http.get(f"/operations/{alice_operations.v2}", headers=tenants.alice.header).status_code
        == 200
    )


@pytest.mark.timeout(300)
def test_key_rotation_without_downtime(tenants: Tenants, alice_operations: AliceOperations) -> None:
    operator, http = tenants.operator, tenants.http
    old = operator.bootstrap("tenant-a", "erin")
    assert old.folder_id == tenants.a_folder
    polled = f"/operations/{alice_operations.v2}"
    keys: dict[str, str] = {"old": old.key}
    seen: list[tuple[str, float, float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=tenants.server.url, timeout=30) as client:
            while not stop.is_set():
                for label, key in list(keys.items()):
                    started = time.monotonic()
                    status = client.get(polled, headers={"Authorization": f"Api-Key {key}"})
                    seen.append((label, started, time.monotonic(), status.status_code))
                time.sleep(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        rotate_started = time.monotonic()
        out = operator.run("keys", "rotate", old.id, "--grace", "30s")
        new = parse_key(out)
        assert new.id != old.id, out
        assert new.account_id == old.account_id, out
        keys["new"] = new.key
        # Both at once, straight after the rotation.
        for key in (old, new):
            assert http.get(polled, headers=key.header).status_code == 200
        time.sleep(1)
        revoke_started = time.monotonic()
        operator.revoke(old)
        revoke_done = time.monotonic()
        # The server read the old key a moment ago: it trusts it for the cache time, then refuses it.
        time.sleep(CACHE_SECONDS)
        assert_status(http.get(polled, headers=old.header), 401, 16, "api key")
        assert http.get(polled, headers=new.header).status_code == 200
        time.sleep(1)
    finally:
        stop.set()
        poller.join(30)
    # The old key had to work until the revocation began or its grace ran out, whichever came first.
    old_valid_until = min(revoke_started, rotate_started + 30)
    old_in_time = [s for label, _, end, s in seen if label == "old" and end < old_valid_until]
    old_after = [
        s for label, start, _, s in seen if label == "old" and start > revoke_done + CACHE_SECONDS
    ]
    new_all = [s for label, _, _, s in seen if label == "new"]
    assert len(old_in_time) >= 3, seen
    assert len(new_all) >= 3, seen
    assert old_after, seen
    assert set(old_in_time) == {200}, seen
    assert set(new_all) == {200}, seen
    assert set(old_after) == {401}, seen
