"""OperationService: submit, get, cancel and delete operations on behalf of a caller.

The REST front door (`asyncstt.http`) calls it; it checks everything that can be checked before any audio is
read, so that a request that cannot succeed is an HTTP 400 at once rather than a failed operation later.

A request about an existing operation reads it once (`find`) and hands what it read to `recognition_of`,
`cancel` or `delete`, so that a result is fetched and decompressed once per request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from asyncstt import languages
from asyncstt.clock import utcnow
from asyncstt.engines import language_check
from asyncstt.engines.base import EngineCapabilities
from asyncstt.errors import (
    AlreadyExists,
    AsyncSttError,
    Cancelled,
    ErrorInfo,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from asyncstt.iam.auth import Principal
from asyncstt.ids import V2_PREFIX, V3_PREFIX, is_plausible_operation_id, new_operation_id
from asyncstt.operation import INLINE_SOURCE, ApiVersion, Idempotency, Operation, OperationState
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript
from asyncstt.service.partial import recognised_prefix
from asyncstt.settings import Settings
from asyncstt.store.base import OperationStore

MODELS = (
    "general",
    "general:rc",
    "general:deprecated",
    "deferred-general",
    "deferred-general:rc",
    "deferred-general:deprecated",
)
PCM_SAMPLE_RATES = (8000, 16000, 48000)
CANCELLED = ErrorInfo(code=1, message="cancelled")
_MB = 1024**2
#: How a failed operation's stored error is raised again, e.g. by getRecognition.
_ERRORS_BY_CODE: dict[int, type[AsyncSttError]] = {
    error.code: error
    for error in (
        Cancelled,
        InvalidArgument,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Internal,
        Unavailable,
        Unauthenticated,
    )
}
# A cancel that races a dispatcher claiming the operation is retried this many times.
_CANCEL_ATTEMPTS = 3


class SourceValidator(Protocol):
    """Checks an audio link at submit time (the real one is the source registry)."""

    def validate(self, uri: str, folder_id: str) -> str:
        """The canonical form of `uri` sent by `folder_id`; raises InvalidArgument when it cannot be read."""


class OperationService:
    def __init__(
        self,
        store: OperationStore,
        sources: SourceValidator,
        capabilities: EngineCapabilities,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        on_submit: Callable[[], None] | None = None,
    ) -> None:
        """`on_submit` is called after a new operation is queued: a dispatcher in this process wakes up
        for it at once instead of at its next poll."""
        self._store = store
        self._sources = sources
        self._capabilities = capabilities
        self._settings = settings
        self._clock = clock
        self._on_submit = on_submit

    @property
    def settings(self) -> Settings:
        return self._settings

    def submit(
        self,
        principal: Principal,
        spec: RecognitionSpec,
        *,
        uri: str | None,
        content: bytes | None,
        api: ApiVersion,
        idempotency: Idempotency | None = None,
        admit: Callable[[], None] | None = None,
        excluded_languages: Sequence[str] = (),
    ) -> Operation:
        """Check the request and queue an operation for it, owned by the principal's folder.

        `admit` is called once the request is found valid, before anything is stored: the front door spends
        the caller's quota there, so a request refused as invalid costs none, and it may refuse in turn.

        `language_candidates` are checked like the language; a single candidate becomes the language.
        `excluded_languages` (a v3 BLACKLIST) make every installed language but them the candidates.

        With `idempotency` (an `Idempotency-Key` and the hash of the request body), a key the folder sent
        within `execution.idempotency_window_seconds` returns the operation it created then, done or not, and
        queues nothing; the same key with a different request hash is InvalidArgument (HTTP 400), as a client
        reusing a key for another request has a bug to fix.
        """
        checked = self._checked_languages(spec, excluded_languages)
        self._check_spec(checked)
        source_uri = self._source(uri, content, principal.folder_id)
        if admit is not None:
            admit()
        now = self._clock()
        operation = Operation(
            id=new_operation_id(V2_PREFIX if api is ApiVersion.V2 else V3_PREFIX),
            folder_id=principal.folder_id,
            created_by=principal.service_account_id,
            api=api,
            spec=checked,
            source_uri=source_uri,
            created_at=now,
            modified_at=now,
        )
        window = timedelta(seconds=self._settings.execution.idempotency_window_seconds)
        created = self._store.create(
            operation,
            inline_audio=content,
            idempotency=idempotency,
            keys_expire_before=now - window,
        )
        if created.id == operation.id and self._on_submit is not None:
            self._on_submit()
        return created

    def _checked_languages(self, spec: RecognitionSpec, excluded: Sequence[str]) -> RecognitionSpec:
        """`spec` with its language and candidates canonical and installed."""
        requested = spec.language_candidates
        if excluded:
            requested = language_check.languages_except(self._capabilities, excluded)
        candidates = language_check.require_candidates(self._capabilities, requested)
        if len(candidates) == 1 and languages.canonical(spec.language) == languages.AUTO:
            return replace(spec, language=candidates[0], language_candidates=())
        return replace(
            spec, language=self.resolve_language(spec.language), language_candidates=candidates
        )

    def resolve_language(self, requested: str) -> str:
        """The canonical code of `requested` (`""`: the default language), checked against the engine.

        The default is `settings.default_language`; unset, it is `ru-RU` when installed, else the single
        installed language.
        """
        code = requested.strip() or self._default_language()
        return language_check.require_language(self._capabilities, code)

    def _default_language(self) -> str:
        if self._settings.default_language:
            return self._settings.default_language
        installed = self._capabilities.languages
        if "ru-RU" in installed or not installed:
            return "ru-RU"
        if len(installed) == 1:
            return next(iter(installed))
        raise InvalidArgument(
            "the request names no language and there is no default; name one of: "
            f"{language_check.installed(self._capabilities)}"
        )

    def _check_spec(self, spec: RecognitionSpec) -> None:
        if spec.model not in MODELS:
            raise InvalidArgument(
                f"model {spec.model} is not known; use one of: {', '.join(MODELS)}"
            )
        if spec.audio_encoding is not AudioEncoding.LINEAR16_PCM:
            return  # the container carries rate and channels; what the request says is ignored
        if spec.sample_rate_hertz not in PCM_SAMPLE_RATES:
            raise InvalidArgument(
                f"sample rate {spec.sample_rate_hertz} Hz is not allowed for LINEAR16_PCM; "
                f"use {', '.join(map(str, PCM_SAMPLE_RATES))}"
            )
        max_channels = self._settings.limits.max_channels
        if not 1 <= spec.audio_channel_count <= max_channels:
            raise InvalidArgument(
                f"audio channel count {spec.audio_channel_count} is not allowed; "
                f"use 1 to {max_channels}"
            )

    def _source(self, uri: str | None, content: bytes | None, folder_id: str) -> str:
        if content is not None and uri is None:
            self._check_inline(content)
            return INLINE_SOURCE
        if uri is not None and content is None:
            return self._sources.validate(uri, folder_id)
        raise InvalidArgument("the request needs exactly one of audio.uri and audio.content")

    def _check_inline(self, content: bytes) -> None:
        if not content:
            raise InvalidArgument("audio.content is empty")
        limit = self._settings.limits.max_inline_bytes
        if len(content) > limit:
            raise InvalidArgument(
                f"inline content is {_megabytes(len(content))} MB; the limit is {_megabytes(limit)} MB; "
                "put the file in a bucket and send its link as audio.uri"
            )

    def find(self, scopes: Iterable[Principal], operation_id: str) -> tuple[Principal, Operation]:
        """The operation, read once, with the first of `scopes` (a caller acting in one of its folders) whose
        folder holds it.

        Unknown, expired or in none of those folders: NotFound, the same for all three, so that existence does
        not leak. `scopes` is consumed only up to the operation's folder, and not at all for an id that names
        no operation, as listing a caller's other folders costs a query.
        """
        operation = (
            self._store.get(operation_id) if is_plausible_operation_id(operation_id) else None
        )
        if operation is not None and not self._expired(operation):
            for principal in scopes:
                if principal.folder_id == operation.folder_id:
                    return principal, operation
        raise NotFound(f"operation {operation_id[:64]} not found")

    def get(self, principal: Principal, operation_id: str) -> Operation:
        """The caller's operation. Any other (unknown, another folder's, expired) is NotFound."""
        return self.find((principal,), operation_id)[1]

    def recognition_of(self, operation: Operation) -> Transcript:
        """The transcript of a finished operation, as `find` read it.

        Still running: FailedPrecondition. Failed (cancelled included): its own error, raised again.
        """
        if not operation.done:
            raise FailedPrecondition(f"operation {operation.id} is not done yet")
        if operation.state is OperationState.FAILED:
            error = operation.error or ErrorInfo(code=13, message="unknown reason")
            raise _ERRORS_BY_CODE.get(error.code, Internal)(
                f"operation {operation.id} failed: {error.message}"
            )
        return operation.result or Transcript()

    def partial_recognition_of(self, operation: Operation) -> Transcript:
        """What the operation, as `find` read it, has recognised so far: a prefix of its final transcript.

        Running: the utterances of the slices saved under its current plan (see `recognised_prefix`). Queued:
        nothing yet. Finished: as `recognition_of`. With speaker labeling, FailedPrecondition until it is done:
        speakers are told apart over the whole file, so no part of it has its labels before the end.
        """
        if operation.done:
            return self.recognition_of(operation)
        if operation.spec.speaker_labeling:
            raise FailedPrecondition(
                f"operation {operation.id} labels speakers over the whole file: it has no partial "
                "results; ask again once it is done"
            )
        if operation.state is OperationState.QUEUED:
            return Transcript()
        return recognised_prefix(self._store.latest_saved_slices(operation.id))

    def queue_position(self, operation: Operation) -> int | None:
        """Where a QUEUED operation, as `find` read it, stands in the queue now (1: the next one claimed).

        None for any other: a running or finished operation costs no query.
        """
        if operation.state is not OperationState.QUEUED:
            return None
        return self._store.queue_position(
            operation, self._clock(), self._settings.execution.deferred_deadline_seconds
        )

    def _expired(self, operation: Operation) -> bool:
        # The sweeper purges in rounds; an operation past its retention is gone for clients at once.
        if operation.done_at is None:
            return False
        retention = timedelta(seconds=self._settings.limits.retention_seconds)
        return operation.done_at + retention <= self._clock()

    def cancel(self, principal: Principal, operation: Operation) -> Operation:
        """Cancel the caller's operation, as `find` read it: a queued one at once, a running one at its
        dispatcher's next slice boundary.

        Cancelling a finished operation returns it unchanged. The operation is read again only after a write:
        to return what cancelling a queued one made of it (the store says only whether it wrote), or when a
        dispatcher claimed it meanwhile.
        """
        _check_owner(principal, operation)
        for attempt in range(_CANCEL_ATTEMPTS):
            if attempt:
                operation = self.get(principal, operation.id)
            if operation.done:
                return operation
            now = self._clock()
            if operation.state is OperationState.QUEUED:
                if self._store.finish(operation.id, None, now, error=CANCELLED):
                    return self.get(principal, operation.id)
                continue  # claimed meanwhile: cancel it as a running one
            requested = self._store.request_cancel(operation.id, now)
            if requested is None:
                break
            return requested
        return self.get(principal, operation.id)

    def delete(self, principal: Principal, operation: Operation) -> None:
        """Remove the caller's operation, as `find` read it, with its result and audio at once."""
        _check_owner(principal, operation)
        if not self._store.delete(operation.id):
            raise NotFound(f"operation {operation.id} not found")


def _check_owner(principal: Principal, operation: Operation) -> None:
    """Another folder's operation is NotFound here too, whoever read it."""
    if operation.folder_id != principal.folder_id:
        raise NotFound(f"operation {operation.id} not found")


def _megabytes(size: int) -> str:
    """Rounded up to 0.1 MB, so that a size just over the limit never prints as the limit itself."""
    return f"{math.ceil(size * 10 / _MB) / 10:g}"
