"""The signature a receiver checks: HMAC-SHA256 over `timestamp.body`, hex, after `sha256=`."""

from __future__ import annotations

import hashlib
import hmac

from asyncstt.webhooks.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    new_secret,
    sign,
    signed_headers,
    verify,
)

BODY = b'{"id":"e03abc","done":true}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_test", b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert sign("whsec_test", 1767225600, BODY) == f"sha256={expected}"


def test_verify_accepts_the_signature_and_refuses_any_change() -> None:
    signature = sign("whsec_test", 1767225600, BODY)
    assert verify("whsec_test", 1767225600, BODY, signature)
    assert not verify("whsec_other", 1767225600, BODY, signature)
    assert not verify("whsec_test", 1767225601, BODY, signature)
    assert not verify("whsec_test", 1767225600, BODY.replace(b"true", b"false"), signature)


def test_headers_carry_the_timestamp_and_its_signature() -> None:
    headers = signed_headers("whsec_test", 1767225600, BODY)
    assert headers == {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: "1767225600",
        SIGNATURE_HEADER: sign("whsec_test", 1767225600, BODY),
    }
    assert (TIMESTAMP_HEADER, SIGNATURE_HEADER) == ("X-Asyncstt-Timestamp", "X-Asyncstt-Signature")


def test_secrets_are_fresh_and_long() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(first) >= len("whsec_") + 43
