"""Results as the server sends them, read back into the domain's `Transcript`.

v2: the finished Operation's `response`, a `LongRunningRecognitionResponse` with one chunk per utterance
(`channelTag` 1-based, no utterance times: they are those of the first and last word). v3: the lines of
`getRecognition`, `{"result": StreamingResponse}` each; per utterance a `final` (raw text, words, times,
language), a `finalRefinement` (the text as requested) and an `eouUpdate`. Both are read through the official
messages with `json_format`, which accepts every spelling the server may use and ignores fields added later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from google.protobuf import json_format
from yandex.cloud.ai.stt.v2 import stt_service_pb2
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.client.errors import ClientError
from asyncstt.recognition import Transcript, Utterance, Word

_DATA_LOSS = 15


def transcript_from_v2(response: dict[str, Any]) -> Transcript:
    """The transcript of a v2 Operation's `response` object (its `@type` included or not)."""
    message = _parse(
        {key: value for key, value in response.items() if key != "@type"},
        stt_service_pb2.LongRunningRecognitionResponse(),
    )
    utterances: list[Utterance] = []
    for chunk in message.chunks:
        if not chunk.alternatives:
            continue
        alternative = chunk.alternatives[0]
        words = tuple(
            Word(
                text=word.word,
                start=_seconds(word.start_time),
                end=_seconds(word.end_time),
                confidence=word.confidence,
            )
            for word in alternative.words
        )
        utterances.append(
            Utterance(
                channel=max(0, chunk.channel_tag - 1),
                start=words[0].start if words else 0.0,
                end=words[-1].end if words else 0.0,
                words=words,
                raw_text=" ".join(word.text for word in words),
                text=alternative.text,
                confidence=alternative.confidence,
            )
        )
    return _transcript(utterances, duration=max((u.end for u in utterances), default=0.0))


def transcript_from_v3(lines: Iterable[bytes | str]) -> Transcript:
    """The transcript of a `getRecognition` body, given line by line (blank lines are skipped)."""
    finals: dict[tuple[int, int], Utterance] = {}
    duration = 0.0
    for line in lines:
        if not line.strip():
            continue
        response = _parse(_result_of(line), stt_pb2.StreamingResponse())
        channel = _channel(response.channel_tag)
        index = response.audio_cursors.final_index
        duration = max(duration, response.audio_cursors.received_data_ms / 1000)
        event = response.WhichOneof("Event")
        if event == "final" and response.final.alternatives:
            finals[(channel, index)] = _utterance(channel, response.final.alternatives[0])
        elif event == "final_refinement":
            refinement = response.final_refinement
            known = finals.get((channel, refinement.final_index))
            alternatives = refinement.normalized_text.alternatives
            if known is not None and alternatives:
                finals[(channel, refinement.final_index)] = replace(
                    known, text=alternatives[0].text
                )
    utterances = list(finals.values())
    return _transcript(utterances, duration=max([duration, *(u.end for u in utterances)]))


def _utterance(channel: int, alternative: Any) -> Utterance:
    words = tuple(
        Word(
            text=word.text,
            start=word.start_time_ms / 1000,
            end=word.end_time_ms / 1000,
        )
        for word in alternative.words
    )
    language = alternative.languages[0] if alternative.languages else None
    return Utterance(
        channel=channel,
        start=alternative.start_time_ms / 1000,
        end=alternative.end_time_ms / 1000,
        words=words,
        raw_text=alternative.text,
        text=alternative.text,
        confidence=alternative.confidence,
        language=language.language_code if language is not None else None,
        language_probability=language.probability if language is not None else 0.0,
    )


def _seconds(duration: Any) -> float:
    # Not ToTimedelta: it truncates to microseconds, and "0.879999999s" would read 0.879999.
    return float(duration.seconds + duration.nanos / 1e9)


def _transcript(utterances: list[Utterance], duration: float) -> Transcript:
    ordered = tuple(sorted(utterances, key=lambda u: (u.start, u.channel)))
    channels = max((u.channel + 1 for u in ordered), default=1)
    return Transcript(utterances=ordered, channels=channels, duration_seconds=duration)


def _channel(tag: str) -> int:
    try:
        return max(0, int(tag or "0"))
    except ValueError:
        raise _malformed(f"channelTag {tag!r} is not a number") from None


def _result_of(line: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError as error:
        raise _malformed(f"a line is not JSON: {error}") from None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise _malformed('a line has no "result" object')
    return result


def _parse(data: dict[str, Any], message: Any) -> Any:
    try:
        return json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise _malformed(str(error)) from None


def _malformed(why: str) -> ClientError:
    return ClientError(_DATA_LOSS, f"the server's result could not be read: {why}")
