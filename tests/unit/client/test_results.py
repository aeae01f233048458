"""Reading results back: the getRecognition lines and the v2 response, including answers from other servers."""

from __future__ import annotations

import json

import pytest

from asyncstt.client import ClientError
from asyncstt.client.results import transcript_from_v2, transcript_from_v3
from asyncstt.recognition import Utterance, Word


def line(result: dict[str, object]) -> bytes:
    return json.dumps({"result": result}).encode()


def final(channel: str, index: int, text: str, words: list[tuple[str, int, int]]) -> bytes:
    return line(
        {
            "channelTag": channel,
            "audioCursors": {"finalIndex": str(index), "receivedDataMs": "9000"},
            "final": {
                "alternatives": [
                    {
                        "text": text,
                        "startTimeMs": str(words[0][1]),
                        "endTimeMs": str(words[-1][2]),
                        "words": [
                            {"text": w, "startTimeMs": str(s), "endTimeMs": str(e)}
                            for w, s, e in words
                        ],
                        "confidence": 0.5,
                    }
                ],
                "channelTag": channel,
            },
        }
    )


def refinement(channel: str, index: int, text: str) -> bytes:
    return line(
        {
            "channelTag": channel,
            "finalRefinement": {
                "finalIndex": str(index),
                "normalizedText": {"alternatives": [{"text": text}]},
            },
        }
    )


def test_a_stream_in_speechkit_spelling_is_read_per_channel() -> None:
    # SpeechKit's own stream: refinements may come late, other events are interleaved, unknown fields appear.
    lines = [
        final("0", 0, "one two", [("one", 0, 400), ("two", 400, 900)]),
        b"",
        final("1", 0, "three", [("three", 500, 1000)]),
        line({"channelTag": "0", "eouUpdate": {"timeMs": "900"}, "futureField": 1}),
        refinement("1", 0, "3"),
        refinement("0", 0, "1 2"),
        final("0", 1, "four", [("four", 2000, 2500)]),
    ]
    transcript = transcript_from_v3(lines)
    assert (transcript.channels, transcript.duration_seconds) == (2, 9.0)
    assert transcript.utterances == (
        Utterance(
            0, 0.0, 0.9, (Word("one", 0.0, 0.4), Word("two", 0.4, 0.9)), "one two", "1 2", 0.5
        ),
        Utterance(1, 0.5, 1.0, (Word("three", 0.5, 1.0),), "three", "3", 0.5),
        Utterance(0, 2.0, 2.5, (Word("four", 2.0, 2.5),), "four", "four", 0.5),
    )


@pytest.mark.parametrize(
    "bad",
    [b"not json", b'{"other": {}}', line({"channelTag": "left"})],
)
def test_a_line_that_cannot_be_read_is_data_loss(bad: bytes) -> None:
    with pytest.raises(ClientError) as error:
        transcript_from_v3([bad])
    assert error.value.code == 15
    assert error.value.message.startswith("the server's result could not be read")


def test_a_v2_response_of_the_public_example() -> None:
    response = {
        "@type": "type.googleapis.com/yandex.cloud.ai.stt.v2.LongRunningRecognitionResponse",
        "chunks": [
            {
                "alternatives": [
                    {
                        "words": [
                            {
                                "startTime": "0.879999999s",
                                "endTime": "1.159999992s",
                                "word": "при",
                                "confidence": 1,
                            },
                            {
                                "startTime": "1.219999995s",
                                "endTime": "1.539999988s",
                                "word": "написании",
                                "confidence": 1,
                            },
                        ],
                        "text": "при написании",
                        "confidence": 1,
                    }
                ],
                "channelTag": "1",
            }
        ],
    }
    transcript = transcript_from_v2(response)
    (utterance,) = transcript.utterances
    assert (utterance.channel, utterance.text, utterance.raw_text) == (
        0,
        "при написании",
        "при написании",
    )
    assert utterance.start == pytest.approx(0.88)
    assert utterance.end == pytest.approx(1.54)
    assert [w.text for w in utterance.words] == ["при", "написании"]
    assert transcript.channels == 1


def test_a_v2_response_with_a_wrong_type_is_data_loss() -> None:
    with pytest.raises(ClientError) as error:
        transcript_from_v2({"chunks": [{"channelTag": "left"}]})
    assert error.value.code == 15
