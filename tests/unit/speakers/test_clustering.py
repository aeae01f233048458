"""Two voices or one, on embeddings made to order."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from asyncstt.speakers.clustering import ONE_VOICE_SIMILARITY, centroid, two_voices


def voice(
    rng: np.random.Generator, direction: NDArray[np.float64], count: int, spread: float
) -> NDArray[np.float32]:
    """`count` unit vectors scattered around `direction`."""
    points = direction + spread * rng.standard_normal((count, len(direction)))
    points = np.abs(points)
    unit: NDArray[np.float32] = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(
        np.float32
    )
    return unit


def directions(shared: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two non-negative unit directions of 160 dimensions each, `shared` of them in common."""
    first, second = np.zeros(256), np.zeros(256)
    first[:160] = 1.0
    second[160 - shared : 320 - shared] = 1.0
    return first / np.linalg.norm(first), second / np.linalg.norm(second)


def test_two_voices_are_told_apart() -> None:
    rng = np.random.default_rng(1)
    first, second = directions(64)
    embeddings = np.concatenate([voice(rng, first, 30, 0.01), voice(rng, second, 20, 0.01)])
    labels, similarity = two_voices(embeddings, np.full(50, 1.6))
    assert similarity < ONE_VOICE_SIMILARITY
    assert len(set(labels[:30].tolist())) == 1
    assert len(set(labels[30:].tolist())) == 1
    assert labels[0] != labels[30]


def test_one_voice_gets_one_label() -> None:
    rng = np.random.default_rng(2)
    first, _ = directions(64)
    labels, similarity = two_voices(voice(rng, first, 40, 0.01), np.full(40, 1.6))
    assert similarity >= ONE_VOICE_SIMILARITY
    assert not labels.any()


def test_a_voice_heard_for_less_than_a_window_is_taken_for_the_other() -> None:
    rng = np.random.default_rng(3)
    first, second = directions(64)
    embeddings = np.concatenate([voice(rng, first, 20, 0.01), voice(rng, second, 1, 0.01)])
    weights = np.concatenate([np.full(20, 1.6), [0.5]])
    labels, _ = two_voices(embeddings, weights)
    assert not labels.any()


def test_a_single_window_is_one_voice() -> None:
    labels, similarity = two_voices(np.full((1, 256), 1 / 16, np.float32), np.ones(1))
    assert labels.tolist() == [0]
    assert similarity == 1.0


def test_centroid_weighs_by_seconds() -> None:
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    middle = centroid(embeddings, np.array([3.0, 1.0]))
    assert abs(np.linalg.norm(middle) - 1.0) < 1e-9
    assert abs(middle[0] - 3 * middle[1]) < 1e-9
