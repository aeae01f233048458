"""API v3: the `RecognizeFileRequest` in, the `getRecognition` stream of `StreamingResponse` out.

Both doors share the official messages of `yandex.cloud.ai.stt.v3`: gRPC hands them over as they are, REST reads
its JSON into them with `json_format` (camelCase and snake_case keys, int64 as a number or a string, enum names
or numbers, unknown fields ignored). What a request asks for is then checked once, on the message, so that both
doors refuse the same requests with the same messages. The REST result stream emits unpopulated fields
(`"resetTimeMs": "0"`, `"languages": []`), as the public service does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor
from google.protobuf.message import Message
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.analysis.classifier import profanity
from asyncstt.analysis.conversation import conversation_analysis
from asyncstt.analysis.speech import total_analysis, utterance_analysis
from asyncstt.errors import InvalidArgument
from asyncstt.lengths import quoted
from asyncstt.recognition import (
    Analytics,
    AudioEncoding,
    ClassifierTrigger,
    RecognitionSpec,
    Transcript,
    Utterance,
)
from asyncstt.speakers.labeling import INSTALL_HINT, labeling_available, require_mono
from asyncstt.wire.analytics import (
    analytics_of,
    classifier_message,
    conversation_message,
    speaker_message,
)
from asyncstt.wire.json_body import (
    decode_base64,
    is_enum_value,
    load_object,
    parse_into,
    present_fields,
)
from asyncstt.wire.lengths import check_lengths

_CONTAINERS: dict[int, AudioEncoding] = {
    stt_pb2.ContainerAudio.CONTAINER_AUDIO_TYPE_UNSPECIFIED: AudioEncoding.AUTO,
    stt_pb2.ContainerAudio.WAV: AudioEncoding.WAV,
    stt_pb2.ContainerAudio.OGG_OPUS: AudioEncoding.OGG_OPUS,
    stt_pb2.ContainerAudio.MP3: AudioEncoding.MP3,
}
_DEFAULT_SAMPLE_RATE = 48000
_DEFAULT_MODEL = "general"
_AUTO = "auto"


@dataclass(frozen=True)
class V3Submission:
    """A parsed v3 `recognizeFileAsync` request.

    `spec.language` is the code as sent (`""` when the request restricts nothing; `auto` with candidates for a
    whitelist of several). `excluded_languages` is a BLACKLIST: the service turns it into candidates, because
    only it knows what is installed. Exactly one of `uri` and `content` is set.
    """

    spec: RecognitionSpec
    uri: str | None
    content: bytes | None
    excluded_languages: tuple[str, ...] = ()


def recognize_file_request_from_json(body: bytes) -> stt_pb2.RecognizeFileRequest:
    """A REST body, JSON whatever its Content-Type, as the official message; InvalidArgument when it is not one.

    Only the JSON is checked here (its shape, its enum names, its base64); what the request asks for is checked
    by `v3_submission`, for REST and gRPC alike.
    """
    data = load_object(body)
    content = _take_content(data)
    _check_shape(data, stt_pb2.RecognizeFileRequest.DESCRIPTOR, "")
    request = parse_into(data, stt_pb2.RecognizeFileRequest())
    if content is not None:
        request.content = content
    return request


def v3_submission(request: stt_pb2.RecognizeFileRequest) -> V3Submission:
    """What a `RecognizeFileRequest` asks for, whichever door it came through; InvalidArgument when it is not
    valid.

    Present but empty sub-messages (`recognition_classifier {}` and `speaker_labeling {}`, which the ai-studio
    SDK always sends) ask for nothing and are accepted, as is an empty `model` (the default one).
    """
    check_lengths(request)
    _check_enums(request, "")
    _refuse_analytics(request)
    analytics = analytics_of(request)
    source = request.WhichOneof("AudioSource")
    if source is None:
        raise InvalidArgument("the request needs uri (a link to the audio) or content")
    uri: str | None = request.uri if source == "uri" else None
    content: bytes | None = request.content if source == "content" else None
    if uri is not None and not uri.strip():
        raise InvalidArgument("uri is empty")
    if content is not None and not content:
        raise InvalidArgument("content is empty")
    language, candidates, excluded = _languages(request.recognition_model.language_restriction)
    spec = replace(
        _spec(request.recognition_model, language, candidates),
        analytics=analytics,
        speaker_labeling=_speaker_labeling(request),
    )
    return V3Submission(spec=spec, uri=uri, content=content, excluded_languages=excluded)


def _spec(model: Any, language: str, candidates: tuple[str, ...]) -> RecognitionSpec:
    audio = model.audio_format
    encoding = AudioEncoding.AUTO
    sample_rate = _DEFAULT_SAMPLE_RATE
    channels = 1
    if audio.HasField("raw_audio"):
        # LINEAR16_PCM is the only raw encoding; UNSPECIFIED can mean nothing else.
        encoding = AudioEncoding.LINEAR16_PCM
        sample_rate = audio.raw_audio.sample_rate_hertz or _DEFAULT_SAMPLE_RATE
        channels = audio.raw_audio.audio_channel_count or 1
    elif audio.HasField("container_audio"):
        encoding = _CONTAINERS[audio.container_audio.container_audio_type]
    options = model.text_normalization
    # SpeechKit applies profanity filter, literature style and phone formatting only with normalization on.
    normalized = (
        options.text_normalization == stt_pb2.TextNormalizationOptions.TEXT_NORMALIZATION_ENABLED
    )
    return RecognitionSpec(
        language=language,
        model=model.model.strip() or _DEFAULT_MODEL,
        audio_encoding=encoding,
        sample_rate_hertz=sample_rate,
        audio_channel_count=channels,
        profanity_filter=normalized and options.profanity_filter,
        literature_text=normalized and options.literature_text,
        raw_results=not normalized,
        phone_formatting=normalized
        and options.phone_formatting_mode
        != stt_pb2.TextNormalizationOptions.PHONE_FORMATTING_MODE_DISABLED,
        language_candidates=candidates,
    )


def _languages(restriction: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(language, candidates, excluded) of a `languageRestriction`.

    No codes: the default language. One code: that language. `auto` or several codes: detection among them.
    BLACKLIST: detection among everything installed except them. A list without a type is taken as a whitelist.
    """
    unique: dict[str, str] = {}
    for code in restriction.language_code:
        if code.strip():
            unique.setdefault(code.strip().lower(), code.strip())
    codes = list(unique.values())
    if restriction.restriction_type == stt_pb2.LanguageRestrictionOptions.BLACKLIST:
        return _AUTO, (), tuple(code for code in codes if code.lower() != _AUTO)
    named = tuple(code for code in codes if code.lower() != _AUTO)
    if not codes:
        return "", (), ()
    if len(codes) == 1 and named:
        return named[0], (), ()
    return _AUTO, named, ()


def _refuse_analytics(request: Any) -> None:
    """Analytics this server cannot produce are refused by name, never silently dropped; classifiers other than
    profanity are refused where they are read (`analytics_of`)."""
    if request.summarization.model_uri or request.summarization.properties:
        raise InvalidArgument("summarization is not available on this server; leave it out")


def _speaker_labeling(request: Any) -> bool:
    """Whether the request asks for speaker labeling, which needs mono audio and the `speakers` extra."""
    options = request.speaker_labeling
    if options.speaker_labeling != stt_pb2.SpeakerLabelingOptions.SPEAKER_LABELING_ENABLED:
        return False
    if not labeling_available():
        raise InvalidArgument(
            f"speakerLabeling is not enabled on this server; its operator can {INSTALL_HINT}"
        )
    raw = request.recognition_model.audio_format.raw_audio
    require_mono(raw.audio_channel_count or 1)
    return True


def _check_shape(data: dict[str, Any], descriptor: Descriptor, path: str) -> None:
    """Objects where the message has messages, known names where it has enums.

    Checked here because the parser, told to ignore unknown fields, silently drops an unknown enum name (a typo
    would become the default) and takes a string where an object belongs.
    """
    for field, where, value in present_fields(data, descriptor, path):
        if field.is_repeated:
            if not isinstance(value, list):
                raise InvalidArgument(f"invalid request body: {where}: expected a JSON array")
            items = value
        else:
            items = [value]
        for item in items:
            if field.enum_type is not None:
                _check_enum(item, field.enum_type, where)
            elif (
                field.message_type is not None
                and field.message_type.file.package != "google.protobuf"
            ):
                if not isinstance(item, dict):
                    raise InvalidArgument(f"invalid request body: {where}: expected a JSON object")
                _check_shape(item, field.message_type, where)


def _check_enum(value: Any, enum: EnumDescriptor, where: str) -> None:
    if not is_enum_value(value, enum):
        names = ", ".join(v.name for v in enum.values if v.number != 0)
        raise InvalidArgument(
            f"{where}: unknown value {quoted(json.dumps(value), 64)}; use one of: {names}"
        )


def _check_enums(message: Message, path: str) -> None:
    """Every enum of the message names a value of its type.

    A gRPC client can send a number that the type does not have (protobuf keeps it); it is refused with the
    message that REST gives for it, the path spelled in camelCase.
    """
    for field in message.DESCRIPTOR.fields:
        where = f"{path}.{field.json_name}" if path else field.json_name
        if field.enum_type is not None:
            values = (
                getattr(message, field.name)
                if field.is_repeated
                else [getattr(message, field.name)]
            )
            for value in values:
                _check_enum(value, field.enum_type, where)
        elif (
            field.message_type is not None and field.message_type.file.package != "google.protobuf"
        ):
            if field.is_repeated:
                for item in getattr(message, field.name):
                    _check_enums(item, where)
            elif message.HasField(field.name):
                _check_enums(getattr(message, field.name), where)


def _take_content(data: dict[str, Any]) -> bytes | None:
    """Remove `content` from the body and decode it (see `decode_base64`).

    A body with both uri and content is refused here: the message can hold only one of them.
    """
    value = data.pop("content", None)
    if value is None:
        return None
    if data.get("uri") is not None:
        raise InvalidArgument("set only one of uri and content")
    return decode_base64(value, "content")


def session_uuid(operation_id: str) -> str:
    """A stable id in the public service's `xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx` shape, derived from the operation."""
    digest = hashlib.sha256(operation_id.encode()).hexdigest()
    return "-".join(digest[i : i + 8] for i in range(0, 32, 8))


def render_recognition(
    operation_id: str,
    transcript: Transcript,
    wall_time_ms: Callable[[], int],
    spec: RecognitionSpec | None = None,
    *,
    partial: bool = False,
) -> Iterator[Any]:
    """The `StreamingResponse` messages of a recognition, produced one at a time.

    Per utterance, in transcript order: `final` (the raw text), `final_refinement` (the text as the spec asked
    for it) and `eou_update`. `channel_tag` is 0-based and `final_index` counts per channel. Utterances without
    text are left out, as in v2; silence gives no message at all. `wall_time_ms` stamps each message.

    What the spec's analytics ask for joins them: the profanity classifier's `classifier_update` after the
    `final` (ON_FINAL) or the `eou_update` (ON_UTTERANCE), the speaker's `speaker_analysis` of the utterance
    after its `eou_update`, and at the end each speaker's `speaker_analysis` of the whole file then one
    `conversation_analysis`. A `partial` transcript (what a running operation has recognised so far) ends
    without those last ones, so that its stream is a prefix of the finished one.
    """
    analytics = spec.analytics if spec is not None else Analytics()
    language = spec.language if spec is not None else ""
    session = stt_pb2.SessionUuid(uuid=session_uuid(operation_id), user_request_id=operation_id)
    received = _ms(transcript.duration_seconds)
    finals: dict[int, int] = {}

    def message(cursors: Any, tag: str, **event: Any) -> Any:
        return stt_pb2.StreamingResponse(
            session_uuid=session,
            audio_cursors=cursors,
            response_wall_time_ms=wall_time_ms(),
            channel_tag=tag,
            **event,
        )

    for utterance in transcript.utterances:
        if not utterance.text.strip():
            continue
        index = finals.get(utterance.channel, 0)
        finals[utterance.channel] = index + 1
        tag = str(utterance.channel)
        end = _ms(utterance.end)
        cursors = _cursors(received, end, index)
        verdict = (
            profanity(utterance, utterance.language or language)
            if analytics.profanity_triggers
            else None
        )
        yield message(cursors, tag, final=_update(utterance, utterance.raw_text, tag))
        if verdict is not None and ClassifierTrigger.FINAL in analytics.profanity_triggers:
            update = classifier_message(utterance, verdict, ClassifierTrigger.FINAL)
            yield message(cursors, tag, classifier_update=update)
        refinement = stt_pb2.FinalRefinement(
            final_index=index, normalized_text=_update(utterance, utterance.text, tag)
        )
        yield message(cursors, tag, final_refinement=refinement)
        ended = _cursors(received, end, index, eou_time_ms=end)
        yield message(ended, tag, eou_update=stt_pb2.EouUpdate(time_ms=end))
        if verdict is not None and ClassifierTrigger.UTTERANCE in analytics.profanity_triggers:
            update = classifier_message(utterance, verdict, ClassifierTrigger.UTTERANCE)
            yield message(ended, tag, classifier_update=update)
        if analytics.speaker_analysis:
            stats = utterance_analysis(utterance, analytics)
            yield message(ended, tag, speaker_analysis=speaker_message(stats, total=False))
    if partial:
        return
    if analytics.speaker_analysis:
        for stats in total_analysis(transcript, analytics):
            cursors = _cursors(received, received, max(0, finals.get(stats.channel, 0) - 1))
            yield message(
                cursors, str(stats.channel), speaker_analysis=speaker_message(stats, total=True)
            )
    if analytics.conversation_analysis:
        conversation = conversation_message(conversation_analysis(transcript, analytics))
        yield message(_cursors(received, received, 0), "", conversation_analysis=conversation)


def _cursors(received: int, end: int, final_index: int, eou_time_ms: int = 0) -> Any:
    return stt_pb2.AudioCursors(
        received_data_ms=received,
        partial_time_ms=end,
        final_time_ms=end,
        final_index=final_index,
        eou_time_ms=eou_time_ms,
    )


def _update(utterance: Utterance, text: str, tag: str) -> Any:
    alternative = stt_pb2.Alternative(
        words=[
            stt_pb2.Word(text=word.text, start_time_ms=_ms(word.start), end_time_ms=_ms(word.end))
            for word in utterance.words
        ],
        text=text,
        start_time_ms=_ms(utterance.start),
        end_time_ms=_ms(utterance.end),
        confidence=utterance.confidence,
    )
    if utterance.language:
        alternative.languages.add(
            language_code=utterance.language, probability=utterance.language_probability
        )
    return stt_pb2.AlternativeUpdate(alternatives=[alternative], channel_tag=tag)


def render_stream_line(response: Any) -> bytes:
    """One line of the REST body: `{"result": <StreamingResponse>}` with every field emitted, then a newline."""
    result = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
    return json.dumps({"result": result}, ensure_ascii=False).encode() + b"\n"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
