"""Odd JSON and oversized strings are refused as the client's error, with short messages, by both doors."""

from __future__ import annotations

import json

import pytest
from yandex.cloud.ai.stt.v2 import stt_service_pb2
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.errors import InvalidArgument
from asyncstt.lengths import (
    MAX_JSON_DEPTH,
    MAX_LANGUAGE_CODE,
    MAX_QUOTED,
    MAX_REPEATED,
    MAX_STRING,
    MAX_URI,
    quoted,
)
from asyncstt.wire.json_body import load_object
from asyncstt.wire.v2 import long_running_request_from_json, v2_submission
from asyncstt.wire.v3 import recognize_file_request_from_json, v3_submission

#: Longest message a refusal here may have: a quoted input and the words around it.
SHORT = MAX_QUOTED + 200


def v3_refusal(raw: bytes) -> str:
    with pytest.raises(InvalidArgument) as raised:
        v3_submission(recognize_file_request_from_json(raw))
    assert len(raised.value.message) <= SHORT, raised.value.message[:400]
    return raised.value.message


def v2_refusal(raw: bytes) -> str:
    with pytest.raises(InvalidArgument) as raised:
        v2_submission(long_running_request_from_json(raw))
    assert len(raised.value.message) <= SHORT, raised.value.message[:400]
    return raised.value.message


@pytest.mark.parametrize(
    "raw",
    [
        rb'{"uri": "s3://b/k", "\ud800": 1}',
        rb'{"uri": "s3://b/k\udfff"}',
        rb'{"uri": "s3://b/k", "recognitionModel": {"audioFormat": {"containerAudio": '
        rb'{"containerAudioType": "\ud800"}}}}',
        rb'{"uri": "s3://b/k", "recognitionModel": {"languageRestriction": {"languageCode": ["\uDBFF"]}}}',
    ],
)
def test_unpaired_surrogates_in_keys_and_values_are_refused(raw: bytes) -> None:
    assert "unpaired surrogate" in v3_refusal(raw)


def test_unpaired_surrogates_are_refused_in_v2_enum_values_too() -> None:
    raw = (
        rb'{"audio": {"uri": "s3://b/k"}, "config": {"specification": {"audioEncoding": "\ud800"}}}'
    )
    assert "unpaired surrogate" in v2_refusal(raw)


def test_a_paired_surrogate_escape_is_a_character_like_any_other() -> None:
    data = load_object(rb'{"text": "\ud83d\ude00 and \\ud800 as plain text"}')
    assert data["text"] == "\U0001f600 and \\ud800 as plain text"


def test_bytes_that_are_not_utf8_are_refused() -> None:
    assert "not UTF-8 at byte 9" in v3_refusal(b'{"uri": "\xed\xa0\x80"}')


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_does_not_have_are_refused(literal: str) -> None:
    raw = f'{{"uri": "s3://b/k", "speechAnalysis": {{"descriptiveStatisticsQuantiles": [{literal}]}}}}'
    assert v3_refusal(raw.encode()).startswith("the request body is not valid JSON")


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH, 300, 5000])
def test_deep_nesting_inside_a_struct_is_refused(levels: int) -> None:
    schema = '{"a":' * levels + "1" + "}" * levels
    raw = (
        '{"uri": "s3://b/k", "summarization": {"properties": '
        f'[{{"jsonSchema": {{"schema": {schema}}}}}]}}}}'
    ).encode()
    assert f"more than {MAX_JSON_DEPTH} levels deep" in v3_refusal(raw)


def test_nesting_within_the_limit_is_read() -> None:
    levels = MAX_JSON_DEPTH - 1
    data = load_object(('{"a":' * levels + "1" + "}" * levels).encode())
    assert isinstance(data["a"], dict)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"uri": "file:///" + "a" * 50_000_000},
            f"uri is 50000008 characters long; the limit is {MAX_URI}",
        ),
        (
            {"uri": "s3://b/k", "recognitionModel": {"model": "m" * 300}},
            "recognitionModel.model is 300 characters long; the limit is 256",
        ),
        (
            {
                "uri": "s3://b/k",
                "recognitionModel": {"languageRestriction": {"languageCode": ["x" * 10_000_000]}},
            },
            "recognitionModel.languageRestriction.languageCode[0] is 10000000 characters long; "
            f"the limit is {MAX_LANGUAGE_CODE}",
        ),
        (
            {
                "uri": "s3://b/k",
                "recognitionModel": {"languageRestriction": {"languageCode": ["en-US"] * 1000}},
            },
            f"recognitionModel.languageRestriction.languageCode has 1000 items; the limit is {MAX_REPEATED}",
        ),
        (
            {"uri": "s3://b/k", "summarization": {"modelUri": "u" * (MAX_STRING + 1)}},
            f"summarization.modelUri is {MAX_STRING + 1} characters long; the limit is {MAX_STRING}",
        ),
    ],
)
def test_v3_strings_over_their_limits_are_refused_by_name(body: object, message: str) -> None:
    assert v3_refusal(json.dumps(body).encode()) == message


def test_v2_strings_over_their_limits_are_refused_by_name() -> None:
    body = {
        "config": {"specification": {"languageCode": "x" * 10_000_000}},
        "audio": {"uri": "s3://b/k"},
    }
    assert v2_refusal(json.dumps(body).encode()) == (
        f"config.specification.languageCode is 10000000 characters long; the limit is {MAX_LANGUAGE_CODE}"
    )
    body = {"config": {"folderId": "f" * 65}, "audio": {"uri": "s3://b/k"}}
    assert v2_refusal(json.dumps(body).encode()) == (
        "config.folderId is 65 characters long; the limit is 64"
    )


def test_grpc_messages_meet_the_same_limits() -> None:
    v3 = stt_pb2.RecognizeFileRequest(uri="s3://b/" + "k" * MAX_URI)
    with pytest.raises(InvalidArgument, match=f"^uri is {MAX_URI + 7} characters long"):
        v3_submission(v3)
    v2 = stt_service_pb2.LongRunningRecognitionRequest()
    v2.audio.uri = "s3://b/k"
    v2.config.specification.model = "m" * 1000
    with pytest.raises(InvalidArgument, match=r"^config\.specification\.model is 1000 characters"):
        v2_submission(v2)


def test_strings_within_their_limits_pass() -> None:
    body = {
        "uri": "s3://b/" + "k" * (MAX_URI - 7),
        "recognitionModel": {"languageRestriction": {"languageCode": ["en-US"] * MAX_REPEATED}},
    }
    submission = v3_submission(recognize_file_request_from_json(json.dumps(body).encode()))
    assert submission.uri is not None
    assert len(submission.uri) == MAX_URI


@pytest.mark.parametrize(
    "raw",
    [
        b'{"uri": "s3://b/k", "recognitionModel": {"audioFormat": {"containerAudio": '
        b'{"containerAudioType": "' + b"W" * 10_000_000 + b'"}}}}',
        b'{"uri": "s3://b/k", "recognitionModel": {"audioFormat": {"rawAudio": '
        b'{"sampleRateHertz": "' + b"9" * 10_000_000 + b'"}}}}',
    ],
)
def test_a_huge_value_is_quoted_only_in_part(raw: bytes) -> None:
    assert "characters)" in v3_refusal(raw)


def test_a_huge_v2_encoding_is_quoted_only_in_part() -> None:
    raw = b'{"audio": {"uri": "s3://b/k"}, "config": {"specification": {"audioEncoding": "'
    assert "characters)" in v2_refusal(raw + b"W" * 10_000_000 + b'"}}}')


def test_quoted_keeps_short_input_and_cuts_long_input() -> None:
    assert quoted("en-US") == "en-US"
    assert quoted("x" * 1000, 10) == "xxxxxxxxxx… (1000 characters)"
