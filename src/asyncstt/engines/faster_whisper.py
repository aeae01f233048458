"""The faster-whisper engine: a CTranslate2 Whisper model from a local directory, on the CPU or a CUDA GPU,
decoding a slice's speech one 30 s window after another or in batches of windows of speech."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import get_ctranslate2_storage
from faster_whisper.vad import VadOptions, get_speech_timestamps

from asyncstt.engines.allocator import keep_engine_buffers, release_free_memory
from asyncstt.engines.base import (
    SAMPLE_RATE,
    EngineCapabilities,
    EngineSegment,
    EngineWord,
    Samples,
    SpeechProbabilities,
)
from asyncstt.engines.detection import choose_language
from asyncstt.engines.device import resolve_compute_type, resolve_device
from asyncstt.engines.language_check import detection_candidates, recognition_language
from asyncstt.engines.speech_timestamps import speech_timestamps
from asyncstt.engines.speech_windows import (
    WHOLE_PAUSES,
    WINDOW_SECONDS,
    Window,
    every_window,
    group,
    lay_out,
    slice_time,
    slot_of,
    slots,
    unheard,
)
from asyncstt.engines.whisper_model import MODEL_DIR_SETTING, ModelUnavailable, describe, model_dir
from asyncstt.errors import Internal, InvalidArgument
from asyncstt.languages import from_iso639, to_iso639
from asyncstt.settings import EngineSettings

#: A slice whose loudest sample stays under -60 dBFS is silence: Whisper is not asked, since without VAD it
#: "hears" a word or two in digital silence.
SILENCE_PEAK = 10 ** (-60 / 20)
#: Whisper drops a window only when it is sure there is no speech *and* the text is unlikely (log prob < -1).
#: In noise without VAD it still writes "You" or "." at log prob -0.5 to -1 with no-speech probability 0.95,
#: while real speech measured 0.05-0.1: such windows are dropped too.
NO_SPEECH_PROBABILITY = 0.8
NO_SPEECH_LOG_PROBABILITY = -0.5
#: The marks after which the batched decoder's windows are cut into utterances: . ? ! and the ellipsis, the
#: ideographic full stop and the full-width question and exclamation marks.
SENTENCE_ENDS = (".", "?", "!", "\u2026", "\u3002", "\uff1f", "\uff01")
#: ... when a pause of this many seconds follows, so that `Mr.` or `3.` inside a sentence is not cut after.
SENTENCE_PAUSE = 0.2
#: Quotes and brackets that may close a sentence after its mark (`country."`).
CLOSING_MARKS = "\"')]}\u00bb\u201d\u2019"
#: Whisper's own names for languages it reports under an older code.
_WHISPER_ALIASES = {"iw": "he", "jw": "jv"}
#: The stretches of speech the batched decoder is given: the sequential decoder's VAD (pauses of 2 s or more
#: cut, 0.4 s kept either side of speech), each stretch short enough to fit a window with its padding.
BATCHED_VAD = VadOptions(max_speech_duration_s=WINDOW_SECONDS - 1)
#: Inside a stretch, a pause is under the VAD's minimum silence (2 s) and a word's timing is off by a fraction of
#: a second: speech without a word for longer than this was not heard.
UNHEARD_SECONDS = 2.5
UNHEARD_SAMPLES = round(UNHEARD_SECONDS * SAMPLE_RATE)


class EngineFailure(Internal):
    """The speech recognition engine failed."""


class WindowByWindowWhisper(WhisperModel):  # type: ignore[misc]
    """Whisper whose encoder takes a batch's windows one at a time on the CPU.

    The encoder's self-attention over a window's 1,500 frames holds about 54 MB at once (6 heads x 1,500^2
    float32 scores); over a batch of 8 windows that was 430 MB a worker. One window at a time took the same time
    on the CPU (the matrix products stay large); the decoder still decodes the whole batch together.
    """

    def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
        if self.model.device != "cpu":
            return super().encode(features)
        # Called once per batch: the last batch's buffers go back to the system before this one's are taken.
        release_free_memory()
        if features.ndim == 2 or len(features) == 1:
            return super().encode(features)
        encode = super().encode
        return get_ctranslate2_storage(
            np.concatenate([np.asarray(encode(window)) for window in features])
        )


class FasterWhisperEngine:
    """Whisper through faster-whisper; loads the model once, never downloads anything."""

    def __init__(self, settings: EngineSettings) -> None:
        self._settings = settings
        self._capabilities = describe(settings)
        directory = model_dir(settings)
        device = resolve_device(settings)
        compute_type = resolve_compute_type(settings, device)
        keep_engine_buffers()
        try:
            self._model = WindowByWindowWhisper(
                str(directory),
                device=device,
                compute_type=compute_type,
                cpu_threads=settings.cpu_threads,
                num_workers=1,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelUnavailable(
                f"cannot load the speech model in {directory} on {device} with compute type "
                f"{compute_type!r}: {error}; check {MODEL_DIR_SETTING}, ASYNCSTT_ENGINE__DEVICE and "
                f"ASYNCSTT_ENGINE__COMPUTE_TYPE"
            ) from error

    @property
    def capabilities(self) -> EngineCapabilities:
        return self._capabilities

    def recognise(
        self,
        samples: Samples,
        language: str | None,
        candidates: Sequence[str] = (),
        speech: SpeechProbabilities | None = None,
    ) -> list[EngineSegment]:
        """Segments with timed words heard in `samples` (16 kHz mono float32); `language` None detects it.

        With `candidates`, detection chooses among them only (see `choose_language`) and the samples are then
        transcribed in the chosen language; without, Whisper's own choice stands. With `speech`, the batched
        decoder takes its stretches of speech from those probabilities instead of running the VAD.
        """
        code = recognition_language(self._capabilities, language)
        allowed = detection_candidates(self._capabilities, language, candidates)
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if audio.ndim != 1:
            raise InvalidArgument(
                f"the engine takes mono samples, got an array of shape {audio.shape}"
            )
        if audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK:
            return []
        chosen = self._choose_language(audio, allowed) if allowed and code is None else None
        if chosen is not None:
            code = chosen[0]
        duration = audio.size / SAMPLE_RATE
        iso = to_iso639(code) if code else None
        try:
            if self._settings.batch_size > 1:
                recognised, info = self._transcribe_batched(audio, iso, duration, speech)
            else:
                recognised, info = self._transcribe_sequential(audio, iso, duration)
        except (RuntimeError, ValueError) as error:
            # ValueError: CTranslate2 refuses a prompt the model's vocabulary cannot spell (a vocabulary that
            # does not match the weights), which is the installation's fault, not the request's.
            raise EngineFailure(f"speech recognition failed: {error}") from error
        if not recognised:
            return []
        heard: str | None = None
        probability = 0.0
        if chosen is not None:
            heard, probability = chosen
        elif code is None:
            heard = _speechkit_code(info.language)
            probability = float(info.language_probability)
        return [
            EngineSegment(
                text=segment.text,
                start=segment.start,
                end=segment.end,
                words=segment.words,
                language=heard,
                language_probability=probability,
            )
            for segment in recognised
            if segment.words and any(c.isalnum() for c in segment.text)
        ]

    def _transcribe_sequential(
        self, audio: Samples, iso: str | None, duration: float
    ) -> tuple[list[EngineSegment], Any]:
        """One 30 s window after another, each decoded with the beam alone."""
        segments, info = self._model.transcribe(
            audio,
            language=iso,
            beam_size=self._settings.beam_size,
            word_timestamps=True,
            vad_filter=self._settings.vad,
            # Conditioning on the previous window made no measurable difference to accuracy here (40 s and
            # 122 s of LibriVox + jfk) and lets one misheard window derail the next (repetition loops).
            condition_on_previous_text=False,
            # No fallback to sampling at higher temperatures on hard audio: CTranslate2 draws its samples
            # from a generator per decoding thread, seeded once when that thread first samples, and
            # `ctranslate2.set_random_seed` cannot reach it again. Sampled windows then differed from one
            # operation to the next in a worker (a noisy stretch heard in the first, dropped in the second).
            # The beam alone gives a slice the same words every time it is recognised.
            temperature=0.0,
        )
        # The segments are a lazy generator: decoding happens here, inside the caller's error handling.
        return [_segment(segment, duration, float) for segment in segments if _heard(segment)], info

    def _transcribe_batched(
        self,
        audio: Samples,
        iso: str | None,
        duration: float,
        speech: SpeechProbabilities | None,
    ) -> tuple[list[EngineSegment], Any]:
        """The stretches of speech the VAD finds, or `speech` gives (every 30 s without VAD), packed into
        windows of at most 30 s (see `speech_windows`) and decoded `batch_size` windows at a time.

        Whisper sometimes ends a packed window's text before its speech ends, or skips a sentence inside it:
        speech that no word was heard in for longer than any pause a stretch holds is decoded again, each part
        in a window of its own with its pauses whole, and what is heard there joins the rest.
        """
        if not self._settings.vad:
            return self._decode(audio, every_window(audio.size), iso, duration)
        if speech is not None:
            stretches = speech_timestamps(speech, audio.size, BATCHED_VAD)
        else:
            found = get_speech_timestamps(audio, BATCHED_VAD)
            stretches = [(stretch["start"], stretch["end"]) for stretch in found]
        recognised, info = self._decode(audio, group(stretches), iso, duration)
        heard = [
            (round(word.start * SAMPLE_RATE), round(word.end * SAMPLE_RATE))
            for segment in recognised
            for word in segment.words
        ]
        missed = unheard(stretches, heard, UNHEARD_SAMPLES)
        if not missed:
            return recognised, info
        again, _ = self._decode(audio, group(missed, pause=WHOLE_PAUSES), iso, duration)
        return sorted([*recognised, *again], key=lambda segment: (segment.start, segment.end)), info

    def _decode(
        self, audio: Samples, windows: list[Window], iso: str | None, duration: float
    ) -> tuple[list[EngineSegment], Any]:
        """`windows` of `audio` laid out and decoded in batches; segments cut at sentence ends, in slice time."""
        if not windows:
            return [], None
        # A pipeline per call: it carries the last word's end from batch to batch for word timing, and would
        # hand a failed call's value on to the next slice.
        pipeline = BatchedInferencePipeline(self._model)
        segments, info = pipeline.transcribe(
            lay_out(audio, windows),
            language=iso,
            beam_size=self._settings.beam_size,
            word_timestamps=True,
            clip_timestamps=slots(windows),
            batch_size=self._settings.batch_size,
            # The batched decoder never samples: the beam alone, as in the sequential one.
            temperature=0.0,
        )
        recognised = []
        for segment in segments:
            if _heard(segment):
                place = partial(slice_time, slot=slot_of(segment.start, windows), windows=windows)
                recognised += [_segment(part, duration, place) for part in _sentences(segment)]
        return recognised, info

    def _choose_language(self, audio: Samples, candidates: tuple[str, ...]) -> tuple[str, float]:
        """The candidate Whisper finds most probable in the first 30 s of `audio`, renormalised."""
        if len(candidates) == 1:
            return candidates[0], 1.0
        try:
            _, _, measured = self._model.detect_language(audio)
        except (RuntimeError, ValueError) as error:
            raise EngineFailure(f"language detection failed: {error}") from error
        probabilities: dict[str, float] = {}
        for iso, probability in measured:
            code = _speechkit_code(iso)
            probabilities[code] = probabilities.get(code, 0.0) + float(probability)
        return choose_language(probabilities, candidates)


def _speechkit_code(iso: str) -> str:
    return from_iso639(_WHISPER_ALIASES.get(iso, iso))


@dataclass(frozen=True)
class _Sentence:
    """Part of a faster-whisper segment, read as one: its words from one sentence end to the next."""

    text: str
    start: float
    end: float
    words: list[Any]


def _sentences(segment: Any) -> list[Any]:
    """A batched window's segment (up to 30 s) cut after each word that ends a sentence, so that utterances
    stay the length the sequential decoder's timestamps give them."""
    words = list(segment.words or ())
    cuts = [
        i + 1
        for i, (word, after) in enumerate(itertools.pairwise(words))
        if str(word.word).strip().rstrip(CLOSING_MARKS).endswith(SENTENCE_ENDS)
        and after.start - word.end >= SENTENCE_PAUSE
    ]
    if not cuts:
        return [segment]
    bounds = zip([0, *cuts], [*cuts, len(words)], strict=True)
    return [
        _Sentence("".join(str(w.word) for w in part), part[0].start, part[-1].end, part)
        for part in (words[first:last] for first, last in bounds)
    ]


def _heard(segment: Any) -> bool:
    """False for a window Whisper itself thinks holds no speech and decoded with little confidence."""
    return not (
        segment.no_speech_prob >= NO_SPEECH_PROBABILITY
        and segment.avg_logprob < NO_SPEECH_LOG_PROBABILITY
    )


def _segment(segment: Any, duration: float, place: Callable[[float], float]) -> EngineSegment:
    """One faster-whisper segment as an `EngineSegment`, its times placed in the samples by `place`, kept
    inside the audio and in order."""
    words = tuple(_words(segment.words or (), duration, place))
    start = _clamp(place(segment.start), duration)
    end = max(_clamp(place(segment.end), duration), start)
    if words:
        start, end = min(start, words[0].start), max(end, words[-1].end)
    return EngineSegment(text=str(segment.text).strip(), start=start, end=end, words=words)


def _words(
    words: Iterable[Any], duration: float, place: Callable[[float], float]
) -> Iterable[EngineWord]:
    previous = 0.0
    for word in words:
        text = str(word.word).strip()
        if not text:
            continue
        start = max(_clamp(place(word.start), duration), previous)
        end = max(_clamp(place(word.end), duration), start)
        previous = start
        yield EngineWord(text=text, start=start, end=end, probability=float(word.probability))


def _clamp(seconds: float, duration: float) -> float:
    return round(min(max(float(seconds), 0.0), duration), 3)
