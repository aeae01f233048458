"""Speaker labeling through the dispatcher with the real engine: a two-speaker conversation cut into slices that
end inside turns keeps each speaker's label across them, the slices read back from their checkpoints give the
same labels, and stereo audio asking for labeling fails once probed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncstt.audio.probe import probe
from asyncstt.engines.catalog import describe_engine
from asyncstt.operation import OperationState
from asyncstt.pipeline.assemble import assemble
from asyncstt.pipeline.task import SliceJob, SliceResult, recognise_slice
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import EngineSettings
from tests.support.audio import write_wav
from tests.support.conversation import Conversation, conversation, word_accuracy
from tests.support.dispatching import Harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def talk(
    tmp_path_factory: pytest.TempPathFactory, reference_audio: Path
) -> tuple[Path, Conversation]:
    made = conversation(reference_audio)
    path = write_wav(
        tmp_path_factory.mktemp("speakers") / "conversation.wav", [made.samples], 16000
    )
    return path, made


def test_turns_across_slice_boundaries_keep_their_speakers(
    harness_factory: Callable[..., Harness], talk: tuple[Path, Conversation]
) -> None:
    path, made = talk
    checkpointed: list[SliceResult] = []

    def recognise(job: SliceJob) -> SliceResult:
        result = recognise_slice(job)
        checkpointed.append(SliceResult.from_bytes(result.to_bytes()))
        return result

    harness = harness_factory(
        recognise,
        describe_engine(EngineSettings()),
        slice_seconds=6.0,
        snap_window_seconds=1.5,
    )
    operation = harness.submit(path, speaker_labeling=True)
    harness.dispatcher.start()
    done = harness.done(operation.id, timeout=300)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert done.result is not None

    cuts = [job.slice.end for job in harness.executor.jobs if job.slice.end is not None]
    inside = [c for c in cuts if any(t.start + 0.5 < c < t.end - 0.5 for t in made.turns)]
    assert len(inside) >= 2, (cuts, made.turns)
    assert done.result.channels == 2
    assert done.result.utterances[0].channel == 0
    assert {u.channel for u in done.result.utterances} == {0, 1}
    assert word_accuracy(done.result.utterances, made.turns) >= 0.9

    # What a dispatcher taking the operation over would assemble from the saved slices.
    again = assemble(
        checkpointed,
        probe(path, AudioEncoding.WAV, 16000, 1, harness.settings.limits),
        done.result.duration_seconds,
    )
    assert again.utterances == done.result.utterances


def test_stereo_asking_for_labeling_fails_once_probed(
    harness_factory: Callable[..., Harness], audio_fixtures: Any
) -> None:
    harness = harness_factory()
    operation = harness.submit(Path(audio_fixtures.stereo_wav), speaker_labeling=True)
    harness.dispatcher.start()
    done = harness.done(operation.id, timeout=60)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert done.error.code == 3
    assert done.error.message.startswith("speakerLabeling works on mono audio only")
    assert harness.executor.jobs == []
