"""Folder isolation and roles end to end, on the SQLite deployment with two tenant folders: an account sees and
changes only the operations of folders where it holds the user role."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.iam_admin import STT_USER
from tests.acceptance.iam_requests import (
    assert_status,
    operation_calls,
    operation_id,
    submit_v2,
    submit_v3,
    v2_text,
    v3_text,
    wait_done,
)
from tests.acceptance.iam_tenants import AliceOperations, Tenants
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


@pytest.mark.timeout(400)
def test_folders_do_not_see_each_others_operations(
    tenants: Tenants, alice_operations: AliceOperations
) -> None:
    http, alice, bob = tenants.http, tenants.alice, tenants.bob
    missing = {"v2": "e03" + "0" * 17, "v3": "f8d" + "0" * 17}

    def assert_hidden_from_b(stage: str) -> None:
        for version, operation in (("v2", alice_operations.v2), ("v3", alice_operations.v3)):
            for (name, call), (_, call_missing) in zip(
                operation_calls(operation), operation_calls(missing[version]), strict=True
            ):
                answer = call(http, bob.header)
                assert answer.status_code == 404, (stage, version, name, answer.text)
                assert_status(answer, 404, 5, "not found")
                # Naming A's folder (where B holds no role) answers the same for A's operation as for none.
                named = call(http, {**bob.header, "x-folder-id": tenants.a_folder})
                named_missing = call_missing(http, {**bob.header, "x-folder-id": tenants.a_folder})
                assert named.status_code in (403, 404), (stage, version, name, named.text)
                assert (named.status_code, named.json()["code"]) == (
                    named_missing.status_code,
                    named_missing.json()["code"],
                ), (stage, version, name)

    # While they run: B's cancels must not cancel A's recognitions (checked by their results below).
    assert_hidden_from_b("running")
    done_v2 = wait_done(http, alice_operations.v2, alice.header)
    assert word_errors(v2_text(done_v2), JFK_REFERENCE) <= 1, done_v2
    done_v3 = wait_done(http, alice_operations.v3, alice.header)
    assert "error" not in done_v3, done_v3
    assert_hidden_from_b("done")

    # The scheme name is case-insensitive, as the public service's is.
    for scheme in ("Api-key", "API-KEY", "api-key"):
        answer = http.get(
            f"/operations/{alice_operations.v2}", headers={"Authorization": f"{scheme} {alice.key}"}
        )
        assert answer.status_code == 200, (scheme, answer.text)
    own_folder = {**alice.header, "x-folder-id": tenants.a_folder}
    for headers in (alice.header, own_folder):
        for operation in (alice_operations.v2, alice_operations.v3):
            got = http.get(f"/operations/{operation}", headers=headers)
            assert got.status_code == 200, got.text
            assert got.json()["id"] == operation, got.text
            for cancel in (http.get, http.post):
                cancelled = cancel(f"/operations/{operation}:cancel", headers=headers)
                assert cancelled.status_code == 200, cancelled.text
                assert cancelled.json()["done"] is True, cancelled.text
                assert "error" not in cancelled.json(), cancelled.text
    results = http.get(
        "/stt/v3/getRecognition", params={"operationId": alice_operations.v3}, headers=alice.header
    )
    assert word_errors(v3_text(results), JFK_REFERENCE) <= 1
    deleted = http.delete(
        "/stt/v3/deleteRecognition",
        params={"operationId": alice_operations.v3},
        headers=alice.header,
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {}, deleted.text
    assert_status(
        http.get(f"/operations/{alice_operations.v3}", headers=alice.header), 404, 5, "not found"
    )


@pytest.mark.timeout(300)
def test_roles_decide_where_an_account_may_act(tenants: Tenants, reference_audio: Path) -> None:
    operator, http, alice, bob = tenants.operator, tenants.http, tenants.alice, tenants.bob
    dave_id = operator.account(tenants.a_folder, "dave")
    dave = operator.key(dave_id)
    assert dave.folder_id == tenants.a_folder

    # No role at all: refused in its own folder, v2 and v3.
    assert_status(submit_v2(http, dave.header, reference_audio), 403, 7, STT_USER)
    assert_status(submit_v3(http, dave.header, reference_audio), 403, 7, STT_USER)
    # An account naming a folder where it holds no role.
    assert_status(
        submit_v2(http, alice.header, reference_audio, tenants.b_folder), 403, 7, STT_USER
    )
    assert_status(
        submit_v3(http, alice.header, reference_audio, tenants.b_folder), 403, 7, STT_USER
    )
    assert_status(submit_v2(http, dave.header, reference_audio, tenants.b_folder), 403, 7, STT_USER)

    operator.bind(dave_id, tenants.b_folder)
    by_v2 = operation_id(submit_v2(http, dave.header, reference_audio, tenants.b_folder))
    by_v3 = operation_id(submit_v3(http, dave.header, reference_audio, tenants.b_folder))
    try:
        # The role on B does not reach A, dave's own folder.
        assert_status(submit_v2(http, dave.header, reference_audio), 403, 7, STT_USER)
        for operation in (by_v2, by_v3):
            # The operations belong to folder B: B's member sees them, A's does not.
            seen = http.get(f"/operations/{operation}", headers=bob.header)
            assert seen.status_code == 200, seen.text
            assert seen.json()["id"] == operation, seen.text
            assert_status(
                http.get(f"/operations/{operation}", headers=alice.header), 404, 5, "not found"
            )
            for headers in (dave.header, {**dave.header, "x-folder-id": tenants.b_folder}):
                assert http.get(f"/operations/{operation}", headers=headers).status_code == 200
            in_a = http.get(
                f"/operations/{operation}",
                headers={**alice.header, "x-folder-id": tenants.a_folder},
            )
            assert_status(in_a, 404, 5, "not found")
    finally:
        for operation, headers in ((by_v2, bob.header), (by_v3, dave.header)):
            cancelled = http.post(f"/operations/{operation}:cancel", headers=headers)
            assert cancelled.status_code == 200, cancelled.text
