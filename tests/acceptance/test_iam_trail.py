"""The audit log end to end, on the SQLite deployment with two tenant folders: credential changes and refused
requests are listed, and no secret is.

This module runs after the other test_iam_* modules of that deployment (pytest takes the files in name order),
so the log it reads holds their refusals too, and SECRETS every credential printed for them."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import cast

import pytest

from tests.acceptance.iam_admin import SECRETS, ApiKey, at_once
from tests.acceptance.iam_requests import assert_status, submit_v2
from tests.acceptance.iam_tenants import Tenants

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_audit_log_lists_credential_changes_and_refusals_without_secrets(
    tenants: Tenants, reference_audio: Path
) -> None:
    operator, http, alice = tenants.operator, tenants.http, tenants.alice
    storage_secret = f"storage-secret-{secrets.token_hex(16)}"
    SECRETS.append(storage_secret)
    # Folder B reads no storage links in these tests, so its credentials may point anywhere.
    probe_key, _ = at_once(
        lambda: operator.key(alice.account_id, "--description", "audit probe"),
        lambda: operator.run(
            "storage",
            "set",
            "--folder",
            "tenant-b",
            "--endpoint",
            "http://127.0.0.1:9",
            "--access-key-id",
            "AKIDAUDIT",
            extra_env={"ASYNCSTT_STORAGE_SECRET": storage_secret},
        ),
    )
    probe = cast(ApiKey, probe_key)
    operator.revoke(probe)
    assert_status(http.get("/operations/e03nothing", headers=probe.header), 401, 16)
    assert_status(submit_v2(http, alice.header, reference_audio, tenants.b_folder), 403, 7)

    out = operator.run("audit", "--limit", "1000")
    header, *lines = out.strip().splitlines()
    assert header.split("\t") == ["at", "actor", "action", "target", "outcome", "detail"], header
    rows = [line.split("\t") for line in lines]

    def has(actor: str | None, action: str, target: str | None, outcome: str) -> bool:
        return any(
            (actor is None or row[1] == actor)
            and row[2] == action
            and (target is None or target in row[3])
            and row[4] == outcome
            for row in rows
        )

    assert has("cli", "api_key.create", probe.id, "ok"), out
    assert has("cli", "api_key.revoke", probe.id, "ok"), out
    assert has("cli", "storage_credentials.set", tenants.b_folder, "ok"), out
    assert has(None, "request.denied", "/operations/", "unauthenticated"), out
    assert has(alice.account_id, "request.denied", "longRunningRecognize", "permission_denied"), out
    for row in rows:
        datetime.fromisoformat(row[0])
    leaked = [s for s in SECRETS if s and s in out]
    assert not leaked, "the audit log shows a secret"
    assert storage_secret not in out
    assert probe.key not in out
