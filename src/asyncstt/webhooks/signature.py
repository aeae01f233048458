"""The signature on every webhook request: HMAC-SHA256 with the folder's secret over `timestamp.body`.

The timestamp is signed with the body, so a receiver that refuses old timestamps also refuses a recorded request
played back later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-Asyncstt-Timestamp"
SIGNATURE_HEADER = "X-Asyncstt-Signature"
SCHEME = "sha256="
#: Secrets are recognisable in logs and config files, as Stripe's and GitHub's are.
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    """A fresh signing secret: 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Asyncstt-Signature` value: `sha256=` and the hex HMAC-SHA256 of `timestamp.body`."""
    message = str(timestamp).encode() + b"." + body
    return SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """True when `signature` is the one `secret` gives for this timestamp and body (compared in constant time)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one webhook request."""
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
