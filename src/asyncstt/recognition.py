"""What a client asks for (RecognitionSpec) and what it gets back (Transcript), free of any wire format."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any


class AudioEncoding(enum.Enum):
    """The audio format a client declared; the bytes themselves may say otherwise (see `audio.format`)."""

    #: Headerless 16-bit little-endian PCM at `sample_rate_hertz` with `audio_channel_count` channels.
    LINEAR16_PCM = "LINEAR16_PCM"
    #: Opus in an Ogg container.
    OGG_OPUS = "OGG_OPUS"
    #: MPEG Layer III.
    MP3 = "MP3"
    #: RIFF/WAVE container (v3 `containerAudio`; v2 clients send it as LINEAR16_PCM).
    WAV = "WAV"
    #: Nothing declared: detect from the bytes.
    AUTO = "AUTO"


class ClassifierTrigger(enum.Enum):
    """Which messages of the result stream a classifier reports after (v3 `RecognitionClassifier.triggers`)."""

    #: After each utterance's end (`eou_update`), over that utterance.
    UTTERANCE = "utterance"
    #: After each `final`, over that final; in file recognition a final is one utterance.
    FINAL = "final"


@dataclass(frozen=True)
class Analytics:
    """What a v3 request asks for beyond the text: speech analysis and the profanity classifier.

    Computed from the transcript when the result is rendered, so none of it changes what is recognised.
    """

    #: `speaker_analysis` events per channel tag.
    speaker_analysis: bool = False
    #: One `conversation_analysis` event over every channel tag.
    conversation_analysis: bool = False
    #: Levels in [0, 1] of the quantiles every descriptive statistic reports.
    quantiles: tuple[float, ...] = ()
    #: Pauses shorter than this within one speaker's speech count as speech.
    silence_threshold_ms: int = 0
    #: Stretches of silence on every channel shorter than this are not counted as simultaneous silence.
    simultaneous_silence_threshold_ms: int = 0
    #: Stretches of overlapping speech shorter than this are neither simultaneous speech nor interrupts.
    simultaneous_speech_threshold_ms: int = 0
    #: When the profanity classifier reports; empty: it was not asked for.
    profanity_triggers: tuple[ClassifierTrigger, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analytics:
        return cls(
            **{
                **data,
                "quantiles": tuple(data.get("quantiles", ())),
                "profanity_triggers": tuple(
                    ClassifierTrigger(value) for value in data.get("profanity_triggers", ())
                ),
            }
        )


class Priority(enum.IntEnum):
    """Scheduling class of an operation; a higher value is served first."""

    #: `deferred-general`: the same recognition, started only when no standard work waits.
    DEFERRED = 0
    #: `general` and its tags.
    STANDARD = 1


@dataclass(frozen=True)
class RecognitionSpec:
    """A recognition request normalised from the v2 or v3 wire form."""

    language: str
    model: str = "general"
    audio_encoding: AudioEncoding = AudioEncoding.OGG_OPUS
    sample_rate_hertz: int = 48000
    audio_channel_count: int = 1
    profanity_filter: bool = False
    literature_text: bool = False
    raw_results: bool = False
    #: Format phone numbers (`7 999 123 45 67` -> `7(999)123-45-67`) in `text`; v3 normalization only.
    phone_formatting: bool = False
    #: With `language` `auto`: the languages detection may choose from (empty: any the engine knows).
    language_candidates: tuple[str, ...] = ()
    #: v3 speaker labeling (mono only): each utterance's channel is then the speaker heard, 0 or 1.
    speaker_labeling: bool = False
    #: v3 speech analysis and classifiers.
    analytics: Analytics = Analytics()

    @property
    def priority(self) -> Priority:
        return Priority.DEFERRED if self.model.startswith("deferred-") else Priority.STANDARD

    def to_json(self) -> str:
        data = asdict(self)
        data["audio_encoding"] = self.audio_encoding.value
        data["analytics"]["profanity_triggers"] = [
            trigger.value for trigger in self.analytics.profanity_triggers
        ]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RecognitionSpec:
        data = json.loads(text)
        data["audio_encoding"] = AudioEncoding(data["audio_encoding"])
        data["language_candidates"] = tuple(data.get("language_candidates", ()))
        data["analytics"] = Analytics.from_dict(data.get("analytics", {}))
        return cls(**data)


@dataclass(frozen=True)
class Word:
    """One recognised word. `text` is the spoken form: numbers are spelled out."""

    text: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(frozen=True)
class Utterance:
    """One utterance of one channel, with times in seconds from the start of the file."""

    #: 0-based channel index (v2 renders it 1-based, v3 0-based).
    channel: int
    start: float
    end: float
    words: tuple[Word, ...]
    #: The engine's text in the plain spoken form: lowercase, no punctuation, numbers spelled out.
    raw_text: str
    #: The text as the spec asks for it (numbers as digits unless raw_results, literature style, profanity masked).
    text: str
    confidence: float = 1.0
    #: BCP-47 code of the language the engine heard, with its probability, when it detected one.
    language: str | None = None
    language_probability: float = 0.0


@dataclass(frozen=True)
class Transcript:
    """Everything recognised in one operation, utterances ordered by start time then channel."""

    utterances: tuple[Utterance, ...] = ()
    channels: int = 1
    duration_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        data = json.loads(text)
        utterances = tuple(
            Utterance(**{**u, "words": tuple(Word(**w) for w in u["words"])})
            for u in data["utterances"]
        )
        return cls(
            utterances=utterances,
            channels=data["channels"],
            duration_seconds=data["duration_seconds"],
            extra=data.get("extra", {}),
        )
