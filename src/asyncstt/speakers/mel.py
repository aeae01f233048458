"""The speaker encoder's input: the mel power spectrogram of 16 kHz audio, 40 bands, 25 ms windows every 10 ms.

The same frames as resemblyzer computes with librosa (`librosa.feature.melspectrogram` with its defaults: a
periodic Hann window, centred frames padded with zeros, power 2, Slaney's mel scale and area normalisation), in
numpy alone, because the encoder was trained on exactly those.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 16000
#: 25 ms analysis window, which is also the FFT size.
N_FFT = 400
#: 10 ms between frames.
HOP = 160
N_MELS = 40

# Slaney's mel scale: linear below 1 kHz (3 mels every 200 Hz), logarithmic above (27 mels per factor of 6.4).
_LINEAR_HZ_PER_MEL = 200.0 / 3
_BREAK_HZ = 1000.0
_BREAK_MEL = _BREAK_HZ / _LINEAR_HZ_PER_MEL
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: NDArray[np.float64]) -> NDArray[np.float64]:
    linear = hz / _LINEAR_HZ_PER_MEL
    logarithmic = _BREAK_MEL + np.log(np.maximum(hz, _BREAK_HZ) / _BREAK_HZ) / _LOG_STEP
    return np.where(hz >= _BREAK_HZ, logarithmic, linear)


def mel_to_hz(mel: NDArray[np.float64]) -> NDArray[np.float64]:
    linear = mel * _LINEAR_HZ_PER_MEL
    logarithmic = _BREAK_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _BREAK_MEL) - _BREAK_MEL))
    return np.where(mel >= _BREAK_MEL, logarithmic, linear)


@functools.cache
def mel_filterbank() -> NDArray[np.float32]:
    """(N_MELS, N_FFT // 2 + 1) triangular filters from 0 Hz to Nyquist, each of unit area on the Hz axis."""
    fft_hz = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(np.array(SAMPLE_RATE / 2.0)), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, np.newaxis] - fft_hz[np.newaxis, :]
    rising = -ramps[:-2] / widths[:-1, np.newaxis]
    falling = ramps[2:] / widths[1:, np.newaxis]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, np.newaxis]
    return weights.astype(np.float32)


@functools.cache
def _window() -> NDArray[np.float32]:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)


def frame_count(samples: int) -> int:
    """How many frames `mel_spectrogram` gives for that many samples."""
    return 1 + samples // HOP


def mel_spectrogram(samples: NDArray[np.float32]) -> NDArray[np.float32]:
    """(frames, N_MELS) mel power frames of 16 kHz mono samples; frame i is centred on sample i * HOP."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2)
    count = frame_count(len(samples))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    power = np.abs(np.fft.rfft(frames * _window(), axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filterbank().T).astype(np.float32)
