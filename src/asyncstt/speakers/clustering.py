"""One voice or two: the voice windows of a whole file grouped by speaker.

Ward's agglomerative clustering (scipy) splits the windows into two groups, which a few rounds of weighted
spherical k-means then settle (a window goes to the nearer centroid by cosine). When the two centroids are still
as alike as two halves of one voice, the file has one speaker. This module needs the `speakers` extra (scipy).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.hierarchy import fcluster, linkage

#: Cosine similarity of the two centroids at and above which they are one voice. Measured (bench/speakers.py):
#: one-speaker recordings split into two give 0.85 to 0.93, two speakers 0.55 to 0.70.
ONE_VOICE_SIMILARITY = 0.68
#: A second voice must be heard for at least one full window (1.6 s), or it is taken for noise of the first:
#: a cough, a hallucinated word, the tail of a slice.
SHORTEST_VOICE_SECONDS = 1.6
_ROUNDS = 10

Labels = NDArray[np.int64]


def centroid(embeddings: NDArray[np.float32], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """The weighted mean direction of unit vectors."""
    total = (embeddings * weights[:, np.newaxis]).sum(axis=0).astype(np.float64)
    norm = float(np.linalg.norm(total))
    unit: NDArray[np.float64] = total / norm if norm > 0 else total
    return unit


def two_voices(
    embeddings: NDArray[np.float32], weights: NDArray[np.float64]
) -> tuple[Labels, float]:
    """Each window's speaker (0 or 1) and the similarity of the two centroids; all 0 for one voice.

    `weights` are the windows' seconds of speech, so that a long window counts for more than a short one.
    """
    labels: Labels = np.zeros(len(embeddings), np.int64)
    if len(embeddings) < 2:
        return labels, 1.0
    tree = linkage(embeddings.astype(np.float64), method="ward")
    labels = (fcluster(tree, 2, criterion="maxclust") - 1).astype(np.int64)
    for _ in range(_ROUNDS):
        if labels.min() == labels.max():
            break
        centroids = np.stack(
            [centroid(embeddings[labels == k], weights[labels == k]) for k in (0, 1)]
        )
        settled = np.argmax(embeddings @ centroids.T, axis=1).astype(np.int64)
        if np.array_equal(settled, labels):
            break
        labels = settled
    if labels.min() == labels.max():
        return np.zeros(len(embeddings), np.int64), 1.0
    first, second = (centroid(embeddings[labels == k], weights[labels == k]) for k in (0, 1))
    similarity = float(first @ second)
    heard = min(weights[labels == k].sum() for k in (0, 1))
    if similarity >= ONE_VOICE_SIMILARITY or heard < SHORTEST_VOICE_SECONDS:
        return np.zeros(len(embeddings), np.int64), similarity
    return labels, similarity
