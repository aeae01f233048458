"""What a slice checkpoint is made of: a result's bytes, the plan id it is filed under, and slice priorities."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import AudioInfo
from asyncstt.pipeline.plan import PLAN_ID_LENGTH, Planning, SliceSpec, plan_id
from asyncstt.pipeline.priority import STANDARD_SLICE_PRIORITY, slice_priority
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Priority, RecognitionSpec
from asyncstt.settings import EngineSettings
from tests.factories import T0, make_transcript

INFO = AudioInfo(AudioFormat.WAV, channels=2, sample_rate=16000, duration_seconds=300.0)
SPEC = RecognitionSpec(language="ru-RU", literature_text=True)
ENGINE = EngineSettings()
PLANNING = Planning(slice_seconds=120.0, snap_window_seconds=5.0, speech_only=True)
DAY = 24 * 3600.0


def test_a_slice_result_survives_its_bytes() -> None:
    utterances = make_transcript(5, 4, text='ёжик 😀 \\ " \x00 end').utterances
    result = SliceResult(SliceSpec(3, 1, 118.2, None), utterances, 181.799375)
    data = result.to_bytes()
    assert SliceResult.from_bytes(data) == result
    # zlib keeps repetitive JSON small.
    assert len(data) < len(str(result).encode()) / 2


def test_an_empty_slice_survives_its_bytes() -> None:
    result = SliceResult(SliceSpec(0, 0, 0.0, 118.2), (), 118.2)
    assert SliceResult.from_bytes(result.to_bytes()) == result


def test_the_plan_id_is_stable_and_short() -> None:
    first = plan_id(INFO, 9_600_044, PLANNING, SPEC, ENGINE)
    assert first == plan_id(INFO, 9_600_044, replace(PLANNING), SPEC, EngineSettings())
    assert len(first) == PLAN_ID_LENGTH <= 64


@pytest.mark.parametrize(
    "changed",
    [
        {"info": replace(INFO, duration_seconds=300.5)},
        {"info": replace(INFO, channels=1)},
        {"file_bytes": 9_600_046},
        {"planning": replace(PLANNING, slice_seconds=60.0)},
        {"planning": replace(PLANNING, snap_window_seconds=2.0)},
        {"planning": replace(PLANNING, speech_only=False)},
        {"spec": replace(SPEC, literature_text=False)},
        {"spec": replace(SPEC, language="en-US")},
        {"engine": EngineSettings(beam_size=1)},
        {"engine": EngineSettings(model_dir=Path("/models/other"))},
    ],
    ids=[
        "duration",
        "channels",
        "size",
        "slice length",
        "snap window",
        "speech only",
        "normalization",
        "language",
        "beam",
        "model",
    ],
)
def test_anything_that_changes_slice_output_changes_the_plan_id(changed: dict[str, object]) -> None:
    facts: dict[str, object] = {
        "info": INFO,
        "file_bytes": 9_600_044,
        "planning": PLANNING,
        "spec": SPEC,
        "engine": ENGINE,
    }
    original = plan_id(INFO, 9_600_044, PLANNING, SPEC, ENGINE)
    assert plan_id(**{**facts, **changed}) != original  # type: ignore[arg-type]


def test_standard_slices_have_the_standard_priority_whatever_their_age() -> None:
    for age in (0, 3600, 10 * DAY):
        assert (
            slice_priority(Priority.STANDARD, T0, T0 + timedelta(seconds=age), DAY)
            == STANDARD_SLICE_PRIORITY
        )


@pytest.mark.parametrize(
    ("age_hours", "expected"),
    [(0, 0), (-1, 0), (6, 25), (12, 50), (23.99, 99), (24, 100), (72, 100)],
)
def test_deferred_slices_rise_linearly_to_standard_at_the_deadline(
    age_hours: float, expected: int
) -> None:
    now = T0 + timedelta(hours=age_hours)
    assert slice_priority(Priority.DEFERRED, T0, now, DAY) == expected


def test_a_deferred_slice_stays_below_a_fresh_standard_one_until_the_deadline() -> None:
    almost = T0 + timedelta(seconds=DAY - 1)
    assert slice_priority(Priority.DEFERRED, T0, almost, DAY) < slice_priority(
        Priority.STANDARD, almost, almost, DAY
    )
