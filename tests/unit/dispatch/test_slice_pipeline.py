from __future__ import annotations

from asyncstt.audio.probe import probe
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.pipeline.planner import plan
from asyncstt.pipeline.task import recognise_slice


def test_the_default_pipeline_is_the_real_one() -> None:
    assert SlicePipeline() == SlicePipeline(probe, plan, recognise_slice)
