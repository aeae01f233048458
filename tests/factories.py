"""Builders shared by the test tiers: operations, transcripts, v2 wire bodies and a manual clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec, Transcript, Utterance, Word

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def make_operation(
    operation_id: str,
    *,
    created_at: datetime = T0,
    model: str = "general",
    api: ApiVersion = ApiVersion.V2,
    source_uri: str | None = None,
    **changes: object,
) -> Operation:
    """A queued operation created (and last modified) at `created_at`; `changes` go to `evolve`."""
    return Operation(
        id=operation_id,
        folder_id="b1gfolder",
        created_by="ajeaccount",
        api=api,
        spec=RecognitionSpec(language="ru-RU", model=model, sample_rate_hertz=16000),
        source_uri=f"s3://bucket/{operation_id}.ogg" if source_uri is None else source_uri,
        created_at=created_at,
        modified_at=created_at,
    ).evolve(**changes)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_transcript(
    words_per_utterance: int, utterances: int, text: str = "привет мир"
) -> Transcript:
    tokens = text.split()
    return Transcript(
        utterances=tuple(
            Utterance(
                channel=u % 2,
                start=float(u),
                end=u + 0.9,
                words=tuple(
                    Word(
                        tokens[w % len(tokens)],
                        u + w / 1000,
                        u + (w + 1) / 1000,
                        0.5 + w % 50 / 100,
                    )
                    for w in range(words_per_utterance)
                ),
                raw_text=" ".join(tokens[w % len(tokens)] for w in range(words_per_utterance)),
                text=f"{u}: {text}",
                confidence=0.875,
                language="ru-RU",
                language_probability=0.99,
            )
            for u in range(utterances)
        ),
        channels=2,
        duration_seconds=float(utterances),
        extra={"engine": "whisper", "nested": {"list": [1, 2.5, "три"]}},
    )


def make_utterance(channel: int, words: list[tuple[str, float, float]], text: str) -> Utterance:
    """An utterance spanning `words`, given as (word, start, end), each heard with confidence 1."""
    return Utterance(
        channel=channel,
        start=words[0][1],
        end=words[-1][2],
        words=tuple(Word(word, start, end) for word, start, end in words),
        raw_text=" ".join(word for word, _, _ in words),
        text=text,
    )


class ManualClock:
    """A clock for code that takes `now` as a callable; it stands still until the test advances it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


#: The audio link in the contract's longRunningRecognize example.
CONTRACT_URI = "https://storage.yandexcloud.net/acme-calls/2025/03/call-0001.pcm"
#: The `config.specification` of that example, key spellings mixed as the contract has them.
CONTRACT_SPECIFICATION: dict[str, Any] = {
    "languageCode": "ru-RU",
    "model": "general",
    "profanityFilter": False,
    "literature_text": True,
    "audioEncoding": "LINEAR16_PCM",
    "sampleRateHertz": 8000,
    "audioChannelCount": 2,
    "rawResults": False,
}


def v2_request(
    spec: dict[str, Any] | None = None, audio: dict[str, Any] | None = None, **config: Any
) -> bytes:
    """A longRunningRecognize body; without `audio` it links to CONTRACT_URI."""
    request = {
        "config": {"specification": spec or {}, **config},
        "audio": {"uri": CONTRACT_URI} if audio is None else audio,
    }
    return json.dumps(request).encode()


def v2_word(word: str, start_time: str, end_time: str, confidence: float = 1) -> dict[str, Any]:
    """One word of a v2 response as its JSON form spells it."""
    return {"startTime": start_time, "endTime": end_time, "word": word, "confidence": confidence}


def v2_chunk(
    channel_tag: str, text: str, words: list[dict[str, Any]], confidence: float = 1
) -> dict[str, Any]:
    """One chunk of a v2 response, with its single alternative, as its JSON form spells it."""
    return {
        "alternatives": [{"words": words, "text": text, "confidence": confidence}],
        "channelTag": channel_tag,
    }
