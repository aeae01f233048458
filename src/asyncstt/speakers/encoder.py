"""The GE2E speaker encoder of resemblyzer 0.1.4, run with numpy: a stretch of speech in, a voice embedding out.

Three LSTM layers of 256 units read the 40-band mel frames of up to 1.6 s of speech; the last layer's final
state goes through a linear layer and a ReLU and is scaled to unit length. Embeddings of one voice lie close
together (cosine similarity around 0.8 and above), those of two voices further apart. The weights ship in
`encoder.npz`, converted from resemblyzer's `pretrained.pt` by `scripts/speaker_encoder.py` (Apache-2.0, see
`LICENSE.resemblyzer` beside it); torch is not needed to run them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from asyncstt.speakers.mel import SAMPLE_RATE, mel_spectrogram

WEIGHTS = Path(__file__).resolve().parent / "encoder.npz"
#: The partial utterance GE2E was trained on: 160 frames, 1.6 s.
WINDOW_FRAMES = 160
WINDOW_SECONDS = 1.6
WINDOW_SAMPLES = round(WINDOW_SECONDS * SAMPLE_RATE)
EMBEDDING_SIZE = 256
_LAYERS = 3
_HIDDEN = 256
#: resemblyzer brings quiet speech up to -30 dBFS before the spectrogram; the encoder never heard it quieter.
_TARGET_RMS = 10 ** (-30 / 20)
#: Windows run through the LSTM together; bounds the memory of one batch to about 45 MB.
_BATCH = 64

Embeddings = NDArray[np.float32]


class SpeakerEncoder:
    """Voice embeddings of short stretches of 16 kHz mono speech."""

    def __init__(self, weights: Path = WEIGHTS) -> None:
        with np.load(weights) as data:
            tensors = {name: data[name].astype(np.float32) for name in data.files}
        self._input = [tensors[f"lstm_weight_ih_l{layer}"].T.copy() for layer in range(_LAYERS)]
        self._recurrent = [tensors[f"lstm_weight_hh_l{layer}"].T.copy() for layer in range(_LAYERS)]
        self._bias = [
            tensors[f"lstm_bias_ih_l{layer}"] + tensors[f"lstm_bias_hh_l{layer}"]
            for layer in range(_LAYERS)
        ]
        self._linear = tensors["linear_weight"].T.copy()
        self._linear_bias = tensors["linear_bias"]

    def embed(self, pieces: Sequence[NDArray[np.float32]]) -> Embeddings:
        """(len(pieces), 256) unit vectors, one per piece of speech; pieces longer than 1.6 s are cut to it."""
        out = np.zeros((len(pieces), EMBEDDING_SIZE), np.float32)
        for first in range(0, len(pieces), _BATCH):
            batch = pieces[first : first + _BATCH]
            out[first : first + len(batch)] = self._embed_batch(batch)
        return out

    def _embed_batch(self, pieces: Sequence[NDArray[np.float32]]) -> Embeddings:
        mels = [mel_spectrogram(_loudened(piece))[:WINDOW_FRAMES] for piece in pieces]
        lengths = np.array([len(mel) for mel in mels])
        frames = np.zeros((len(mels), int(lengths.max()), mels[0].shape[1]), np.float32)
        for row, mel in enumerate(mels):
            frames[row, : len(mel)] = mel
        hidden = frames
        for layer in range(_LAYERS):
            hidden = self._lstm_layer(hidden, layer)
        # The LSTM runs forward only, so each row's state at its own last frame ignores the padding after it.
        final = hidden[np.arange(len(mels)), lengths - 1]
        raw = np.maximum(final @ self._linear + self._linear_bias, 0.0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: Embeddings = (raw / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _lstm_layer(self, inputs: NDArray[np.float32], layer: int) -> NDArray[np.float32]:
        """PyTorch's LSTM (gates in, forget, cell, out), the input projection done for all frames at once."""
        batch, steps, _ = inputs.shape
        projected = inputs @ self._input[layer] + self._bias[layer]
        recurrent = self._recurrent[layer]
        h = np.zeros((batch, _HIDDEN), np.float32)
        c = np.zeros((batch, _HIDDEN), np.float32)
        out = np.empty((batch, steps, _HIDDEN), np.float32)
        for step in range(steps):
            gates = projected[:, step] + h @ recurrent
            i, f, g, o = np.split(gates, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            out[:, step] = h
        return out


@functools.cache
def shared_encoder() -> SpeakerEncoder:
    """The process's one encoder: the weights are read once per worker."""
    return SpeakerEncoder()


def _loudened(samples: NDArray[np.float32]) -> NDArray[np.float32]:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms <= 0.0 or rms >= _TARGET_RMS:
        return samples
    return (samples * (_TARGET_RMS / rms)).astype(np.float32)


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    squashed: NDArray[np.float32] = (0.5 + 0.5 * np.tanh(0.5 * x)).astype(np.float32)
    return squashed
