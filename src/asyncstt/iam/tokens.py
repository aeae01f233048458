"""IAM tokens: a service account's signed JWT exchanged for a token, and the tokens themselves.

The JWT is the one the official SDKs build from an authorized-key file: header `typ`/`alg` (PS256)/`kid`, claims
`iss` (the service account), `aud` (the token endpoint's URL), `iat` and `exp` at most an hour apart. It is
checked with PyJWT against the public half of the key that `kid` names.

An IAM token is stateless: `t1.` + base64url(JSON of account id, expiry, nonce) + `.` + base64url(its HMAC with
the server key's token-signing key). Any API process of the deployment can check it without the store,
except for the one look-up that makes a deleted account's tokens stop working. A process checks a token's
signature once and remembers what it said by the token's digest, so a token sent with every request costs a
hash and a dictionary look-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from asyncstt.clock import utcnow
from asyncstt.errors import Unauthenticated
from asyncstt.iam.records import ServiceAccount
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.store import IdentityStore
from asyncstt.settings import IamSettings

# Neither is a secret: the ruff rule matches their names.
TOKEN_PREFIX = "t1."  # noqa: S105
TOKEN_PATH = "/iam/v1/tokens"  # noqa: S105
JWT_ALGORITHM = "PS256"
#: Longest span between a JWT's `iat` and `exp`, as the public service allows.
MAX_JWT_LIFETIME_SECONDS = 3600
#: Clock difference tolerated between the client that signed a JWT and this server.
LEEWAY_SECONDS = 30

#: Verified tokens remembered at most; past it the expired ones, then the oldest half, are dropped.
MAX_VERIFIED_TOKENS = 10_000

_INVALID = "the IAM token is invalid"
_EXPIRED = "the IAM token has expired; get a new one from POST /iam/v1/tokens"


@dataclass(frozen=True)
class IssuedToken:
    iam_token: str
    expires_at: datetime


class TokenService:
    def __init__(
        self,
        identity: IdentityStore,
        server_key: ServerKey,
        settings: IamSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._identity = identity
        self._server_key = server_key
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        #: SHA-256 of a token whose signature verified -> its account and expiry, so that a token sent with
        #: every request is checked once in its lifetime.
        self._verified: dict[bytes, tuple[str, float]] = {}

    def exchange_jwt(self, token: str, token_url: str) -> IssuedToken:
        """An IAM token for the service account whose authorized key signed `token`.

        `token_url` is this server's token endpoint as the client reached it; the public service's URL and any
        other configured audience are accepted too.
        """
        header = _unverified_header(token)
        algorithm = header.get("alg")
        if algorithm != JWT_ALGORITHM:
            raise Unauthenticated(f"the JWT must be signed with {JWT_ALGORITHM}, not {algorithm}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated(
                "the JWT header has no kid naming the authorized key that signed it"
            )
        key = self._identity.find_authorized_key(kid)
        if key is None or key.revoked_at is not None:
            raise Unauthenticated(f"the JWT names key {kid[:64]}, which is unknown or revoked")
        audiences = [token_url, *self._settings.token_audiences]
        claims = _decode(token, key.public_key_pem, kid, audiences)
        if claims.get("iss") != key.service_account_id:
            raise Unauthenticated(
                f"the JWT's iss must be {key.service_account_id}, the service account of key {kid}"
            )
        self._check_times(claims)
        if self._identity.get_service_account(key.service_account_id) is None:
            raise Unauthenticated(f"the service account of key {kid} no longer exists")
        return self.issue(key.service_account_id)

    def _check_times(self, claims: dict[str, Any]) -> None:
        issued, expires = _seconds(claims, "iat"), _seconds(claims, "exp")
        if expires - issued > MAX_JWT_LIFETIME_SECONDS:
            raise Unauthenticated(
                f"the JWT's exp is more than {MAX_JWT_LIFETIME_SECONDS} s after its iat"
            )
        now = self._clock().timestamp()
        if expires + LEEWAY_SECONDS <= now:
            raise Unauthenticated("the JWT has expired; sign a new one")
        if issued - LEEWAY_SECONDS > now:
            raise Unauthenticated("the JWT's iat is in the future; check the client's clock")

    def issue(self, account_id: str) -> IssuedToken:
        expires = int(self._clock().timestamp() + self._settings.token_ttl_seconds)
        payload = json.dumps(
            {"sub": account_id, "exp": expires, "nonce": secrets.token_urlsafe(12)},
            separators=(",", ":"),
        ).encode()
        signature = self._server_key.sign(payload)
        token = f"{TOKEN_PREFIX}{_b64encode(payload)}.{_b64encode(signature)}"
        return IssuedToken(token, datetime.fromtimestamp(expires, UTC))

    def verify(
        self,
        token: str,
        find_account: Callable[[str], ServiceAccount | None] | None = None,
    ) -> ServiceAccount:
        """The service account an IAM token of ours was issued to; Unauthenticated when it is not valid now.

        The account is looked up with `find_account` (default: the identity store), so that a deleted
        account's tokens stop working.
        """
        account_id, expires = self._claims(token)
        if expires <= self._clock().timestamp():
            raise Unauthenticated(_EXPIRED)
        account = (find_account or self._identity.get_service_account)(account_id)
        if account is None:
            raise Unauthenticated(f"{_INVALID}: its service account no longer exists")
        return account

    def _claims(self, token: str) -> tuple[str, float]:
        """The account and expiry a token's signed payload names, its signature checked once per token."""
        digest = hashlib.sha256(token.encode()).digest()
        known = self._verified.get(digest)
        if known is not None:
            return known
        encoded_payload, dot, encoded_signature = token.removeprefix(TOKEN_PREFIX).partition(".")
        if not token.startswith(TOKEN_PREFIX) or not dot:
            raise Unauthenticated(_INVALID)
        try:
            payload = _b64decode(encoded_payload)
            signature = _b64decode(encoded_signature)
        except (binascii.Error, ValueError) as exc:
            raise Unauthenticated(_INVALID) from exc
        if not self._server_key.verify(payload, signature):
            raise Unauthenticated(_INVALID)
        claims = json.loads(payload)
        verified = (str(claims["sub"]), float(claims["exp"]))
        self._remember(digest, verified)
        return verified

    def _remember(self, digest: bytes, verified: tuple[str, float]) -> None:
        with self._lock:
            if len(self._verified) >= MAX_VERIFIED_TOKENS:
                now = self._clock().timestamp()
                kept = [(d, v) for d, v in self._verified.items() if v[1] > now]
                if len(kept) * 2 > MAX_VERIFIED_TOKENS:
                    kept = kept[len(kept) // 2 :]  # the newest half: the dict keeps insertion order
                self._verified = dict(kept)
            self._verified[digest] = verified


def token_url(base_url: str) -> str:
    """The token endpoint's URL under a server's base URL."""
    return base_url.rstrip("/") + TOKEN_PATH


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise Unauthenticated(f"the JWT is malformed: {exc}") from exc
    return header


def _decode(token: str, public_key_pem: str, kid: str, audiences: list[str]) -> dict[str, Any]:
    # Times are checked against our own clock afterwards, so that the one clock of the process decides.
    options: Any = {
        "require": ["iss", "aud", "iat", "exp"],
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
    }
    try:
        claims: dict[str, Any] = jwt.decode(
            token, public_key_pem, algorithms=[JWT_ALGORITHM], audience=audiences, options=options
        )
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated(f"the JWT's signature does not verify with key {kid}") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthenticated(
            f"the JWT's aud is wrong; it must be one of: {', '.join(audiences)}"
        ) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated(f"the JWT has no {exc.claim} claim") from exc
    except jwt.InvalidKeyError as exc:
        raise Unauthenticated(f"the public key of key {kid} cannot check PS256 signatures") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"the JWT is invalid: {exc}") from exc
    return claims


def _seconds(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    # NaN compares false with everything, so it would pass every time check below.
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise Unauthenticated(f"the JWT's {name} must be a finite number of seconds")
    return float(value)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
