"""The unit of work run on an executor worker: recognise one slice of one channel."""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from asyncstt.audio.decode import TARGET_RATE, decode_channel
from asyncstt.audio.probe import AudioInfo
from asyncstt.engines.catalog import load_engine
from asyncstt.pipeline.plan import SliceSpec
from asyncstt.recognition import RecognitionSpec, Transcript, Utterance
from asyncstt.settings import EngineSettings
from asyncstt.speakers.encoder import shared_encoder
from asyncstt.speakers.turns import split_at_pauses
from asyncstt.speakers.voices import Voices, hear_voices
from asyncstt.text.normalizer import build_utterance


@dataclass(frozen=True)
class SliceJob:
    """Everything a worker needs to recognise one slice; plain data, so it travels to any machine."""

    operation_id: str
    audio_path: str
    info: AudioInfo
    slice: SliceSpec
    spec: RecognitionSpec
    #: BCP-47 code, or None to let the engine detect the language.
    language: str | None
    engine: EngineSettings

    @property
    def candidates(self) -> tuple[str, ...]:
        """The languages detection may choose from: the spec's candidates, when the engine detects at all."""
        return self.spec.language_candidates if self.language is None else ()


@dataclass(frozen=True)
class SliceResult:
    slice: SliceSpec
    utterances: tuple[Utterance, ...]
    #: Seconds of audio actually decoded: headers can lie about duration.
    decoded_seconds: float
    #: The utterances' voices, when the spec asks for speaker labeling.
    voices: Voices | None = None
    #: Wall seconds the worker spent decoding the slice and in the engine (its VAD included); not saved, so a
    #: result read back from a checkpoint says 0.
    decode_seconds: float = field(default=0.0, compare=False)
    engine_seconds: float = field(default=0.0, compare=False)
    #: Channels of the whole file (0: not known), so that partial results know every channel's progress.
    channels: int = 0

    def to_bytes(self) -> bytes:
        """zlib of JSON, as a slice checkpoint is stored."""
        utterances = Transcript(utterances=self.utterances).to_json()
        data = {
            "slice": self.slice.named(),
            "decoded_seconds": self.decoded_seconds,
            "utterances": utterances,
            "channels": self.channels,
        }
        if self.voices is not None:
            data["voices"] = self.voices.to_dict()
        return zlib.compress(json.dumps(data, separators=(",", ":")).encode())

    @classmethod
    def from_bytes(cls, data: bytes) -> SliceResult:
        loaded = json.loads(zlib.decompress(data).decode())
        return cls(
            slice=SliceSpec(**loaded["slice"]),
            utterances=Transcript.from_json(loaded["utterances"]).utterances,
            decoded_seconds=loaded["decoded_seconds"],
            channels=loaded.get("channels", 0),
            voices=Voices.from_dict(loaded["voices"]) if "voices" in loaded else None,
        )


def recognise_slice(job: SliceJob) -> SliceResult:
    """Decode the slice, run the engine on it and turn its segments into utterances with file-relative times.

    Idempotent: running it twice gives the same result, so a worker lost mid-slice costs only a re-run.
    """
    started = time.perf_counter()
    samples = decode_channel(
        Path(job.audio_path), job.info, job.slice.channel, job.slice.start, job.slice.end
    )
    decoded = time.perf_counter()
    engine = load_engine(job.engine)
    segments = (
        engine.recognise(samples, job.language, job.candidates, job.slice.voice)
        if len(samples)
        else []
    )
    recognised = time.perf_counter()
    utterances = []
    parts: list[tuple[Utterance, ...]] = []
    for segment in segments:
        language = segment.language or job.language or job.spec.language
        utterance = build_utterance(segment, job.slice.channel, job.slice.start, job.spec, language)
        if utterance is not None:
            utterances.append(utterance)
            if job.spec.speaker_labeling:
                pieces = split_at_pauses(segment, samples)
                built = [
                    build_utterance(piece, job.slice.channel, job.slice.start, job.spec, language)
                    for piece in pieces
                ]
                kept = tuple(part for part in built if part is not None)
                parts.append(kept or (utterance,))
    voices = (
        hear_voices(samples, job.slice.start, parts, shared_encoder())
        if job.spec.speaker_labeling
        else None
    )
    return SliceResult(
        # The probabilities were the engine's: the result need not carry them back.
        replace(job.slice, voice=None),
        tuple(utterances),
        len(samples) / TARGET_RATE,
        voices,
        decode_seconds=decoded - started,
        engine_seconds=recognised - decoded,
        channels=job.info.channels,
    )
