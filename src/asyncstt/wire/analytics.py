"""API v3 analytics on the wire: what `speechAnalysis` and `recognitionClassifier` ask for, and their events.

The request side reads the options into the domain's `Analytics`, refusing by name what this server cannot
give. The result side renders `speaker_analysis`, `conversation_analysis` and `classifier_update` messages from
the analysis of the transcript (`asyncstt.analysis`), computed as the stream is rendered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.analysis.classifier import PROFANITY, Verdict
from asyncstt.analysis.conversation import ConversationStats
from asyncstt.analysis.speech import SpeakerStats
from asyncstt.analysis.statistics import Statistics
from asyncstt.analysis.timeline import Span
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Analytics, ClassifierTrigger, Utterance

#: More levels would multiply every statistic of every event; SpeechKit's examples ask for two or three.
MAX_QUANTILES = 20
_TRIGGERS = {
    stt_pb2.RecognitionClassifier.TRIGGER_TYPE_UNSPECIFIED: ClassifierTrigger.UTTERANCE,
    stt_pb2.RecognitionClassifier.ON_UTTERANCE: ClassifierTrigger.UTTERANCE,
    stt_pb2.RecognitionClassifier.ON_FINAL: ClassifierTrigger.FINAL,
}
_WINDOWS = {
    ClassifierTrigger.UTTERANCE: stt_pb2.RecognitionClassifierUpdate.LAST_UTTERANCE,
    ClassifierTrigger.FINAL: stt_pb2.RecognitionClassifierUpdate.LAST_FINAL,
}


def analytics_of(request: Any) -> Analytics:
    """The analytics a `RecognizeFileRequest` asks for; InvalidArgument for a classifier this server lacks,
    a trigger file recognition never fires, or a quantile level or threshold out of range."""
    options = request.speech_analysis
    thresholds = {
        "speechAnalysis.speakerOptions.silenceThresholdMs": (
            options.speaker_options.silence_threshold_ms
        ),
        "speechAnalysis.converstationOptions.simultaneousSilenceThresholdMs": (
            options.converstation_options.simultaneous_silence_threshold_ms
        ),
        "speechAnalysis.converstationOptions.simultaneousSpeechThresholdMs": (
            options.converstation_options.simultaneous_speech_threshold_ms
        ),
    }
    for where, value in thresholds.items():
        if value < 0:
            raise InvalidArgument(f"{where} is {value}; it must be 0 or more")
    levels = tuple(options.descriptive_statistics_quantiles)
    if len(levels) > MAX_QUANTILES:
        raise InvalidArgument(
            f"speechAnalysis.descriptiveStatisticsQuantiles has {len(levels)} levels; "
            f"the limit is {MAX_QUANTILES}"
        )
    for level in levels:
        if not 0 <= level <= 1:
            raise InvalidArgument(
                f"speechAnalysis.descriptiveStatisticsQuantiles: {level:g} is not a level from 0 to 1"
            )
    return Analytics(
        speaker_analysis=options.enable_speaker_analysis,
        conversation_analysis=options.enable_conversation_analysis,
        quantiles=levels,
        silence_threshold_ms=options.speaker_options.silence_threshold_ms,
        simultaneous_silence_threshold_ms=(
            options.converstation_options.simultaneous_silence_threshold_ms
        ),
        simultaneous_speech_threshold_ms=(
            options.converstation_options.simultaneous_speech_threshold_ms
        ),
        profanity_triggers=_profanity_triggers(request.recognition_classifier),
    )


def _profanity_triggers(options: Any) -> tuple[ClassifierTrigger, ...]:
    """When the classifiers asked for report; no trigger means after each utterance."""
    asked: set[ClassifierTrigger] = set()
    for classifier in options.classifiers:
        if classifier.classifier != PROFANITY:
            raise InvalidArgument(
                f"recognitionClassifier: classifier {json.dumps(classifier.classifier[:64])} is not "
                f"available on this server; the one it serves is {PROFANITY}"
            )
        for trigger in classifier.triggers or [stt_pb2.RecognitionClassifier.ON_UTTERANCE]:
            if trigger not in _TRIGGERS:
                raise InvalidArgument(
                    "recognitionClassifier: trigger ON_PARTIAL is not available on this server: file "
                    "recognition gives no partial results; use ON_UTTERANCE or ON_FINAL"
                )
            asked.add(_TRIGGERS[trigger])
    return tuple(trigger for trigger in ClassifierTrigger if trigger in asked)


def classifier_message(
    utterance: Utterance, verdict: Verdict, trigger: ClassifierTrigger
) -> stt_pb2.RecognitionClassifierUpdate:
    """The profanity classifier's verdict on one utterance, reported after its final or its end."""
    return stt_pb2.RecognitionClassifierUpdate(
        window_type=_WINDOWS[trigger],
        start_time_ms=_ms(utterance.start),
        end_time_ms=_ms(utterance.end),
        classifier_result=stt_pb2.RecognitionClassifierResult(
            classifier=PROFANITY,
            highlights=[
                stt_pb2.PhraseHighlight(
                    text=word.text, start_time_ms=_ms(word.start), end_time_ms=_ms(word.end)
                )
                for word in verdict.words
            ],
            labels=[
                stt_pb2.RecognitionClassifierLabel(label=PROFANITY, confidence=verdict.confidence)
            ],
        ),
    )


def speaker_message(stats: SpeakerStats, total: bool) -> stt_pb2.SpeakerAnalysis:
    """One speaker's figures over the whole file (`total`) or over its last utterance."""
    return stt_pb2.SpeakerAnalysis(
        speaker_tag=str(stats.channel),
        window_type=stt_pb2.SpeakerAnalysis.TOTAL
        if total
        else stt_pb2.SpeakerAnalysis.LAST_UTTERANCE,
        speech_boundaries=_boundaries(stats.window),
        total_speech_ms=stats.speech_ms,
        speech_ratio=stats.speech_ratio,
        total_silence_ms=stats.silence_ms,
        silence_ratio=stats.silence_ratio,
        words_count=stats.words,
        letters_count=stats.letters,
        words_per_second=_statistics(stats.words_per_second),
        letters_per_second=_statistics(stats.letters_per_second),
        words_per_utterance=_statistics(stats.words_per_utterance),
        letters_per_utterance=_statistics(stats.letters_per_utterance),
        utterance_count=stats.utterances,
        utterance_duration_estimation=_statistics(stats.utterance_duration_ms),
    )


def conversation_message(stats: ConversationStats) -> stt_pb2.ConversationAnalysis:
    """The conversation's figures over the whole file."""
    return stt_pb2.ConversationAnalysis(
        conversation_boundaries=_boundaries(stats.window),
        total_simultaneous_silence_duration_ms=stats.simultaneous_silence_ms,
        total_simultaneous_silence_ratio=stats.simultaneous_silence_ratio,
        simultaneous_silence_duration_estimation=_statistics(stats.simultaneous_silence_ms_stats),
        total_simultaneous_speech_duration_ms=stats.simultaneous_speech_ms,
        total_simultaneous_speech_ratio=stats.simultaneous_speech_ratio,
        simultaneous_speech_duration_estimation=_statistics(stats.simultaneous_speech_ms_stats),
        speaker_interrupts=[
            stt_pb2.ConversationAnalysis.InterruptsEvaluation(
                speaker_tag=str(interrupts.channel),
                interrupts_count=len(interrupts.spans),
                interrupts_duration_ms=interrupts.duration_ms,
                interrupts=_all_boundaries(interrupts.spans),
            )
            for interrupts in stats.interrupts
        ],
        total_speech_duration_ms=stats.speech_ms,
        total_speech_ratio=stats.speech_ratio,
    )


def _statistics(stats: Statistics) -> stt_pb2.DescriptiveStatistics:
    return stt_pb2.DescriptiveStatistics(
        min=stats.min,
        max=stats.max,
        mean=stats.mean,
        std=stats.std,
        quantiles=[
            stt_pb2.DescriptiveStatistics.Quantile(level=q.level, value=q.value)
            for q in stats.quantiles
        ],
    )


def _boundaries(span: Span) -> stt_pb2.AudioSegmentBoundaries:
    return stt_pb2.AudioSegmentBoundaries(start_time_ms=span.start, end_time_ms=span.end)


def _all_boundaries(spans: Iterable[Span]) -> list[stt_pb2.AudioSegmentBoundaries]:
    return [_boundaries(span) for span in spans]


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
