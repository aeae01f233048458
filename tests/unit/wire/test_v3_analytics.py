from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Analytics, ClassifierTrigger, RecognitionSpec, Transcript
from asyncstt.wire.analytics import MAX_QUANTILES
from asyncstt.wire.v3 import (
    recognize_file_request_from_json,
    render_recognition,
    render_stream_line,
    v3_submission,
)
from tests.factories import make_utterance
from tests.unit.analysis.test_speech import CALL

URI = "s3://acme-calls/call-0002.wav"
OPERATION_ID = "f8d4q1n7c2v9k5m3h6tb"
#: Every speech analysis option and the profanity classifier on both triggers.
EVERYTHING: dict[str, Any] = {
    "uri": URI,
    "recognitionClassifier": {
        "classifiers": [{"classifier": "profanity", "triggers": ["ON_UTTERANCE", "ON_FINAL"]}]
    },
    "speechAnalysis": {
        "enableSpeakerAnalysis": True,
        "enableConversationAnalysis": True,
        "descriptiveStatisticsQuantiles": [0.5, 0.9],
        "speakerOptions": {"silenceThresholdMs": "150"},
        "converstationOptions": {
            "simultaneousSilenceThresholdMs": 300,
            "simultaneousSpeechThresholdMs": 100,
        },
    },
}


def analytics(body: dict[str, Any]) -> Analytics:
    return v3_submission(recognize_file_request_from_json(json.dumps(body).encode())).spec.analytics


def refused(body: dict[str, Any]) -> str:
    with pytest.raises(InvalidArgument) as caught:
        analytics(body)
    return caught.value.message


def events(spec: RecognitionSpec, transcript: Transcript = CALL, **options: Any) -> list[Any]:
    """The stream as a client reads it: REST lines parsed back into the official messages."""
    lines = b"".join(
        render_stream_line(message)
        for message in render_recognition(OPERATION_ID, transcript, lambda: 7, spec, **options)
    )
    return [
        json_format.ParseDict(json.loads(line)["result"], stt_pb2.StreamingResponse())
        for line in lines.splitlines()
    ]


# --- requests -----------------------------------------------------------------------------------------


def test_every_analysis_option_and_the_profanity_classifier_travel_in_the_spec() -> None:
    assert analytics(EVERYTHING) == Analytics(
        speaker_analysis=True,
        conversation_analysis=True,
        quantiles=(0.5, 0.9),
        silence_threshold_ms=150,
        simultaneous_silence_threshold_ms=300,
        simultaneous_speech_threshold_ms=100,
        profanity_triggers=(ClassifierTrigger.UTTERANCE, ClassifierTrigger.FINAL),
    )


def test_a_classifier_without_triggers_reports_after_each_utterance() -> None:
    body = {"uri": URI, "recognitionClassifier": {"classifiers": [{"classifier": "profanity"}]}}

    assert analytics(body).profanity_triggers == (ClassifierTrigger.UTTERANCE,)


def test_a_request_without_analytics_asks_for_none() -> None:
    assert analytics({"uri": URI, "recognitionClassifier": {}}) == Analytics()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"recognitionClassifier": {"classifiers": [{"classifier": "insult"}]}},
            'recognitionClassifier: classifier "insult" is not available on this server; '
            "the one it serves is profanity",
        ),
        (
            {
                "recognitionClassifier": {
                    "classifiers": [{"classifier": "profanity", "triggers": ["ON_PARTIAL"]}]
                }
            },
            "recognitionClassifier: trigger ON_PARTIAL is not available on this server: file "
            "recognition gives no partial results; use ON_UTTERANCE or ON_FINAL",
        ),
        (
            {"summarization": {"modelUri": "gpt://b1g/yandexgpt"}},
            "summarization is not available on this server; leave it out",
        ),
        (
            {"summarization": {"properties": [{"instruction": "sum up"}]}},
            "summarization is not available on this server; leave it out",
        ),
        (
            {"speechAnalysis": {"descriptiveStatisticsQuantiles": [0.5, 1.01]}},
            "speechAnalysis.descriptiveStatisticsQuantiles: 1.01 is not a level from 0 to 1",
        ),
        (
            {"speechAnalysis": {"descriptiveStatisticsQuantiles": ["NaN"]}},
            "speechAnalysis.descriptiveStatisticsQuantiles: nan is not a level from 0 to 1",
        ),
        (
            {"speechAnalysis": {"descriptiveStatisticsQuantiles": [0.5] * (MAX_QUANTILES + 1)}},
            f"speechAnalysis.descriptiveStatisticsQuantiles has {MAX_QUANTILES + 1} levels; "
            f"the limit is {MAX_QUANTILES}",
        ),
        (
            {"speechAnalysis": {"speakerOptions": {"silenceThresholdMs": -1}}},
            "speechAnalysis.speakerOptions.silenceThresholdMs is -1; it must be 0 or more",
        ),
    ],
)
def test_what_this_server_cannot_give_is_refused_by_name(
    extra: dict[str, Any], message: str
) -> None:
    assert refused({"uri": URI, **extra}) == message


def test_stored_specs_carry_the_analytics_and_older_ones_read_back_without_any() -> None:
    spec = RecognitionSpec(language="en-US", analytics=analytics(EVERYTHING))
    older = json.loads(RecognitionSpec(language="en-US").to_json())
    del older["analytics"]

    assert RecognitionSpec.from_json(spec.to_json()) == spec
    assert RecognitionSpec.from_json(json.dumps(older)) == RecognitionSpec(language="en-US")


# --- results ------------------------------------------------------------------------------------------

SPEC = RecognitionSpec(language="en-US", analytics=analytics(EVERYTHING))


def test_each_utterance_brings_its_classifier_updates_and_its_analysis_then_the_totals_end_the_stream() -> (
    None
):
    stream = events(SPEC)

    kinds = [(event.WhichOneof("Event"), event.channel_tag) for event in stream]
    per_utterance = [
        "final",
        "classifier_update",
        "final_refinement",
        "eou_update",
        "classifier_update",
        "speaker_analysis",
    ]
    assert kinds == [
        *((kind, "0") for kind in per_utterance),
        *((kind, "1") for kind in per_utterance),
        *((kind, "0") for kind in per_utterance),
        *((kind, "1") for kind in per_utterance),
        ("speaker_analysis", "0"),
        ("speaker_analysis", "1"),
        ("conversation_analysis", ""),
    ]
    windows = [event.classifier_update.window_type for event in stream[:6]]
    assert windows[1] == stt_pb2.RecognitionClassifierUpdate.LAST_FINAL
    assert windows[4] == stt_pb2.RecognitionClassifierUpdate.LAST_UTTERANCE


def test_the_speaker_analysis_of_the_whole_file_has_every_figure_with_the_quantiles_asked_for() -> (
    None
):
    total = events(SPEC)[-3].speaker_analysis

    assert total.window_type == stt_pb2.SpeakerAnalysis.TOTAL
    assert (total.speech_boundaries.start_time_ms, total.speech_boundaries.end_time_ms) == (
        0,
        10_000,
    )
    # The 200 ms pause in "hello there friend" is longer than the 150 ms threshold: it stays silence.
    assert (total.total_speech_ms, total.total_silence_ms) == (2_800, 7_200)
    assert (total.speech_ratio, total.silence_ratio) == pytest.approx((0.28, 0.72))
    assert (total.words_count, total.letters_count, total.utterance_count) == (4, 20, 2)
    assert total.words_per_second.mean == pytest.approx(1.25)
    assert [(q.level, q.value) for q in total.utterance_duration_estimation.quantiles] == [
        (0.5, 1_500.0),
        (0.9, pytest.approx(1_900.0)),
    ]
    assert total.letters_per_utterance.max == 16.0
    assert total.words_per_utterance.min == 1.0
    assert total.letters_per_second.std == pytest.approx(2.0)


def test_the_analysis_of_an_utterance_spans_it_alone() -> None:
    first = events(SPEC)[5].speaker_analysis

    assert first.window_type == stt_pb2.SpeakerAnalysis.LAST_UTTERANCE
    assert (first.speech_boundaries.start_time_ms, first.speech_boundaries.end_time_ms) == (
        0,
        2_000,
    )
    assert (first.total_speech_ms, first.words_count, first.utterance_count) == (1_800, 3, 1)


def test_the_conversation_analysis_reports_overlaps_shared_silences_and_who_interrupted() -> None:
    conversation = events(SPEC)[-1].conversation_analysis

    assert conversation.conversation_boundaries.end_time_ms == 10_000
    assert (conversation.total_speech_duration_ms, conversation.total_speech_ratio) == (
        4_800,
        pytest.approx(0.48),
    )
    assert conversation.total_simultaneous_speech_duration_ms == 1_000
    assert conversation.total_simultaneous_speech_ratio == pytest.approx(0.1)
    assert conversation.simultaneous_speech_duration_estimation.mean == 500.0
    # The 200 ms pause is under the 300 ms threshold: only 3-6 s and 8-10 s count.
    assert conversation.total_simultaneous_silence_duration_ms == 5_000
    assert conversation.total_simultaneous_silence_ratio == pytest.approx(0.5)
    silences = conversation.simultaneous_silence_duration_estimation
    assert [(q.level, q.value) for q in silences.quantiles] == [(0.5, 2_500.0), (0.9, 2_900.0)]
    interrupts = {i.speaker_tag: i for i in conversation.speaker_interrupts}
    assert (interrupts["0"].interrupts_count, interrupts["0"].interrupts_duration_ms) == (0, 0)
    assert (interrupts["1"].interrupts_count, interrupts["1"].interrupts_duration_ms) == (2, 1_000)
    assert [(b.start_time_ms, b.end_time_ms) for b in interrupts["1"].interrupts] == [
        (1_500, 2_000),
        (6_500, 7_000),
    ]


def test_the_profanity_classifier_highlights_profane_words_with_their_confidence() -> None:
    rude = Transcript(
        utterances=(
            make_utterance(0, [("oh", 0.0, 0.4), ("shit", 0.5, 0.9)], "Oh, s***."),
            make_utterance(0, [("fine", 2.0, 2.5)], "Fine."),
        ),
        duration_seconds=3.0,
    )

    updates = [
        event.classifier_update
        for event in events(SPEC, rude)
        if event.WhichOneof("Event") == "classifier_update"
    ]

    profane, _, clean, _ = updates
    assert (profane.start_time_ms, profane.end_time_ms) == (0, 900)
    assert profane.classifier_result.classifier == "profanity"
    assert [
        (h.text, h.start_time_ms, h.end_time_ms) for h in profane.classifier_result.highlights
    ] == [("shit", 500, 900)]
    assert [(label.label, label.confidence) for label in profane.classifier_result.labels] == [
        ("profanity", 1.0)
    ]
    assert list(clean.classifier_result.highlights) == []
    assert clean.classifier_result.labels[0].confidence == 0.0


def test_a_partial_stream_leaves_out_the_totals_and_is_a_prefix_of_the_finished_one() -> None:
    finished = events(SPEC)
    partial = events(SPEC, partial=True)

    assert partial == finished[: len(partial)]
    assert len(partial) == len(finished) - 3


def test_without_analytics_the_stream_is_the_text_alone() -> None:
    kinds = {event.WhichOneof("Event") for event in events(RecognitionSpec(language="en-US"))}

    assert kinds == {"final", "final_refinement", "eou_update"}
