"""Operations and transcripts to put into a store under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec, Transcript, Utterance, Word

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def make_operation(
    operation_id: str,
    *,
    created_at: datetime = T0,
    model: str = "general",
    api: ApiVersion = ApiVersion.V2,
) -> Operation:
    return Operation(
        id=operation_id,
        folder_id="b1gfolder",
        created_by="ajeaccount",
        api=api,
        spec=RecognitionSpec(language="ru-RU", model=model, sample_rate_hertz=16000),
        source_uri=f"s3://bucket/{operation_id}.ogg",
        created_at=created_at,
        modified_at=created_at,
    )


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
