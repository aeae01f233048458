from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

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
)
from asyncstt.iam.auth import Principal
from asyncstt.operation import ApiVersion, Idempotency, OperationState, Progress
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript
from asyncstt.service.operations import OperationService
from asyncstt.settings import ExecutionSettings, LimitSettings, Settings
from asyncstt.store.memory import InMemoryStore
from tests.factories import ManualClock

START = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
ALICE = Principal("b1galice", "ajealice")
BOB = Principal("b1gbob", "ajebob")
URI = "s3://acme-calls/call-0001.ogg"
EN = EngineCapabilities(name="fake", languages=frozenset({"en-US"}), detects_language=False)


@dataclass
class StubSources:
    """Accepts `s3://` links and marks the canonical form, so a test can tell that it was used."""

    seen: list[str] = field(default_factory=list)

    def validate(self, uri: str, folder_id: str) -> str:
        if not uri.startswith("s3://"):
            raise InvalidArgument(f"links like {uri} are not supported")
        self.seen.append(uri)
        return uri + "#checked"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def sources() -> StubSources:
    return StubSources()


def make_service(
    store: InMemoryStore,
    clock: ManualClock,
    capabilities: EngineCapabilities = EN,
    sources: StubSources | None = None,
    **settings: Any,
) -> OperationService:
    return OperationService(
        store, sources or StubSources(), capabilities, Settings(**settings), clock
    )


@pytest.fixture
def service(store: InMemoryStore, clock: ManualClock, sources: StubSources) -> OperationService:
    return make_service(store, clock, sources=sources)


def spec(**changes: Any) -> RecognitionSpec:
    return replace(RecognitionSpec(language="en-US"), **changes)


def test_submit_queues_an_operation_owned_by_the_callers_folder(
    service: OperationService, store: InMemoryStore, sources: StubSources
) -> None:
    operation = service.submit(
        ALICE, spec(language="EN-us"), uri=URI, content=None, api=ApiVersion.V2
    )
    assert operation.id.startswith("e03")
    assert len(operation.id) == 20
    assert (operation.folder_id, operation.created_by) == ("b1galice", "ajealice")
    assert operation.spec == spec(language="en-US")
    assert operation.source_uri == URI + "#checked"
    assert sources.seen == [URI]
    assert operation.state is OperationState.QUEUED
    assert operation.created_at == operation.modified_at == START
    assert store.get(operation.id) == operation
    assert store.inline_audio(operation.id) is None


def test_v3_operations_get_their_prefix(service: OperationService) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V3)
    assert operation.id.startswith("f8d")
    assert operation.api is ApiVersion.V3


def test_inline_audio_is_stored_with_the_operation(
    service: OperationService, store: InMemoryStore, sources: StubSources
) -> None:
    operation = service.submit(ALICE, spec(), uri=None, content=b"OggS....", api=ApiVersion.V2)
    assert operation.source_uri == "inline:"
    assert store.inline_audio(operation.id) == b"OggS...."
    assert sources.seen == []


@pytest.mark.parametrize(("uri", "content"), [(None, None), (URI, b"OggS")])
def test_exactly_one_audio_source(
    service: OperationService, uri: str | None, content: bytes | None
) -> None:
    with pytest.raises(InvalidArgument, match=r"exactly one of audio\.uri and audio\.content"):
        service.submit(ALICE, spec(), uri=uri, content=content, api=ApiVersion.V2)


def test_rejected_link_is_the_sources_message(
    service: OperationService, store: InMemoryStore
) -> None:
    with pytest.raises(InvalidArgument, match="links like ftp://x/y are not supported"):
        service.submit(ALICE, spec(), uri="ftp://x/y", content=None, api=ApiVersion.V2)


def test_empty_inline_content_is_refused(service: OperationService) -> None:
    with pytest.raises(InvalidArgument, match=r"^audio.content is empty$"):
        service.submit(ALICE, spec(), uri=None, content=b"", api=ApiVersion.V2)


def test_inline_content_over_the_limit_names_both_sizes(service: OperationService) -> None:
    with pytest.raises(InvalidArgument) as raised:
        service.submit(ALICE, spec(), uri=None, content=bytes(61 * 1024**2), api=ApiVersion.V2)
    assert raised.value.message.startswith(
        "inline content is 61 MB; the limit is 60 MB; put the file in a bucket"
    )


def test_inline_content_just_over_a_small_limit(store: InMemoryStore, clock: ManualClock) -> None:
    service = make_service(store, clock, limits=LimitSettings(max_inline_bytes=1024**2))
    service.submit(ALICE, spec(), uri=None, content=bytes(1024**2), api=ApiVersion.V2)
    with pytest.raises(InvalidArgument, match=r"inline content is 1\.1 MB; the limit is 1 MB"):
        service.submit(ALICE, spec(), uri=None, content=bytes(1024**2 + 1), api=ApiVersion.V2)


@pytest.mark.parametrize(
    "model",
    [
        "general",
        "general:rc",
        "general:deprecated",
        "deferred-general",
        "deferred-general:rc",
        "deferred-general:deprecated",
    ],
)
def test_known_models(service: OperationService, model: str) -> None:
    operation = service.submit(ALICE, spec(model=model), uri=URI, content=None, api=ApiVersion.V2)
    assert operation.spec.model == model


@pytest.mark.parametrize("model", ["hqa", "General", "general:latest", ""])
def test_unknown_model_lists_the_known_ones(service: OperationService, model: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        service.submit(ALICE, spec(model=model), uri=URI, content=None, api=ApiVersion.V2)
    assert raised.value.message == (
        f"model {model} is not known; use one of: general, general:rc, general:deprecated, "
        "deferred-general, deferred-general:rc, deferred-general:deprecated"
    )


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_pcm_sample_rates(service: OperationService, rate: int) -> None:
    pcm = spec(audio_encoding=AudioEncoding.LINEAR16_PCM, sample_rate_hertz=rate)
    assert service.submit(ALICE, pcm, uri=URI, content=None, api=ApiVersion.V2).spec == pcm


@pytest.mark.parametrize("rate", [44100, 22050, 0, -8000])
def test_other_pcm_sample_rates_are_refused(service: OperationService, rate: int) -> None:
    pcm = spec(audio_encoding=AudioEncoding.LINEAR16_PCM, sample_rate_hertz=rate)
    with pytest.raises(
        InvalidArgument,
        match=f"sample rate {rate} Hz is not allowed for LINEAR16_PCM; use 8000, 16000, 48000",
    ):
        service.submit(ALICE, pcm, uri=URI, content=None, api=ApiVersion.V2)


@pytest.mark.parametrize("channels", [0, 3, -1])
def test_pcm_channel_count_is_limited(service: OperationService, channels: int) -> None:
    pcm = spec(audio_encoding=AudioEncoding.LINEAR16_PCM, audio_channel_count=channels)
    with pytest.raises(
        InvalidArgument, match=f"audio channel count {channels} is not allowed; use 1 to 2"
    ):
        service.submit(ALICE, pcm, uri=URI, content=None, api=ApiVersion.V2)


def test_channel_limit_follows_the_settings(store: InMemoryStore, clock: ManualClock) -> None:
    service = make_service(store, clock, limits=LimitSettings(max_channels=4))
    pcm = spec(audio_encoding=AudioEncoding.LINEAR16_PCM, audio_channel_count=4)
    assert service.submit(ALICE, pcm, uri=URI, content=None, api=ApiVersion.V2).spec == pcm


@pytest.mark.parametrize("encoding", [AudioEncoding.OGG_OPUS, AudioEncoding.MP3, AudioEncoding.WAV])
def test_containers_ignore_declared_rate_and_channels(
    service: OperationService, encoding: AudioEncoding
) -> None:
    odd = spec(audio_encoding=encoding, sample_rate_hertz=44100, audio_channel_count=6)
    assert service.submit(ALICE, odd, uri=URI, content=None, api=ApiVersion.V2).spec == odd


def test_language_not_installed_lists_the_installed_ones(service: OperationService) -> None:
    with pytest.raises(InvalidArgument) as raised:
        service.submit(ALICE, spec(language="ru-RU"), uri=URI, content=None, api=ApiVersion.V2)
    assert raised.value.message == "language ru-RU is not installed; installed: en-US"


def test_unknown_language_lists_the_installed_ones(service: OperationService) -> None:
    with pytest.raises(InvalidArgument, match=r"^language xx-YY is not known; installed: en-US$"):
        service.resolve_language("xx-YY")


def test_auto_needs_a_detecting_model(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    with pytest.raises(
        InvalidArgument, match=r"the installed model \(fake\) cannot detect languages"
    ):
        service.resolve_language("auto")
    detecting = EngineCapabilities("whisper", frozenset({"en-US", "ru-RU"}), detects_language=True)
    assert make_service(store, clock, detecting).resolve_language("AUTO") == "auto"


def test_codes_are_case_insensitive_with_aliases(store: InMemoryStore, clock: ManualClock) -> None:
    kazakh = EngineCapabilities("kk", frozenset({"kk-KZ"}), detects_language=False)
    service = make_service(store, clock, kazakh)
    assert service.resolve_language("kk-KK") == "kk-KZ"
    assert service.resolve_language(" KK-kz ") == "kk-KZ"


def test_default_language_is_ru_when_installed(store: InMemoryStore, clock: ManualClock) -> None:
    both = EngineCapabilities("w", frozenset({"en-US", "ru-RU"}), detects_language=True)
    assert make_service(store, clock, both).resolve_language("") == "ru-RU"


def test_default_language_is_the_single_installed_one(service: OperationService) -> None:
    operation = service.submit(ALICE, spec(language=""), uri=URI, content=None, api=ApiVersion.V2)
    assert operation.spec.language == "en-US"


def test_default_language_from_settings(store: InMemoryStore, clock: ManualClock) -> None:
    both = EngineCapabilities("w", frozenset({"en-US", "de-DE"}), detects_language=False)
    assert (
        make_service(store, clock, both, default_language="de-de").resolve_language("") == "de-DE"
    )


def test_configured_default_must_be_installed(store: InMemoryStore, clock: ManualClock) -> None:
    service = make_service(store, clock, default_language="ru-RU")
    with pytest.raises(InvalidArgument, match="language ru-RU is not installed; installed: en-US"):
        service.resolve_language("")


def test_no_default_among_several_languages(store: InMemoryStore, clock: ManualClock) -> None:
    both = EngineCapabilities("w", frozenset({"en-US", "de-DE"}), detects_language=False)
    with pytest.raises(
        InvalidArgument,
        match="names no language and there is no default; name one of: de-DE, en-US",
    ):
        make_service(store, clock, both).resolve_language("")


THREE = EngineCapabilities("multi", frozenset({"en-US", "de-DE", "ru-RU"}), detects_language=True)


def test_candidates_are_checked_like_the_language(store: InMemoryStore, clock: ManualClock) -> None:
    service = make_service(store, clock, THREE)
    asked = spec(language="auto", language_candidates=("ru-ru", "auto", "de-DE", "RU-RU"))
    operation = service.submit(ALICE, asked, uri=URI, content=None, api=ApiVersion.V3)
    assert (operation.spec.language, operation.spec.language_candidates) == (
        "auto",
        ("ru-RU", "de-DE"),
    )
    single = spec(language="auto", language_candidates=("DE-de",))
    operation = service.submit(ALICE, single, uri=URI, content=None, api=ApiVersion.V3)
    assert (operation.spec.language, operation.spec.language_candidates) == ("de-DE", ())
    with pytest.raises(
        InvalidArgument, match=r"^language fr-FR is not installed; installed: de-DE, en-US, ru-RU$"
    ):
        service.submit(
            ALICE,
            spec(language="auto", language_candidates=("en-US", "fr-FR")),
            uri=URI,
            content=None,
            api=ApiVersion.V3,
        )


def test_excluded_languages_leave_the_other_installed_ones_as_candidates(
    store: InMemoryStore, clock: ManualClock
) -> None:
    service = make_service(store, clock, THREE)
    auto = spec(language="auto")
    operation = service.submit(
        ALICE, auto, uri=URI, content=None, api=ApiVersion.V3, excluded_languages=("RU-ru",)
    )
    assert (operation.spec.language, operation.spec.language_candidates) == (
        "auto",
        ("de-DE", "en-US"),
    )
    one_left = service.submit(
        ALICE,
        auto,
        uri=URI,
        content=None,
        api=ApiVersion.V3,
        excluded_languages=("ru-RU", "de-DE"),
    )
    assert (one_left.spec.language, one_left.spec.language_candidates) == ("en-US", ())


@pytest.mark.parametrize(
    ("excluded", "message"),
    [
        (("zz-ZZ",), "language zz-ZZ is not known; installed: de-DE, en-US, ru-RU"),
        (
            ("ru-RU", "de-DE", "en-us"),
            "the language blacklist leaves no installed language; installed: de-DE, en-US, ru-RU",
        ),
    ],
)
def test_a_refused_blacklist_costs_no_quota(
    store: InMemoryStore, clock: ManualClock, excluded: tuple[str, ...], message: str
) -> None:
    service = make_service(store, clock, THREE)
    admitted: list[bool] = []
    with pytest.raises(InvalidArgument) as raised:
        service.submit(
            ALICE,
            spec(language="auto"),
            uri=URI,
            content=None,
            api=ApiVersion.V3,
            admit=lambda: admitted.append(True),
            excluded_languages=excluded,
        )
    assert raised.value.message == message
    assert admitted == []


def test_get_returns_the_callers_operation(service: OperationService) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    assert service.get(ALICE, operation.id) == operation


@pytest.mark.parametrize("operation_id", ["e03doesnotexist00000", "e03/../x", "x" * 51, "", "абв"])
def test_unknown_or_malformed_ids_are_not_found(
    service: OperationService, operation_id: str
) -> None:
    with pytest.raises(NotFound, match=r"not found$"):
        service.get(ALICE, operation_id)


def test_another_folders_operation_looks_like_no_operation(service: OperationService) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    with pytest.raises(NotFound) as raised:
        service.get(BOB, operation.id)
    assert raised.value.message == f"operation {operation.id} not found"
    with pytest.raises(NotFound, match=f"^operation {operation.id} not found$"):
        service.find((BOB, Principal("b1gthird", "ajethird")), operation.id)
    with pytest.raises(NotFound, match=f"^operation {operation.id} not found$"):
        service.cancel(BOB, operation)
    with pytest.raises(NotFound, match=f"^operation {operation.id} not found$"):
        service.delete(BOB, operation)
    assert service.get(ALICE, operation.id).state is OperationState.QUEUED


def test_expired_operation_is_gone_before_the_sweeper_runs(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    assert store.finish(operation.id, None, clock(), result=Transcript())
    clock.advance(3 * 24 * 3600 - 1)
    assert service.get(ALICE, operation.id).done
    clock.advance(1)
    with pytest.raises(NotFound):
        service.get(ALICE, operation.id)


def test_cancel_queued_finishes_it_at_once(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    operation = service.submit(ALICE, spec(), uri=None, content=b"OggS", api=ApiVersion.V2)
    clock.advance(5)
    cancelled = service.cancel(ALICE, service.get(ALICE, operation.id))
    assert cancelled.state is OperationState.FAILED
    assert cancelled.error == ErrorInfo(1, "cancelled")
    assert cancelled.modified_at == START + timedelta(seconds=5)
    assert store.inline_audio(operation.id) is None
    assert store.claim("worker", 30, clock()) is None


def test_cancel_running_asks_the_dispatcher_to_stop(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    assert store.claim("worker", 30, clock()) is not None
    cancelled = service.cancel(ALICE, service.get(ALICE, operation.id))
    assert cancelled.state is OperationState.RUNNING
    assert cancelled.cancel_requested
    assert not cancelled.done
    assert store.get(operation.id) == cancelled


def test_cancel_done_returns_it_unchanged(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    store.claim("worker", 30, clock())
    store.set_progress(operation.id, "worker", Progress(1, 1, "assembling"), clock())
    assert store.finish(operation.id, "worker", clock(), result=Transcript())
    finished = store.get(operation.id)
    clock.advance(10)
    assert service.cancel(ALICE, service.get(ALICE, operation.id)) == finished


def test_cancel_of_a_queued_operation_claimed_meanwhile_becomes_a_cancel_request(
    store: InMemoryStore, clock: ManualClock
) -> None:
    class RacingStore(InMemoryStore):
        def finish(
            self,
            operation_id: str,
            owner: str | None,
            now: datetime,
            result: Transcript | None = None,
            error: ErrorInfo | None = None,
        ) -> bool:
            if owner is None and self.claim("worker", 30, now) is not None:
                return False
            return super().finish(operation_id, owner, now, result, error)

    racing = RacingStore()
    service = make_service(racing, clock)
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    cancelled = service.cancel(ALICE, service.get(ALICE, operation.id))
    assert cancelled.state is OperationState.RUNNING
    assert cancelled.cancel_requested


def test_delete_removes_operation_and_audio(
    service: OperationService, store: InMemoryStore
) -> None:
    operation = service.submit(ALICE, spec(), uri=None, content=b"OggS", api=ApiVersion.V2)
    service.delete(ALICE, operation)
    assert store.get(operation.id) is None
    assert store.inline_audio(operation.id) is None
    with pytest.raises(NotFound):
        service.get(ALICE, operation.id)
    with pytest.raises(NotFound, match=f"^operation {operation.id} not found$"):
        service.delete(ALICE, operation)


# idempotent submit


def _key(body: str = "body") -> Idempotency:
    return Idempotency("4b9c-retry", hashlib.sha256(body.encode()).hexdigest())


def test_a_retried_submit_returns_the_operation_of_the_first(
    store: InMemoryStore, clock: ManualClock
) -> None:
    woken: list[None] = []
    service = OperationService(
        store,
        StubSources(),
        EN,
        Settings(execution=ExecutionSettings(idempotency_window_seconds=3600)),
        clock,
        on_submit=lambda: woken.append(None),
    )
    first = service.submit(
        ALICE, spec(), uri=URI, content=None, api=ApiVersion.V3, idempotency=_key()
    )
    clock.advance(3599)
    assert store.claim("worker", 30, clock()) is not None
    assert store.finish(first.id, "worker", clock(), result=Transcript())
    again = service.submit(
        ALICE, spec(), uri=URI, content=None, api=ApiVersion.V3, idempotency=_key()
    )
    assert (again.id, again.state) == (first.id, OperationState.SUCCEEDED)
    assert len(woken) == 1, "a retry queues nothing, so nothing is woken"
    # Another folder, or the same folder once the window has passed, gets a new operation.
    assert (
        service.submit(BOB, spec(), uri=URI, content=None, api=ApiVersion.V3, idempotency=_key()).id
        != first.id
    )
    clock.advance(2)
    later = service.submit(
        ALICE, spec(), uri=URI, content=None, api=ApiVersion.V3, idempotency=_key()
    )
    assert later.id != first.id
    assert later.state is OperationState.QUEUED
    assert len(woken) == 3


def test_a_key_sent_again_with_another_request_is_refused(service: OperationService) -> None:
    service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2, idempotency=_key("a"))
    with pytest.raises(InvalidArgument, match="used with a different request"):
        service.submit(
            ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2, idempotency=_key("b")
        )


def test_submits_without_a_key_are_never_merged(
    service: OperationService, store: InMemoryStore
) -> None:
    first = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    second = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    assert first.id != second.id
    assert store.get(second.id) == second


def test_find_reads_once_and_answers_the_folder_that_holds_it(
    service: OperationService, store: InMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    reads: list[str] = []
    read = store.get

    def counted(operation_id: str) -> Any:
        reads.append(operation_id)
        return read(operation_id)

    monkeypatch.setattr(store, "get", counted)
    looked_in: list[Principal] = []

    def scopes() -> Iterator[Principal]:
        for principal in (BOB, ALICE, Principal("b1gthird", "ajethird")):
            looked_in.append(principal)
            yield principal

    assert service.find(scopes(), operation.id) == (ALICE, operation)
    assert (reads, looked_in) == ([operation.id], [BOB, ALICE])
    looked_in.clear()
    with pytest.raises(NotFound, match=r"^operation e03doesnotexist00000 not found$"):
        service.find(scopes(), "e03doesnotexist00000")
    assert looked_in == [], "no folder is listed for an id that names no operation"


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (ErrorInfo(1, "cancelled"), Cancelled),
        (ErrorInfo(3, "audio could not be decoded"), InvalidArgument),
        (ErrorInfo(6, "already there"), AlreadyExists),
        (ErrorInfo(42, "from the future"), Internal),
    ],
)
def test_recognition_of_a_failed_operation_raises_its_own_error(
    service: OperationService,
    store: InMemoryStore,
    clock: ManualClock,
    error: ErrorInfo,
    raised: type[AsyncSttError],
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    assert store.finish(operation.id, None, clock(), error=error)
    failed = service.get(ALICE, operation.id)
    with pytest.raises(raised) as caught:
        service.recognition_of(failed)
    assert type(caught.value) is raised
    assert caught.value.message == f"operation {operation.id} failed: {error.message}"


def test_recognition_of_a_running_operation_is_failed_precondition(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    assert store.claim("worker", 30, clock()) is not None
    with pytest.raises(FailedPrecondition, match=f"^operation {operation.id} is not done yet$"):
        service.recognition_of(service.get(ALICE, operation.id))


def test_recognition_of_a_finished_operation_is_its_transcript(
    service: OperationService, store: InMemoryStore, clock: ManualClock
) -> None:
    operation = service.submit(ALICE, spec(), uri=URI, content=None, api=ApiVersion.V2)
    transcript = Transcript(channels=1, duration_seconds=2.5)
    assert store.finish(operation.id, None, clock(), result=transcript)
    assert service.recognition_of(service.get(ALICE, operation.id)) == transcript
