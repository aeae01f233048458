"""The numpy GE2E encoder on real speech: torch cannot be installed here at a sane size, so it is checked
against what GE2E embeddings are (unit length, non-negative; one voice's windows close, two voices' apart)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from asyncstt.speakers.encoder import EMBEDDING_SIZE, WINDOW_SAMPLES, SpeakerEncoder, shared_encoder
from asyncstt.speakers.mel import SAMPLE_RATE
from tests.support.audio import Samples, read_wav_mono
from tests.support.conversation import reader_pieces


def windows(samples: Samples) -> list[Samples]:
    hop = WINDOW_SAMPLES // 2
    return [
        samples[at : at + WINDOW_SAMPLES] for at in range(0, len(samples) - WINDOW_SAMPLES, hop)
    ]


@pytest.fixture(scope="module")
def voices(reference_audio: Path) -> dict[str, NDArray[np.float32]]:
    encoder = shared_encoder()
    return {
        "jfk": encoder.embed(windows(read_wav_mono(reference_audio / "jfk.wav"))),
        "reader": encoder.embed([w for piece in reader_pieces() for w in windows(piece)]),
    }


def unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    scaled: NDArray[np.float32] = vector / np.linalg.norm(vector)
    return scaled


def test_embeddings_are_non_negative_unit_vectors(voices: dict[str, NDArray[np.float32]]) -> None:
    for embeddings in voices.values():
        assert embeddings.shape[1] == EMBEDDING_SIZE
        assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
        assert embeddings.min() >= 0.0


def test_one_voice_is_close_and_two_voices_apart(voices: dict[str, NDArray[np.float32]]) -> None:
    jfk, reader = voices["jfk"], voices["reader"]
    within = [float((e @ e.T)[np.triu_indices(len(e), 1)].mean()) for e in (jfk, reader)]
    across = float((jfk @ reader.T).mean())
    # GE2E's usual ranges: around 0.7 within one voice, around 0.4 across two.
    assert min(within) > 0.65
    assert across < 0.5
    assert float(unit(jfk.mean(0)) @ unit(reader.mean(0))) < 0.65


def test_every_window_is_nearer_its_own_voice(voices: dict[str, NDArray[np.float32]]) -> None:
    jfk, reader = voices["jfk"], voices["reader"]
    for own, other in ((jfk, reader), (reader, jfk)):
        for index, embedding in enumerate(own):
            rest = unit(np.delete(own, index, axis=0).mean(0))
            assert embedding @ rest > embedding @ unit(other.mean(0))


def test_a_short_piece_is_embedded_on_its_own_frames(reference_audio: Path) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    encoder = SpeakerEncoder()
    short, padded = encoder.embed([jfk[SAMPLE_RATE : 2 * SAMPLE_RATE], jfk[SAMPLE_RATE:]])
    alone = encoder.embed([jfk[SAMPLE_RATE : 2 * SAMPLE_RATE]])[0]
    # Batched with a longer piece, the short one is read to its own end, not through the padding.
    assert np.allclose(short, alone, atol=1e-5)
    assert not np.allclose(short, padded, atol=1e-2)


def test_silence_gives_a_finite_embedding() -> None:
    embedding = SpeakerEncoder().embed([np.zeros(WINDOW_SAMPLES, np.float32)])[0]
    assert np.isfinite(embedding).all()
