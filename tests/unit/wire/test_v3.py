from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript, Utterance, Word
from asyncstt.wire.v2 import render_v2_response
from asyncstt.wire.v3 import (
    V3Submission,
    recognize_file_request_from_json,
    render_recognition,
    render_stream_line,
    session_uuid,
    v3_submission,
)
from tests.factories import make_transcript, make_utterance

URI = "https://storage.yandexcloud.net/acme-calls/2025/03/call-0002.wav"
OPERATION_ID = "f8d4q1n7c2v9k5m3h6tb"
#: The contract's "by link, WAV, normalization + 2-speaker labeling" example (section 3.8).
CONTRACT_BY_LINK: dict[str, Any] = {
    "uri": URI,
    "recognitionModel": {
        "model": "deferred-general",
        "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
        "textNormalization": {
            "textNormalization": "TEXT_NORMALIZATION_ENABLED",
            "profanityFilter": True,
            "literatureText": True,
        },
        "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["ru-RU"]},
    },
    "speakerLabeling": {"speakerLabeling": "SPEAKER_LABELING_ENABLED"},
}
#: The contract's inline raw PCM example, snake_case as the vendor's examples spell it.
CONTRACT_INLINE: dict[str, Any] = {
    "content": "AAAAAP//AQD+/wIA/f8DAA==",
    "recognition_model": {
        "model": "general",
        "audio_format": {
            "raw_audio": {
                "audio_encoding": "LINEAR16_PCM",
                "sample_rate_hertz": 16000,
                "audio_channel_count": 1,
            }
        },
        "language_restriction": {"restriction_type": "WHITELIST", "language_code": ["auto"]},
    },
}
#: The contract's constructed stereo stream (section 3.4): channel 0's three messages and channel 1's first two.
CONTRACT_STEREO_STREAM = """
{"result": {"sessionUuid": {"uuid": "7b1e42a0-91c3d5f2-0e6a8b74-3c9d21fe", "userRequestId": "f8d4q1n7c2v9k5m3h6tb"}, "audioCursors": {"receivedDataMs": "4100", "resetTimeMs": "0", "partialTimeMs": "2310", "finalTimeMs": "2310", "finalIndex": "0", "eouTimeMs": "0"}, "responseWallTimeMs": "212", "final": {"alternatives": [{"words": [{"text": "добрый", "startTimeMs": "420", "endTimeMs": "860"}, {"text": "день", "startTimeMs": "900", "endTimeMs": "1240"}], "text": "добрый день", "startTimeMs": "0", "endTimeMs": "2310", "confidence": 0, "languages": []}], "channelTag": "0"}, "channelTag": "0"}}
{"result": {"sessionUuid": {"uuid": "7b1e42a0-91c3d5f2-0e6a8b74-3c9d21fe", "userRequestId": "f8d4q1n7c2v9k5m3h6tb"}, "audioCursors": {"receivedDataMs": "4100", "resetTimeMs": "0", "partialTimeMs": "2310", "finalTimeMs": "2310", "finalIndex": "0", "eouTimeMs": "0"}, "responseWallTimeMs": "212", "finalRefinement": {"finalIndex": "0", "normalizedText": {"alternatives": [{"words": [{"text": "добрый", "startTimeMs": "420", "endTimeMs": "860"}, {"text": "день", "startTimeMs": "900", "endTimeMs": "1240"}], "text": "Добрый день.", "startTimeMs": "0", "endTimeMs": "2310", "confidence": 0, "languages": []}], "channelTag": "0"}}, "channelTag": "0"}}
{"result": {"sessionUuid": {"uuid": "7b1e42a0-91c3d5f2-0e6a8b74-3c9d21fe", "userRequestId": "f8d4q1n7c2v9k5m3h6tb"}, "audioCursors": {"receivedDataMs": "4100", "resetTimeMs": "0", "partialTimeMs": "2310", "finalTimeMs": "2310", "finalIndex": "0", "eouTimeMs": "2310"}, "responseWallTimeMs": "213", "eouUpdate": {"timeMs": "2310"}, "channelTag": "0"}}
{"result": {"sessionUuid": {"uuid": "7b1e42a0-91c3d5f2-0e6a8b74-3c9d21fe", "userRequestId": "f8d4q1n7c2v9k5m3h6tb"}, "audioCursors": {"receivedDataMs": "4100", "resetTimeMs": "0", "partialTimeMs": "4100", "finalTimeMs": "4100", "finalIndex": "0", "eouTimeMs": "0"}, "responseWallTimeMs": "215", "final": {"alternatives": [{"words": [{"text": "двенадцать", "startTimeMs": "3500", "endTimeMs": "3720"}, {"text": "заказов", "startTimeMs": "3760", "endTimeMs": "4100"}], "text": "двенадцать заказов", "startTimeMs": "2900", "endTimeMs": "4100", "confidence": 0, "languages": []}], "channelTag": "1"}, "channelTag": "1"}}
{"result": {"sessionUuid": {"uuid": "7b1e42a0-91c3d5f2-0e6a8b74-3c9d21fe", "userRequestId": "f8d4q1n7c2v9k5m3h6tb"}, "audioCursors": {"receivedDataMs": "4100", "resetTimeMs": "0", "partialTimeMs": "4100", "finalTimeMs": "4100", "finalIndex": "0", "eouTimeMs": "0"}, "responseWallTimeMs": "215", "finalRefinement": {"finalIndex": "0", "normalizedText": {"alternatives": [{"words": [{"text": "двенадцать", "startTimeMs": "3500", "endTimeMs": "3720"}, {"text": "заказов", "startTimeMs": "3760", "endTimeMs": "4100"}], "text": "12 заказов.", "startTimeMs": "2900", "endTimeMs": "4100", "confidence": 0, "languages": []}], "channelTag": "1"}}, "channelTag": "1"}}
"""
UUID_SHAPE = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{8}){3}$")


def parse(body: dict[str, Any]) -> V3Submission:
    return parse_json(json.dumps(body).encode())


def parse_json(raw: bytes) -> V3Submission:
    """What REST does with a body."""
    return v3_submission(recognize_file_request_from_json(raw))


def with_model(**model: Any) -> dict[str, Any]:
    return {"uri": URI, "recognitionModel": model}


def refused(body: dict[str, Any] | bytes) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(InvalidArgument) as caught:
        parse_json(raw)
    return caught.value.message


def wall_clock(*values: int) -> Iterator[int]:
    return iter(values)


def stream(transcript: Transcript, operation_id: str = OPERATION_ID) -> list[dict[str, Any]]:
    """The REST lines of `transcript`, each stamped with wall time 7."""
    body = b"".join(
        render_stream_line(message)
        for message in render_recognition(operation_id, transcript, lambda: 7)
    )
    assert body == b"" or body.endswith(b"\n")
    return [json.loads(line) for line in body.splitlines()]


# --- RecognizeFile requests -------------------------------------------------------------------------


def test_contract_by_link_example_without_speaker_labeling() -> None:
    body = {k: v for k, v in CONTRACT_BY_LINK.items() if k != "speakerLabeling"}
    assert parse(body) == V3Submission(
        spec=RecognitionSpec(
            language="ru-RU",
            model="deferred-general",
            audio_encoding=AudioEncoding.WAV,
            profanity_filter=True,
            literature_text=True,
            raw_results=False,
            phone_formatting=True,
        ),
        uri=URI,
        content=None,
    )


def test_contract_by_link_example_asks_for_speaker_labeling() -> None:
    spec = parse(CONTRACT_BY_LINK).spec
    assert spec.speaker_labeling
    assert spec.audio_encoding == AudioEncoding.WAV


def test_contract_inline_example_snake_case() -> None:
    submission = parse(CONTRACT_INLINE)
    assert submission.uri is None
    assert submission.content == base64.b64decode(CONTRACT_INLINE["content"])
    assert submission.spec == RecognitionSpec(
        language="auto",
        model="general",
        audio_encoding=AudioEncoding.LINEAR16_PCM,
        sample_rate_hertz=16000,
        audio_channel_count=1,
        raw_results=True,
    )


def test_camel_and_snake_case_give_the_same_request() -> None:
    camel = {
        "uri": URI,
        "recognitionModel": {
            "audioFormat": {
                "rawAudio": {
                    "audioEncoding": "LINEAR16_PCM",
                    "sampleRateHertz": "8000",
                    "audioChannelCount": "2",
                }
            },
            "textNormalization": {
                "textNormalization": "TEXT_NORMALIZATION_ENABLED",
                "literatureText": True,
                "phoneFormattingMode": "PHONE_FORMATTING_MODE_DISABLED",
            },
            "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["en-US"]},
        },
    }
    snake = {
        "uri": URI,
        "recognition_model": {
            "audio_format": {
                "raw_audio": {
                    "audio_encoding": 1,
                    "sample_rate_hertz": 8000,
                    "audio_channel_count": 2,
                }
            },
            "text_normalization": {
                "text_normalization": 1,
                "literature_text": True,
                "phone_formatting_mode": 1,
            },
            "language_restriction": {"restriction_type": 1, "language_code": ["en-US"]},
        },
    }
    expected = RecognitionSpec(
        language="en-US",
        audio_encoding=AudioEncoding.LINEAR16_PCM,
        sample_rate_hertz=8000,
        audio_channel_count=2,
        literature_text=True,
    )
    assert parse(camel).spec == expected
    assert parse(snake).spec == expected


def test_official_message_serialised_by_json_format_is_accepted() -> None:
    request = stt_pb2.RecognizeFileRequest(uri=URI)
    request.recognition_model.model = "general:rc"
    request.recognition_model.audio_format.container_audio.container_audio_type = (
        stt_pb2.ContainerAudio.OGG_OPUS
    )
    request.recognition_model.language_restriction.language_code.extend(["en-US", "de-DE"])
    spec = parse_json(json_format.MessageToJson(request).encode()).spec
    assert spec.model == "general:rc"
    assert spec.audio_encoding is AudioEncoding.OGG_OPUS
    assert (spec.language, spec.language_candidates) == ("auto", ("en-US", "de-DE"))


@pytest.mark.parametrize(
    ("audio_format", "encoding"),
    [
        (None, AudioEncoding.AUTO),
        ({}, AudioEncoding.AUTO),
        ({"containerAudio": {}}, AudioEncoding.AUTO),
        ({"containerAudio": {"containerAudioType": "WAV"}}, AudioEncoding.WAV),
        ({"containerAudio": {"containerAudioType": "OGG_OPUS"}}, AudioEncoding.OGG_OPUS),
        ({"containerAudio": {"containerAudioType": "MP3"}}, AudioEncoding.MP3),
        ({"rawAudio": {"audioEncoding": "LINEAR16_PCM"}}, AudioEncoding.LINEAR16_PCM),
    ],
)
def test_audio_format(audio_format: dict[str, Any] | None, encoding: AudioEncoding) -> None:
    model = {} if audio_format is None else {"audioFormat": audio_format}
    assert parse(with_model(**model)).spec.audio_encoding is encoding


def test_raw_audio_defaults_to_48_khz_mono() -> None:
    spec = parse(with_model(audioFormat={"rawAudio": {"audioEncoding": "LINEAR16_PCM"}})).spec
    assert (spec.sample_rate_hertz, spec.audio_channel_count) == (48000, 1)


def test_defaults_without_recognition_model() -> None:
    assert parse({"uri": URI}).spec == RecognitionSpec(
        language="", model="general", audio_encoding=AudioEncoding.AUTO, raw_results=True
    )


@pytest.mark.parametrize(
    "mode", [None, "TEXT_NORMALIZATION_DISABLED", "TEXT_NORMALIZATION_UNSPECIFIED"]
)
def test_options_apply_only_with_normalization(mode: str | None) -> None:
    options: dict[str, Any] = {"profanityFilter": True, "literatureText": True}
    if mode is not None:
        options["textNormalization"] = mode
    spec = parse(with_model(textNormalization=options)).spec
    assert (
        spec.raw_results,
        spec.profanity_filter,
        spec.literature_text,
        spec.phone_formatting,
    ) == (
        True,
        False,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, (False, False, False, True)),
        ({"profanityFilter": True}, (False, True, False, True)),
        ({"literatureText": True}, (False, False, True, True)),
        ({"phoneFormattingMode": "PHONE_FORMATTING_MODE_UNSPECIFIED"}, (False, False, False, True)),
        ({"phoneFormattingMode": "PHONE_FORMATTING_MODE_DISABLED"}, (False, False, False, False)),
    ],
)
def test_normalization_enabled(options: dict[str, Any], expected: tuple[bool, ...]) -> None:
    enabled = {"textNormalization": "TEXT_NORMALIZATION_ENABLED", **options}
    spec = parse(with_model(textNormalization=enabled)).spec
    assert (
        spec.raw_results,
        spec.profanity_filter,
        spec.literature_text,
        spec.phone_formatting,
    ) == expected


@pytest.mark.parametrize(
    ("restriction", "language", "candidates", "excluded"),
    [
        (None, "", (), ()),
        ({"restrictionType": "WHITELIST", "languageCode": []}, "", (), ()),
        ({"restrictionType": "WHITELIST", "languageCode": ["kk-KK"]}, "kk-KK", (), ()),
        ({"restrictionType": "WHITELIST", "languageCode": ["auto"]}, "auto", (), ()),
        ({"restrictionType": "WHITELIST", "languageCode": ["AUTO"]}, "auto", (), ()),
        (
            {"restrictionType": "WHITELIST", "languageCode": ["ru-RU", "en-US"]},
            "auto",
            ("ru-RU", "en-US"),
            (),
        ),
        (
            {"restrictionType": "WHITELIST", "languageCode": ["auto", "ru-RU"]},
            "auto",
            ("ru-RU",),
            (),
        ),
        ({"restrictionType": "WHITELIST", "languageCode": ["ru-RU", "RU-ru"]}, "ru-RU", (), ()),
        ({"languageCode": ["en-US"]}, "en-US", (), ()),
        ({"restrictionType": "BLACKLIST", "languageCode": ["ru-RU"]}, "auto", (), ("ru-RU",)),
        ({"restrictionType": "BLACKLIST", "languageCode": []}, "auto", (), ()),
    ],
)
def test_language_restriction(
    restriction: dict[str, Any] | None,
    language: str,
    candidates: tuple[str, ...],
    excluded: tuple[str, ...],
) -> None:
    model = {} if restriction is None else {"languageRestriction": restriction}
    submission = parse(with_model(**model))
    assert submission.spec.language == language
    assert submission.spec.language_candidates == candidates
    assert submission.excluded_languages == excluded


def test_audio_processing_type_is_accepted_and_ignored() -> None:
    assert parse(with_model(audioProcessingType="REAL_TIME")).spec == parse({"uri": URI}).spec


def test_unknown_fields_are_ignored() -> None:
    body = {"uri": URI, "extra": {"x": 1}, "recognitionModel": {"future": "yes"}}
    assert parse(body).spec == parse({"uri": URI}).spec


@pytest.mark.parametrize(
    ("model", "where", "value"),
    [
        (
            {"audioFormat": {"containerAudio": {"containerAudioType": "FLAC"}}},
            "containerAudioType",
            '"FLAC"',
        ),
        ({"audioFormat": {"rawAudio": {"audioEncoding": "MULAW"}}}, "audioEncoding", '"MULAW"'),
        ({"textNormalization": {"textNormalization": "ON"}}, "textNormalization", '"ON"'),
        ({"textNormalization": {"phone_formatting_mode": 7}}, "phone_formatting_mode", "7"),
        ({"languageRestriction": {"restrictionType": True}}, "restrictionType", "true"),
        ({"audioProcessingType": "BATCH"}, "audioProcessingType", '"BATCH"'),
    ],
)
def test_unknown_enum_values_are_refused_by_field(
    model: dict[str, Any], where: str, value: str
) -> None:
    message = refused(with_model(**model))
    assert f".{where}: unknown value {value}; use one of: " in message
    assert message.startswith("recognitionModel.")


def test_unknown_enum_outside_the_model_is_refused() -> None:
    message = refused({"uri": URI, "speakerLabeling": {"speakerLabeling": "MAYBE"}})
    assert message == (
        'speakerLabeling.speakerLabeling: unknown value "MAYBE"; '
        "use one of: SPEAKER_LABELING_ENABLED, SPEAKER_LABELING_DISABLED"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"uri": URI, "recognitionModel": "general"},
            "invalid request body: recognitionModel: expected a JSON object",
        ),
        (
            with_model(audioFormat={"rawAudio": "LINEAR16_PCM"}),
            "invalid request body: recognitionModel.audioFormat.rawAudio: expected a JSON object",
        ),
        (
            with_model(languageRestriction={"languageCode": "ru-RU"}),
            "invalid request body: recognitionModel.languageRestriction.languageCode: expected a JSON array",
        ),
        (
            with_model(audioFormat={"rawAudio": {"sampleRateHertz": "fast"}}),
            "invalid request body: recognitionModel.audioFormat.rawAudio.sampleRateHertz: "
            "expected an integer, got 'fast'",
        ),
        (
            with_model(textNormalization={"profanityFilter": "yes"}),
            "invalid request body: recognitionModel.textNormalization.profanityFilter: "
            "expected true or false",
        ),
    ],
)
def test_wrong_types_are_refused_with_their_path(body: dict[str, Any], message: str) -> None:
    assert refused(body) == message


@pytest.mark.parametrize(
    "extra",
    [
        {"speakerLabeling": {"speakerLabeling": "SPEAKER_LABELING_ENABLED"}},
        {"speaker_labeling": {"speaker_labeling": 1}},
    ],
)
def test_speaker_labeling_is_asked_for_in_either_spelling(extra: dict[str, Any]) -> None:
    assert parse({"uri": URI, **extra}).spec.speaker_labeling


def test_speaker_labeling_of_raw_stereo_is_refused() -> None:
    body = with_model(
        audioFormat={"rawAudio": {"sampleRateHertz": 16000, "audioChannelCount": 2}},
    )
    message = refused({**body, "speakerLabeling": {"speakerLabeling": "SPEAKER_LABELING_ENABLED"}})
    assert message.startswith("speakerLabeling works on mono audio only; this audio has 2 channels")


def test_speaker_labeling_without_the_speakers_extra_says_how_to_enable_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What an installation without scipy sees: the extra's clustering module does not import.
    monkeypatch.setitem(sys.modules, "scipy.cluster.hierarchy", None)
    monkeypatch.delitem(sys.modules, "asyncstt.speakers.clustering", raising=False)
    message = refused(CONTRACT_BY_LINK)
    assert message == (
        "speakerLabeling is not enabled on this server; its operator can install it with: "
        "pip install 'asyncstt[speakers]'"
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"recognitionClassifier": {"classifiers": []}},
        {"speechAnalysis": {"enableSpeakerAnalysis": False}},
        {"summarization": {}},
        {"speakerLabeling": {"speakerLabeling": "SPEAKER_LABELING_DISABLED"}},
    ],
)
def test_analytics_that_ask_for_nothing_are_accepted(extra: dict[str, Any]) -> None:
    assert parse({"uri": URI, **extra}).uri == URI


def test_content_in_either_base64_alphabet_with_or_without_padding() -> None:
    data = bytes(range(256))
    standard = base64.b64encode(data).decode()
    url_safe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert parse({"content": standard}).content == data
    assert parse({"content": url_safe}).content == data
    wrapped = "\r\n".join(standard[i : i + 76] for i in range(0, len(standard), 76))
    assert parse({"content": wrapped}).content == data


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "the request needs uri (a link to the audio) or content"),
        ({"uri": URI, "content": "AAAA"}, "set only one of uri and content"),
        ({"uri": "  "}, "uri is empty"),
        ({"content": ""}, "content is empty"),
        ({"content": "not base64!"}, "content is not valid base64"),
        ({"content": 12}, "invalid request body: content: expected a base64 string"),
    ],
)
def test_audio_source_problems(body: dict[str, Any], message: str) -> None:
    assert refused(body) == message


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        (b"{", "the request body is not valid JSON"),
        (b"[1]", "the request body must be a JSON object"),
        (b"\xff", "the request body is not valid JSON"),
    ],
)
def test_body_that_is_not_a_json_object(raw: bytes, start: str) -> None:
    assert refused(raw).startswith(start)


# --- RecognizeFileRequest messages, as gRPC hands them over -------------------------------------------


def sdk_request(**fields: Any) -> Any:
    """What the ai-studio SDK sends: empty classifier and labeling options, an empty model, raw PCM."""
    request = stt_pb2.RecognizeFileRequest(**fields)
    model = request.recognition_model
    model.audio_format.raw_audio.audio_encoding = stt_pb2.RawAudio.LINEAR16_PCM
    model.audio_format.raw_audio.sample_rate_hertz = 16000
    model.audio_processing_type = stt_pb2.RecognitionModelOptions.FULL_DATA
    model.language_restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
    model.language_restriction.language_code.append("en-US")
    request.recognition_classifier.SetInParent()
    request.speaker_labeling.SetInParent()
    return request


def message_refused(request: Any) -> str:
    with pytest.raises(InvalidArgument) as caught:
        v3_submission(request)
    return caught.value.message


def test_sdk_request_with_empty_options_is_accepted() -> None:
    request = sdk_request(content=b"\x01\x02")
    assert request.HasField("recognition_classifier")
    assert request.HasField("speaker_labeling")
    assert v3_submission(request) == V3Submission(
        spec=RecognitionSpec(
            language="en-US",
            model="general",
            audio_encoding=AudioEncoding.LINEAR16_PCM,
            sample_rate_hertz=16000,
            raw_results=True,
        ),
        uri=None,
        content=b"\x01\x02",
    )


def test_empty_options_in_json_are_accepted() -> None:
    body = {"uri": URI, "recognitionClassifier": {}, "speakerLabeling": {}}
    assert parse(body) == parse({"uri": URI})


def test_a_message_and_its_json_give_one_submission() -> None:
    request = sdk_request(content=bytes(range(256)))
    body = json_format.MessageToJson(request).encode()
    assert parse_json(body) == v3_submission(request)
    by_link = sdk_request(uri=URI)
    assert parse_json(json_format.MessageToJson(by_link).encode()) == v3_submission(by_link)


def unknown_enum(field: str, number: int) -> Any:
    request = stt_pb2.RecognizeFileRequest(uri=URI)
    model = request.recognition_model
    targets = {
        "containerAudioType": (model.audio_format.container_audio, "container_audio_type"),
        "audioEncoding": (model.audio_format.raw_audio, "audio_encoding"),
        "restrictionType": (model.language_restriction, "restriction_type"),
        "speakerLabeling": (request.speaker_labeling, "speaker_labeling"),
    }
    target, name = targets[field]
    setattr(target, name, number)
    return request


@pytest.mark.parametrize(
    ("field", "number", "json_body"),
    [
        (
            "containerAudioType",
            9,
            with_model(audioFormat={"containerAudio": {"containerAudioType": 9}}),
        ),
        ("audioEncoding", 7, with_model(audioFormat={"rawAudio": {"audioEncoding": 7}})),
        ("restrictionType", 5, with_model(languageRestriction={"restrictionType": 5})),
        ("speakerLabeling", 3, {"uri": URI, "speakerLabeling": {"speakerLabeling": 3}}),
    ],
)
def test_enum_numbers_the_type_lacks_are_refused_as_over_rest(
    field: str, number: int, json_body: dict[str, Any]
) -> None:
    message = message_refused(unknown_enum(field, number))
    assert f".{field}: unknown value {number}; use one of: " in message
    assert message == refused(json_body)


@pytest.mark.parametrize(
    ("request_message", "json_body"),
    [
        (stt_pb2.RecognizeFileRequest(), {}),
        (stt_pb2.RecognizeFileRequest(uri="  "), {"uri": "  "}),
        (stt_pb2.RecognizeFileRequest(content=b""), {"content": ""}),
        (
            stt_pb2.RecognizeFileRequest(
                uri=URI,
                recognition_model=stt_pb2.RecognitionModelOptions(
                    audio_format=stt_pb2.AudioFormatOptions(
                        raw_audio=stt_pb2.RawAudio(audio_channel_count=2)
                    )
                ),
                speaker_labeling=stt_pb2.SpeakerLabelingOptions(
                    speaker_labeling=stt_pb2.SpeakerLabelingOptions.SPEAKER_LABELING_ENABLED
                ),
            ),
            {
                "uri": URI,
                "recognitionModel": {"audioFormat": {"rawAudio": {"audioChannelCount": 2}}},
                "speakerLabeling": {"speakerLabeling": "SPEAKER_LABELING_ENABLED"},
            },
        ),
        (
            stt_pb2.RecognizeFileRequest(
                uri=URI,
                recognition_classifier=stt_pb2.RecognitionClassifierOptions(
                    classifiers=[stt_pb2.RecognitionClassifier(classifier="insult")]
                ),
            ),
            {"uri": URI, "recognitionClassifier": {"classifiers": [{"classifier": "insult"}]}},
        ),
        (
            stt_pb2.RecognizeFileRequest(
                uri=URI,
                speech_analysis=stt_pb2.SpeechAnalysisOptions(
                    enable_speaker_analysis=True, descriptive_statistics_quantiles=[1.5]
                ),
            ),
            {
                "uri": URI,
                "speechAnalysis": {
                    "enableSpeakerAnalysis": True,
                    "descriptiveStatisticsQuantiles": [1.5],
                },
            },
        ),
    ],
)
def test_a_message_is_refused_as_its_json_is(
    request_message: Any, json_body: dict[str, Any]
) -> None:
    message = message_refused(request_message)
    assert message == refused(json_body)


# --- getRecognition stream ------------------------------------------------------------------------


def contract_stereo_transcript() -> Transcript:
    return Transcript(
        utterances=(
            Utterance(
                channel=0,
                start=0.0,
                end=2.31,
                words=(Word("добрый", 0.42, 0.86), Word("день", 0.9, 1.24)),
                raw_text="добрый день",
                text="Добрый день.",
                confidence=0.0,
            ),
            Utterance(
                channel=1,
                start=2.9,
                end=4.1,
                words=(Word("двенадцать", 3.5, 3.72), Word("заказов", 3.76, 4.1)),
                raw_text="двенадцать заказов",
                text="12 заказов.",
                confidence=0.0,
            ),
        ),
        channels=2,
        duration_seconds=4.1,
    )


def test_stereo_stream_matches_the_contract_example_field_by_field() -> None:
    clock = wall_clock(212, 212, 213, 215, 215, 216)
    lines = [
        json.loads(render_stream_line(message))
        for message in render_recognition(
            OPERATION_ID, contract_stereo_transcript(), lambda: next(clock)
        )
    ]
    expected = [json.loads(line) for line in CONTRACT_STEREO_STREAM.strip().splitlines()]
    ours = session_uuid(OPERATION_ID)
    assert UUID_SHAPE.match(ours)
    for line in expected:
        line["result"]["sessionUuid"]["uuid"] = ours
    assert lines[:5] == expected
    assert lines[5]["result"] == {
        "sessionUuid": {"uuid": ours, "userRequestId": OPERATION_ID},
        "audioCursors": {
            "receivedDataMs": "4100",
            "resetTimeMs": "0",
            "partialTimeMs": "4100",
            "finalTimeMs": "4100",
            "finalIndex": "0",
            "eouTimeMs": "4100",
        },
        "responseWallTimeMs": "216",
        "eouUpdate": {"timeMs": "4100"},
        "channelTag": "1",
    }
    assert len(lines) == 6


def test_mono_stream_shape() -> None:
    transcript = Transcript(
        utterances=(
            Utterance(
                channel=0,
                start=0.3,
                end=1.5,
                words=(Word("hello", 0.3, 0.8, 0.9), Word("world", 0.9, 1.5, 0.7)),
                raw_text="hello world",
                text="Hello world.",
                confidence=0.8,
                language="en-US",
                language_probability=0.97,
            ),
            make_utterance(0, [("twelve", 2.0, 2.4), ("cats", 2.5, 2.9)], "12 cats"),
        ),
        duration_seconds=3.25,
    )
    lines = stream(transcript)
    events = [
        next(k for k in ("final", "finalRefinement", "eouUpdate") if k in line["result"])
        for line in lines
    ]
    assert events == ["final", "finalRefinement", "eouUpdate"] * 2
    uuid = session_uuid(OPERATION_ID)
    first = {
        "words": [
            {"text": "hello", "startTimeMs": "300", "endTimeMs": "800"},
            {"text": "world", "startTimeMs": "900", "endTimeMs": "1500"},
        ],
        "text": "hello world",
        "startTimeMs": "300",
        "endTimeMs": "1500",
        "confidence": 0.8,
        "languages": [{"languageCode": "en-US", "probability": 0.97}],
    }

    def cursors(end: str, index: str, eou: str = "0") -> dict[str, str]:
        return {
            "receivedDataMs": "3250",
            "resetTimeMs": "0",
            "partialTimeMs": end,
            "finalTimeMs": end,
            "finalIndex": index,
            "eouTimeMs": eou,
        }

    session = {"uuid": uuid, "userRequestId": OPERATION_ID}
    assert lines[0] == {
        "result": {
            "sessionUuid": session,
            "audioCursors": cursors("1500", "0"),
            "responseWallTimeMs": "7",
            "final": {"alternatives": [first], "channelTag": "0"},
            "channelTag": "0",
        }
    }
    assert lines[1] == {
        "result": {
            "sessionUuid": session,
            "audioCursors": cursors("1500", "0"),
            "responseWallTimeMs": "7",
            "finalRefinement": {
                "finalIndex": "0",
                "normalizedText": {
                    "alternatives": [{**first, "text": "Hello world."}],
                    "channelTag": "0",
                },
            },
            "channelTag": "0",
        }
    }
    assert lines[2] == {
        "result": {
            "sessionUuid": session,
            "audioCursors": cursors("1500", "0", eou="1500"),
            "responseWallTimeMs": "7",
            "eouUpdate": {"timeMs": "1500"},
            "channelTag": "0",
        }
    }
    second = lines[3]["result"]
    assert second["audioCursors"] == cursors("2900", "1")
    assert second["final"]["alternatives"][0]["text"] == "twelve cats"
    assert second["final"]["alternatives"][0]["languages"] == []
    assert second["final"]["alternatives"][0]["confidence"] == 1
    assert lines[4]["result"]["finalRefinement"]["finalIndex"] == "1"
    assert (
        lines[4]["result"]["finalRefinement"]["normalizedText"]["alternatives"][0]["text"]
        == "12 cats"
    )


def test_final_index_counts_per_channel() -> None:
    lines = stream(make_transcript(3, 5))
    finals = [line["result"] for line in lines if "final" in line["result"]]
    assert [(f["channelTag"], f["audioCursors"]["finalIndex"]) for f in finals] == [
        ("0", "0"),
        ("1", "0"),
        ("0", "1"),
        ("1", "1"),
        ("0", "2"),
    ]
    refinements = [line["result"] for line in lines if "finalRefinement" in line["result"]]
    assert [r["finalRefinement"]["finalIndex"] for r in refinements] == ["0", "0", "1", "1", "2"]
    assert all(
        r["finalRefinement"]["normalizedText"]["channelTag"] == r["channelTag"] for r in refinements
    )


def test_silence_gives_an_empty_stream() -> None:
    assert stream(Transcript(duration_seconds=12.0)) == []
    blank = make_utterance(0, [("", 0.0, 0.5)], " ")
    assert stream(Transcript(utterances=(blank,), duration_seconds=1.0)) == []


def test_every_line_parses_back_into_the_official_message() -> None:
    for line in stream(make_transcript(4, 6)):
        message = json_format.ParseDict(line["result"], stt_pb2.StreamingResponse())
        assert message.WhichOneof("Event") in {"final", "final_refinement", "eou_update"}


def test_session_uuid_is_stable_per_operation() -> None:
    assert session_uuid(OPERATION_ID) == session_uuid(OPERATION_ID)
    assert session_uuid(OPERATION_ID) != session_uuid("f8dother0000000000000")
    assert UUID_SHAPE.match(session_uuid("x"))


def test_v2_and_v3_render_the_same_words_and_times() -> None:
    transcript = make_transcript(7, 4)
    v2 = json_format.MessageToDict(render_v2_response(transcript))
    v2_words = [
        (chunk["channelTag"], word["word"], word["startTime"], word["endTime"])
        for chunk in v2["chunks"]
        for word in chunk["alternatives"][0]["words"]
    ]
    v3_words = [
        (
            str(int(line["result"]["channelTag"]) + 1),
            word["text"],
            f"{int(word['startTimeMs']) / 1000:.3f}s",
            f"{int(word['endTimeMs']) / 1000:.3f}s",
        )
        for line in stream(transcript)
        if "final" in line["result"]
        for word in line["result"]["final"]["alternatives"][0]["words"]
    ]
    v2_normalised = [
        (tag, w, f"{float(s[:-1]):.3f}s", f"{float(e[:-1]):.3f}s") for tag, w, s, e in v2_words
    ]
    assert v3_words == v2_normalised
    assert len(v3_words) == 28
    v2_texts = [chunk["alternatives"][0]["text"] for chunk in v2["chunks"]]
    v3_texts = [
        line["result"]["finalRefinement"]["normalizedText"]["alternatives"][0]["text"]
        for line in stream(transcript)
        if "finalRefinement" in line["result"]
    ]
    assert v3_texts == v2_texts
