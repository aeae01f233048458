"""API v2: the `longRunningRecognize` request in, the `LongRunningRecognitionResponse` out.

Both doors share the official messages of `yandex.cloud.ai.stt.v2`: gRPC hands them over as they are, REST reads
its JSON into them with `json_format`, which gives the public gateway's leniency for free (camelCase and
snake_case keys, int64 as a number or a string, enum names or numbers, unknown fields ignored). What a request
asks for is then checked once, on the message, so that both doors refuse the same requests with the same
messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import duration_pb2
from yandex.cloud.ai.stt.v2 import stt_service_pb2

from asyncstt.errors import InvalidArgument
from asyncstt.lengths import quoted
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript, Word
from asyncstt.wire.json_body import decode_base64, is_enum_value, load_object, parse_into
from asyncstt.wire.lengths import check_lengths

_ENCODING_ENUM = stt_service_pb2.RecognitionSpec.DESCRIPTOR.enum_types_by_name["AudioEncoding"]
_ENCODINGS: dict[int, AudioEncoding] = {
    stt_service_pb2.RecognitionSpec.AUDIO_ENCODING_UNSPECIFIED: AudioEncoding.OGG_OPUS,
    stt_service_pb2.RecognitionSpec.LINEAR16_PCM: AudioEncoding.LINEAR16_PCM,
    stt_service_pb2.RecognitionSpec.OGG_OPUS: AudioEncoding.OGG_OPUS,
    stt_service_pb2.RecognitionSpec.MP3: AudioEncoding.MP3,
}
_DEFAULT_SAMPLE_RATE = 48000
_DEFAULT_MODEL = "general"


@dataclass(frozen=True)
class V2Submission:
    """A parsed v2 `longRunningRecognize` request.

    `spec.language` is the code as sent (`""` when absent); the service resolves the default and checks it.
    Exactly one of `uri` and `content` is set.
    """

    spec: RecognitionSpec
    folder_id: str
    uri: str | None
    content: bytes | None


def long_running_request_from_json(body: bytes) -> stt_service_pb2.LongRunningRecognitionRequest:
    """A REST body, JSON whatever its Content-Type, as the official message; InvalidArgument when it is not one.

    Only the JSON is checked here (its shape, its encoding name, its base64); what the request asks for is
    checked by `v2_submission`, for REST and gRPC alike.
    """
    data = load_object(body)
    _check_encoding(_path(data, "config", "specification"))
    content = _take_content(_path(data, "audio"))
    request = parse_into(data, stt_service_pb2.LongRunningRecognitionRequest())
    if content is not None:
        request.audio.content = content
    return request


def v2_submission(request: stt_service_pb2.LongRunningRecognitionRequest) -> V2Submission:
    """What a `LongRunningRecognitionRequest` asks for, whichever door it came through; InvalidArgument when it
    is not valid."""
    check_lengths(request)
    spec = request.config.specification
    encoding = _ENCODINGS.get(spec.audio_encoding)
    if encoding is None:
        # A gRPC client can send a number the enum does not have; protobuf keeps it.
        raise _unknown_encoding("audioEncoding", spec.audio_encoding)
    spec_value = RecognitionSpec(
        language=spec.language_code,
        model=spec.model or _DEFAULT_MODEL,
        audio_encoding=encoding,
        sample_rate_hertz=spec.sample_rate_hertz or _DEFAULT_SAMPLE_RATE,
        audio_channel_count=spec.audio_channel_count or 1,
        profanity_filter=spec.profanity_filter,
        literature_text=spec.literature_text,
        raw_results=spec.raw_results,
    )
    source = request.audio.WhichOneof("audio_source")
    if source is None:
        raise InvalidArgument("the request needs audio.uri (a link to the audio) or audio.content")
    uri: str | None = request.audio.uri if source == "uri" else None
    content: bytes | None = request.audio.content if source == "content" else None
    if uri is not None and not uri.strip():
        raise InvalidArgument("audio.uri is empty")
    return V2Submission(
        spec=spec_value, folder_id=request.config.folder_id, uri=uri, content=content
    )


def _path(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The object at `keys`, or an empty one where the body has none.

    Checked here because the parser, told to ignore unknown fields, silently takes a string where an object
    belongs (it reads the characters as unknown keys).
    """
    node: Any = data
    for depth, key in enumerate(keys, start=1):
        node = node.get(key)
        if node is None:
            return {}
        if not isinstance(node, dict):
            raise InvalidArgument(
                f"invalid request body: {'.'.join(keys[:depth])}: expected a JSON object"
            )
    return node if isinstance(node, dict) else {}


def _check_encoding(spec: dict[str, Any]) -> None:
    # ignore_unknown_fields also drops unknown enum names silently; a typo must not become OGG_OPUS.
    for key in ("audioEncoding", "audio_encoding"):
        value = spec.get(key)
        if value is None:
            continue
        if not is_enum_value(value, _ENCODING_ENUM):
            raise _unknown_encoding(key, value)


def _unknown_encoding(key: str, value: Any) -> InvalidArgument:
    hint = "; send WAV files as LINEAR16_PCM" if str(value).upper() == "WAV" else ""
    return InvalidArgument(
        f"config.specification.{key}: unknown audio encoding {quoted(json.dumps(value), 64)}; "
        f"use LINEAR16_PCM, OGG_OPUS or MP3{hint}"
    )


def _take_content(audio: dict[str, Any]) -> bytes | None:
    """Remove `content` from the body and decode it (see `decode_base64`).

    A body with both uri and content is refused here: the message can hold only one of them.
    """
    value = audio.pop("content", None)
    if value is None:
        return None
    if audio.get("uri") is not None:
        raise InvalidArgument("set only one of audio.uri and audio.content")
    return decode_base64(value, "audio.content")


def render_v2_response(transcript: Transcript) -> Any:
    """The `LongRunningRecognitionResponse` of a finished operation: one chunk per utterance.

    Utterances come ordered by start time then channel; `channel_tag` is 1-based. A transcript without
    speech gives a response with no chunks at all (its JSON is only `@type`).
    """
    response = stt_service_pb2.LongRunningRecognitionResponse()
    for utterance in transcript.utterances:
        if not utterance.text.strip():
            continue
        chunk = response.chunks.add(channel_tag=utterance.channel + 1)
        alternative = chunk.alternatives.add(text=utterance.text, confidence=utterance.confidence)
        for word in utterance.words:
            alternative.words.append(_word_info(word))
    return response


def _word_info(word: Word) -> Any:
    return stt_service_pb2.WordInfo(
        start_time=_duration(word.start),
        end_time=_duration(word.end),
        word=word.text,
        confidence=word.confidence,
    )


def _duration(seconds: float) -> duration_pb2.Duration:
    """Millisecond precision, so JSON reads `"0.420s"` rather than float noise."""
    millis = max(0, round(seconds * 1000))
    return duration_pb2.Duration(seconds=millis // 1000, nanos=(millis % 1000) * 1_000_000)
