"""`GET /operations/{id}/subtitles`: a finished operation's transcript as SRT or WebVTT, found, checked and
counted like `GET /operations/{id}`."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import srt  # type: ignore[import-untyped]
import webvtt

from asyncstt.errors import ErrorInfo
from asyncstt.iam.auth import Principal
from asyncstt.iam.records import ROLE_STT_USER, RoleBinding
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec, Transcript, Utterance, Word
from asyncstt.settings import QuotaSettings
from asyncstt.subtitles import render_srt, render_vtt
from tests.unit.http.conftest import (
    FOLDER,
    OTHER_ACCOUNT,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    START,
    Harness,
)

CALLER = Principal(FOLDER, SERVICE_ACCOUNT)
STEREO = Transcript(
    utterances=(
        Utterance(0, 0.42, 0.86, (Word("good", 0.42, 0.86),), "good", "Good."),
        Utterance(1, 2.9, 3.15, (Word("twelve", 2.9, 3.15),), "twelve", "12"),
    ),
    channels=2,
    duration_seconds=4.0,
)
SRT_TYPE = "application/x-subrip; charset=utf-8"
VTT_TYPE = "text/vtt; charset=utf-8"


def submitted(harness: Harness, api: ApiVersion = ApiVersion.V3) -> Operation:
    return harness.service.submit(
        CALLER, RecognitionSpec(language="en-US"), uri="s3://acme/call.ogg", content=None, api=api
    )


def claimed(harness: Harness, api: ApiVersion = ApiVersion.V3) -> Operation:
    operation = submitted(harness, api)
    harness.clock.advance(1)
    assert harness.store.claim("worker", 30, harness.clock()) is not None
    return operation


def finished(
    harness: Harness,
    api: ApiVersion = ApiVersion.V3,
    *,
    result: Transcript | None = STEREO,
    error: ErrorInfo | None = None,
) -> Operation:
    operation = claimed(harness, api)
    outcome = {"result": result} if error is None else {"error": error}
    assert harness.store.finish(operation.id, "worker", harness.clock(), **outcome)
    return operation


def subtitles(
    harness: Harness,
    operation_id: str,
    headers: dict[str, str] | None = None,
    **params: str,
) -> Any:
    return harness.client.get(
        f"/operations/{operation_id}/subtitles",
        params=params,
        headers=harness.headers if headers is None else headers,
    )


def status(response: Any) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


def test_srt_is_the_default_format(harness: Harness) -> None:
    operation = finished(harness)
    response = subtitles(harness, operation.id)
    assert response.status_code == 200
    assert response.headers["content-type"] == SRT_TYPE
    assert response.text == render_srt(STEREO)
    assert response.text == (
        "1\n00:00:00,420 --> 00:00:00,860\n[1] Good.\n\n2\n00:00:02,900 --> 00:00:03,150\n[2] 12\n"
    )
    assert [block.content for block in srt.parse(response.text)] == ["[1] Good.", "[2] 12"]


def test_vtt_is_served_as_text_vtt(harness: Harness) -> None:
    operation = finished(harness)
    response = subtitles(harness, operation.id, format="vtt")
    assert response.status_code == 200
    assert response.headers["content-type"] == VTT_TYPE
    assert response.text == render_vtt(STEREO)
    captions = webvtt.from_buffer(io.StringIO(response.text)).captions
    assert [(c.start, c.end, c.voice, c.text) for c in captions] == [
        ("00:00:00.420", "00:00:00.860", "Speaker 1", "Good."),
        ("00:00:02.900", "00:00:03.150", "Speaker 2", "12"),
    ]


def test_the_format_is_read_case_blind(harness: Harness) -> None:
    operation = finished(harness)
    assert subtitles(harness, operation.id, format="SRT").text == render_srt(STEREO)
    assert subtitles(harness, operation.id, format="Vtt").text == render_vtt(STEREO)


def test_a_v2_operation_has_subtitles_too(harness: Harness) -> None:
    operation = finished(harness, ApiVersion.V2)
    assert subtitles(harness, operation.id, format="srt").text == render_srt(STEREO)


def test_a_silent_recording_has_empty_subtitles(harness: Harness) -> None:
    operation = finished(harness, result=Transcript())
    assert subtitles(harness, operation.id).text == ""
    assert subtitles(harness, operation.id, format="vtt").text == "WEBVTT\n"


def test_an_unknown_format_names_the_two_it_could_be(harness: Harness) -> None:
    operation = finished(harness)
    assert status(subtitles(harness, operation.id, format="ass")) == (
        400,
        3,
        "subtitle format ass is not known; use srt or vtt",
    )


@pytest.mark.parametrize("make", [submitted, claimed])
def test_an_operation_not_done_is_a_failed_precondition(
    harness: Harness, make: Callable[[Harness], Operation]
) -> None:
    operation = make(harness)
    assert status(subtitles(harness, operation.id)) == (
        400,
        9,
        f"operation {operation.id} is not done yet",
    )


def test_a_failed_operation_answers_its_own_error(harness: Harness) -> None:
    operation = finished(harness, error=ErrorInfo(code=3, message="the audio is damaged"))
    assert status(subtitles(harness, operation.id, format="vtt")) == (
        400,
        3,
        f"operation {operation.id} failed: the audio is damaged",
    )


def test_a_cancelled_operation_is_cancelled(harness: Harness) -> None:
    operation = submitted(harness)
    harness.service.cancel(CALLER, operation)
    assert status(subtitles(harness, operation.id)) == (
        499,
        1,
        f"operation {operation.id} failed: cancelled",
    )


def test_an_unknown_operation_is_404(harness: Harness) -> None:
    assert status(subtitles(harness, "e03unknown0000000000")) == (
        404,
        5,
        "operation e03unknown0000000000 not found",
    )


def test_another_folders_operation_is_404(harness: Harness) -> None:
    operation = finished(harness)
    for headers in (
        harness.other_headers,
        {**harness.other_headers, "x-folder-id": OTHER_FOLDER},
    ):
        assert status(subtitles(harness, operation.id, headers)) == (
            404,
            5,
            f"operation {operation.id} not found",
        )


def test_a_role_on_the_operations_folder_reaches_it(harness: Harness) -> None:
    operation = finished(harness)
    harness.identity.bind_role(RoleBinding(FOLDER, OTHER_ACCOUNT, ROLE_STT_USER, START))
    for headers in (harness.other_headers, {**harness.other_headers, "x-folder-id": FOLDER}):
        response = subtitles(harness, operation.id, headers)
        assert (response.status_code, response.text) == (200, render_srt(STEREO))


def test_a_request_without_credentials_is_401(harness: Harness) -> None:
    operation = finished(harness)
    assert status(subtitles(harness, operation.id, {}))[:2] == (401, 16)


def test_subtitles_spend_the_poll_quota_of_the_operations_api_version(
    make_harness: Callable[..., Harness],
) -> None:
    limited = make_harness(quotas=QuotaSettings(v2_polls_per_hour=2, v3_polls_per_second=1))
    v2 = finished(limited, ApiVersion.V2)
    v3 = finished(limited, ApiVersion.V3)
    for _ in range(2):
        assert subtitles(limited, v2.id).status_code == 200
    assert status(subtitles(limited, v2.id))[:2] == (429, 8)
    assert subtitles(limited, v3.id).status_code == 200
    response = subtitles(limited, v3.id, format="vtt")
    assert (response.status_code, response.headers["retry-after"]) == (429, "1")
    limited.clock.advance(1)
    assert subtitles(limited, v3.id, format="vtt").status_code == 200
