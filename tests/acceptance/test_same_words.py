"""The same stereo call, submitted three times in a row to one `asyncstt serve`, gives the same words each time:
nothing a worker, its engine or its VAD keeps from one operation changes the next one's result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import wait_done
from tests.support.calls import RATE, Call, call

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

#: Under the shared server's limit of 40 s summed over channels.
SECONDS = 15.0


def words(operation: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    assert "error" not in operation, operation
    return [
        (chunk["channelTag"], word["word"], word["startTime"], word["endTime"])
        for chunk in operation["response"].get("chunks", [])
        for word in chunk["alternatives"][0]["words"]
    ]


def test_the_same_call_three_times_gives_the_same_words(
    client: httpx.Client, audio_fixtures: Any, reference_audio: Path
) -> None:
    whole = call(reference_audio)
    length = round(SECONDS * RATE)
    short = Call(
        (whole.channels[0][:length], whole.channels[1][:length]), whole.turns, whole.references
    )
    # The shared server reads file:// links under the audio fixtures' directory only.
    path = short.write(Path(audio_fixtures.jfk_wav).parent / "same-words-call.wav")
    body = {
        "config": {"specification": {"languageCode": "en-US"}},
        "audio": {"uri": path.resolve().as_uri()},
    }
    runs = []
    for _ in range(3):
        response = client.post("/speech/stt/v2/longRunningRecognize", json=body)
        assert response.status_code == 200, response.text
        runs.append(words(wait_done(client, response.json()["id"])))
    first = runs[0]
    assert {tag for tag, *_ in first} == {"1", "2"}
    assert len(first) > 20
    assert runs[1] == first
    assert runs[2] == first
