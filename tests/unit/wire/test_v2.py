from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v2 import stt_service_pb2 as v2

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript, Utterance, Word
from asyncstt.wire.v2 import (
    V2Submission,
    long_running_request_from_json,
    render_v2_response,
    v2_submission,
)
from tests.factories import (
    CONTRACT_SPECIFICATION,
    CONTRACT_URI,
    make_utterance,
    v2_chunk,
    v2_request,
    v2_word,
)


def parse_long_running_request(body: bytes) -> V2Submission:
    """What REST does with a body."""
    return v2_submission(long_running_request_from_json(body))


def test_contract_example_body_parses_with_mixed_key_spellings() -> None:
    submission = parse_long_running_request(v2_request(CONTRACT_SPECIFICATION))
    assert submission.spec == RecognitionSpec(
        language="ru-RU",
        model="general",
        audio_encoding=AudioEncoding.LINEAR16_PCM,
        sample_rate_hertz=8000,
        audio_channel_count=2,
        literature_text=True,
    )
    assert submission.uri == CONTRACT_URI
    assert submission.content is None
    assert submission.folder_id == ""


def test_snake_case_keys_and_int64_as_strings() -> None:
    submission = parse_long_running_request(
        v2_request(
            {
                "language_code": "en-US",
                "profanity_filter": True,
                "raw_results": True,
                "audio_encoding": "MP3",
                "sample_rate_hertz": "16000",
                "audio_channel_count": "2",
            },
            folder_id="b1gfolder",
        )
    )
    spec = submission.spec
    assert (spec.language, spec.profanity_filter, spec.raw_results) == ("en-US", True, True)
    assert spec.audio_encoding is AudioEncoding.MP3
    assert (spec.sample_rate_hertz, spec.audio_channel_count) == (16000, 2)
    assert submission.folder_id == "b1gfolder"


def test_camel_case_folder_id_and_enum_number() -> None:
    submission = parse_long_running_request(v2_request({"audioEncoding": 1}, folderId="b1gfolder"))
    assert submission.spec.audio_encoding is AudioEncoding.LINEAR16_PCM
    assert submission.folder_id == "b1gfolder"


def test_minimal_body_gets_the_documented_defaults() -> None:
    submission = parse_long_running_request(b'{"config": {}, "audio": {"uri": "s3://b/k"}}')
    assert submission.spec == RecognitionSpec(
        language="",
        model="general",
        audio_encoding=AudioEncoding.OGG_OPUS,
        sample_rate_hertz=48000,
        audio_channel_count=1,
    )
    assert submission.uri == "s3://b/k"


def test_unspecified_encoding_means_ogg_opus() -> None:
    spec = parse_long_running_request(
        v2_request({"audioEncoding": "AUDIO_ENCODING_UNSPECIFIED"})
    ).spec
    assert spec.audio_encoding is AudioEncoding.OGG_OPUS


def test_unknown_fields_are_ignored() -> None:
    raw = {
        "config": {"specification": {"future": 1}, "other": "x"},
        "audio": {"uri": CONTRACT_URI},
        "x": [1],
    }
    assert parse_long_running_request(json.dumps(raw).encode()).uri == CONTRACT_URI


def test_missing_config_is_fine() -> None:
    submission = parse_long_running_request(b'{"audio": {"uri": "s3://b/k"}}')
    assert submission.spec.language == ""


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(b"\x00\x01\xfe\xff" * 5).decode(),
        base64.urlsafe_b64encode(b"\xfb\xff\xfe" * 5).decode(),
        base64.encodebytes(b"\x00\x01\xfe\xff" * 30).decode(),
        base64.urlsafe_b64encode(b"\xfb\xff").decode().rstrip("="),
    ],
)
def test_inline_content_in_either_base64_alphabet_with_or_without_padding(encoded: str) -> None:
    submission = parse_long_running_request(v2_request(audio={"content": encoded}))
    assert submission.uri is None
    standard = encoded.replace("-", "+").replace("_", "/")
    assert submission.content == base64.b64decode(standard + "=" * (-len(standard.strip()) % 4))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{bad", "the request body is not valid JSON: Expecting property name"),
        (b"", "the request body is not valid JSON"),
        (b"\xff\xfe\x00", "the request body is not valid JSON"),
        (b"[1, 2]", "the request body must be a JSON object"),
        (b'"text"', "the request body must be a JSON object"),
        (
            v2_request({"sampleRateHertz": "abc"}),
            "invalid request body: config.specification.sampleRateHertz: expected an integer, got 'abc'",
        ),
        (
            v2_request({"sampleRateHertz": 1.5}),
            "invalid request body: config.specification.sampleRateHertz: expected an integer, got 1.5",
        ),
        (
            v2_request({"profanityFilter": "yes"}),
            "invalid request body: config.specification.profanityFilter: expected true or false",
        ),
        (
            v2_request({"audioEncoding": "FLAC"}),
            'config.specification.audioEncoding: unknown audio encoding "FLAC"; use LINEAR16_PCM, OGG_OPUS or MP3',
        ),
        (
            v2_request({"audio_encoding": "WAV"}),
            "send WAV files as LINEAR16_PCM",
        ),
        (v2_request({"audioEncoding": 9}), "unknown audio encoding 9"),
        (v2_request({"audioEncoding": True}), "unknown audio encoding true"),
        (b'{"config": {}}', "the request needs audio.uri (a link to the audio) or audio.content"),
        (v2_request(audio={}), "the request needs audio.uri"),
        (
            v2_request(audio={"uri": CONTRACT_URI, "content": "AAAA"}),
            "set only one of audio.uri and audio.content",
        ),
        (v2_request(audio={"uri": ""}), "audio.uri is empty"),
        (v2_request(audio={"content": "!!not base64!!"}), "audio.content is not valid base64"),
        (v2_request(audio={"content": "AA=A"}), "audio.content is not valid base64"),
        (v2_request(audio={"content": "AAAAA"}), "audio.content is not valid base64"),
        (v2_request(audio={"content": "AAAÄ"}), "audio.content is not valid base64"),
        (b'{"config": "general"}', "invalid request body: config: expected a JSON object"),
        (
            b'{"config": {"specification": 5}}',
            "invalid request body: config.specification: expected a JSON object",
        ),
        (b'{"audio": [1]}', "invalid request body: audio: expected a JSON object"),
        (b'{"audio": {"uri": 5}}', "invalid request body: audio.uri: expected a string"),
        (
            b'{"audio": {"content": 5}}',
            "invalid request body: audio.content: expected a base64 string",
        ),
        (v2_request(folderId=3), "invalid request body: config.folderId: expected a string"),
    ],
)
def test_bad_bodies_are_invalid_argument(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_long_running_request(raw)
    assert message in raised.value.message
    assert raised.value.code == 3


def test_parser_messages_carry_no_internal_location_noise() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_long_running_request(v2_request({"sampleRateHertz": 1.5}))
    assert "LongRunningRecognitionRequest" not in raised.value.message
    assert "Failed to parse" not in raised.value.message


def test_a_message_and_its_json_give_one_submission() -> None:
    request = v2.LongRunningRecognitionRequest(
        config=v2.RecognitionConfig(
            specification=v2.RecognitionSpec(
                language_code="en-US",
                audio_encoding=v2.RecognitionSpec.LINEAR16_PCM,
                sample_rate_hertz=8000,
                audio_channel_count=2,
                literature_text=True,
            ),
            folder_id="b1gfolder",
        ),
        audio=v2.RecognitionAudio(content=bytes(range(256))),
    )
    submission = v2_submission(request)
    assert submission == parse_long_running_request(json_format.MessageToJson(request).encode())
    assert submission.content == bytes(range(256))
    assert (submission.uri, submission.folder_id) == (None, "b1gfolder")


@pytest.mark.parametrize(
    ("audio", "body", "message"),
    [
        (
            v2.RecognitionAudio(),
            v2_request(audio={}),
            "the request needs audio.uri (a link to the audio) or audio.content",
        ),
        (v2.RecognitionAudio(uri=" "), v2_request(audio={"uri": " "}), "audio.uri is empty"),
    ],
)
def test_a_message_is_refused_as_its_json_is(audio: Any, body: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument) as over_grpc:
        v2_submission(v2.LongRunningRecognitionRequest(audio=audio))
    with pytest.raises(InvalidArgument) as over_rest:
        parse_long_running_request(body)
    assert over_grpc.value.message == over_rest.value.message == message


def test_empty_inline_content_reaches_the_service_from_either_door() -> None:
    """The service refuses it (`audio.content is empty`), with the inline size limit."""
    request = v2.LongRunningRecognitionRequest(audio=v2.RecognitionAudio(content=b""))
    assert v2_submission(request).content == b""
    assert parse_long_running_request(v2_request(audio={"content": ""})).content == b""


def test_an_encoding_number_the_enum_lacks_is_refused_as_over_rest() -> None:
    request = v2.LongRunningRecognitionRequest(audio=v2.RecognitionAudio(uri=CONTRACT_URI))
    request.config.specification.audio_encoding = 9  # type: ignore[assignment]
    with pytest.raises(InvalidArgument) as raised:
        v2_submission(request)
    assert raised.value.message == (
        "config.specification.audioEncoding: unknown audio encoding 9; "
        "use LINEAR16_PCM, OGG_OPUS or MP3"
    )
    with pytest.raises(InvalidArgument) as over_rest:
        parse_long_running_request(v2_request({"audioEncoding": 9}))
    assert over_rest.value.message == raised.value.message


def test_render_one_chunk_per_utterance_with_one_based_string_channel_tags() -> None:
    transcript = Transcript(
        utterances=(
            make_utterance(0, [("hello", 0.42, 0.86), ("there", 0.9, 1.0)], "Hello there."),
            make_utterance(1, [("twelve", 2.9, 3.15)], "12"),
        ),
        channels=2,
    )
    rendered = json_format.MessageToDict(render_v2_response(transcript))
    assert rendered == {
        "chunks": [
            v2_chunk(
                "1",
                "Hello there.",
                [v2_word("hello", "0.420s", "0.860s"), v2_word("there", "0.900s", "1s")],
            ),
            v2_chunk("2", "12", [v2_word("twelve", "2.900s", "3.150s")]),
        ]
    }


def test_render_keeps_real_confidences_and_rounds_times_to_milliseconds() -> None:
    utterance = Utterance(
        channel=0,
        start=0.0,
        end=0.88,
        words=(Word("ask", 0.0000001, 0.8799999, confidence=0.75),),
        raw_text="ask",
        text="Ask",
        confidence=0.5,
    )
    rendered = json_format.MessageToDict(render_v2_response(Transcript(utterances=(utterance,))))
    alternative = rendered["chunks"][0]["alternatives"][0]
    assert alternative["confidence"] == 0.5
    assert alternative["words"][0] == {
        "startTime": "0s",
        "endTime": "0.880s",
        "word": "ask",
        "confidence": 0.75,
    }


def test_no_speech_renders_no_chunks_key() -> None:
    assert json_format.MessageToDict(render_v2_response(Transcript())) == {}


def test_utterances_without_text_give_no_chunk() -> None:
    silent = Utterance(channel=0, start=0, end=1, words=(), raw_text="", text=" ")
    assert json_format.MessageToDict(render_v2_response(Transcript(utterances=(silent,)))) == {}
