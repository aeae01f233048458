"""Who is calling and where it may act: API keys and IAM tokens, folder roles, and the audit of refusals."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from asyncstt.clock import utcnow
from asyncstt.errors import AsyncSttError, PermissionDenied, Unauthenticated
from asyncstt.iam.api_keys import API_KEY_PREFIX, hash_secret
from asyncstt.iam.audit import ANONYMOUS_ACTOR, Auditor, DenialLimit
from asyncstt.iam.cache import IdentityReadCache
from asyncstt.iam.records import RECOGNITION_ROLES, ROLE_STT_USER
from asyncstt.iam.store import IdentityStore
from asyncstt.iam.tokens import TOKEN_PREFIX, TokenService
from asyncstt.settings import IamSettings

_API_KEY_SCHEME = "api-key"
_BEARER_SCHEME = "bearer"
_INVALID_KEY = "the API key is invalid, revoked or expired"
_MISSING = "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'"
#: google.rpc codes of refusals that are written to the audit log, with the outcome recorded for each.
DENIAL_OUTCOMES = {16: "unauthenticated", 7: "permission_denied", 8: "resource_exhausted"}
DENIED_ACTION = "request.denied"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a service account and the folder it works in."""

    folder_id: str
    service_account_id: str


#: The caller when authentication is switched off and no credentials were sent.
ANONYMOUS = Principal(folder_id="default", service_account_id="anonymous")


class Authenticator:
    """Turns an `Authorization` header into a Principal and decides which folder it may act in.

    Accepts `Api-Key <API key>` and `Bearer <IAM token>`; an API key sent as `Bearer` works too, as it did
    before IAM tokens existed. Scheme names compare case-insensitively, so `Api-key` works. With
    `required=False` a request without the header is served as `ANONYMOUS` in any folder; a header that is
    present is still checked. Keys and roles that grant access are remembered for `settings.cache_seconds`
    (`IdentityReadCache`), so a revocation takes up to that long to reach every API process.
    """

    def __init__(
        self,
        identity: IdentityStore,
        tokens: TokenService,
        settings: IamSettings,
        auditor: Auditor,
        *,
        required: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._identity = identity
        self._reads = IdentityReadCache(identity, settings.cache_seconds, clock)
        self._auditor = auditor
        self._denials = DenialLimit(settings.audit_denials_per_minute, clock)
        self._required = required
        self._clock = clock
        self.tokens = tokens

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller in its service account's own folder."""
        if authorization is None or not authorization.strip():
            if self._required:
                raise Unauthenticated(_MISSING)
            return ANONYMOUS
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        scheme = scheme.lower()
        if scheme == _API_KEY_SCHEME or (
            scheme == _BEARER_SCHEME and credentials.startswith(API_KEY_PREFIX)
        ):
            return self._by_api_key(credentials)
        if scheme == _BEARER_SCHEME:
            if not credentials.startswith(TOKEN_PREFIX):
                raise Unauthenticated("the IAM token is invalid")
            account = self.tokens.verify(credentials, self._reads.service_account)
            return Principal(account.folder_id, account.id)
        raise Unauthenticated(
            "the Authorization header must be 'Api-Key <API key>' or 'Bearer <IAM token>'"
        )

    def _by_api_key(self, key: str) -> Principal:
        key_id, dot, secret = key.removeprefix(API_KEY_PREFIX).partition(".")
        if not key.startswith(API_KEY_PREFIX) or not dot or not key_id or not secret:
            raise Unauthenticated(_INVALID_KEY)
        record = self._reads.find_api_key(key_id)
        if (
            record is None
            or not record.usable_at(self._clock())
            or not hmac.compare_digest(record.secret_hash, hash_secret(secret))
        ):
            raise Unauthenticated(_INVALID_KEY)
        return Principal(record.folder_id, record.service_account_id)

    def authorize(self, principal: Principal, folder_id: str = "") -> Principal:
        """The caller acting in `folder_id` (empty: its own folder), which needs a recognition role there.

        PermissionDenied without one. The anonymous caller of a server without authentication acts in its
        own folder whatever it names, so examples written for the public service run unchanged.
        """
        if principal == ANONYMOUS:
            return ANONYMOUS
        folder = folder_id or principal.folder_id
        if not self._may_recognize(principal.service_account_id, folder):
            raise PermissionDenied(
                f"service account {principal.service_account_id} has no role {ROLE_STT_USER} "
                f"on folder {folder[:100]}"
            )
        return Principal(folder, principal.service_account_id)

    def scopes(self, principal: Principal, folder_id: str = "") -> Iterator[Principal]:
        """Where an existing operation of the caller may be: the named folder alone when one is named; else
        its own folder, then every other folder where it holds a recognition role.

        The others are looked up only when the caller reads on, so a poll in the own folder costs one query.
        PermissionDenied when the caller may act in no folder at all.
        """
        if principal == ANONYMOUS or folder_id:
            yield self.authorize(principal, folder_id)
            return
        account = principal.service_account_id
        own = self._may_recognize(account, principal.folder_id)
        if own:
            yield principal
        others = sorted(
            {
                binding.folder_id
                for binding in self._identity.list_role_bindings()
                if binding.service_account_id == account
                and binding.role in RECOGNITION_ROLES
                and binding.folder_id != principal.folder_id
            }
        )
        if not own and not others:
            self.authorize(principal)
        for folder in others:
            yield Principal(folder, account)

    def _may_recognize(self, account_id: str, folder_id: str) -> bool:
        return bool(self._reads.roles_of(account_id, folder_id) & RECOGNITION_ROLES)

    def record_denial(self, principal: Principal | None, target: str, error: AsyncSttError) -> None:
        """Write a refused request to the audit log: who, what, why; never the credential."""
        outcome = DENIAL_OUTCOMES.get(error.code)
        if outcome is None:
            return
        actor = (
            ANONYMOUS_ACTOR
            if principal is None or principal == ANONYMOUS
            else principal.service_account_id
        )
        left_out = self._denials.admit(actor, outcome)
        if left_out is None:
            return
        detail = error.message
        if left_out:
            detail += f" ({left_out} earlier refusals like this were not written)"
        self._auditor.record(actor, DENIED_ACTION, target, outcome, detail)
