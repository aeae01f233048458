"""The mel spectrogram against librosa's, which the encoder was trained on."""

from __future__ import annotations

import numpy as np
import pytest

from asyncstt.speakers.mel import (
    HOP,
    N_MELS,
    SAMPLE_RATE,
    hz_to_mel,
    mel_filterbank,
    mel_spectrogram,
    mel_to_hz,
)

# librosa 0.11 `filters.mel(sr=16000, n_fft=400, n_mels=40)`: bands 0, 5, 20 and 39 (sum, peak bin, peak).
LIBROSA_BANDS = {
    0: (0.02480904, 2, 0.01240452),
    5: (0.02573447, 11, 0.01332995),
    20: (0.02521975, 44, 0.00719192),
    39: (0.02497876, 185, 0.00172494),
}


@pytest.mark.parametrize("band", sorted(LIBROSA_BANDS))
def test_filterbank_is_librosas_slaney_filterbank(band: int) -> None:
    total, peak_bin, peak = LIBROSA_BANDS[band]
    filters = mel_filterbank()
    assert filters.shape == (N_MELS, 201)
    assert filters[band].sum() == pytest.approx(total, rel=1e-5)
    assert int(filters[band].argmax()) == peak_bin
    assert filters[band].max() == pytest.approx(peak, rel=1e-5)


def test_slaney_scale_is_linear_to_1_khz_then_logarithmic() -> None:
    hz = np.array([0.0, 200.0, 1000.0, 6400.0])
    assert hz_to_mel(hz) == pytest.approx([0.0, 3.0, 15.0, 42.0])
    assert mel_to_hz(hz_to_mel(hz)) == pytest.approx(hz)


def test_a_tone_lights_the_band_around_its_frequency() -> None:
    seconds = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * seconds)).astype(np.float32)
    frames = mel_spectrogram(tone)
    assert frames.shape == (1 + SAMPLE_RATE // HOP, N_MELS)
    loudest = int(frames[50].argmax())
    edges = mel_to_hz(np.linspace(0.0, float(hz_to_mel(np.array(8000.0))), N_MELS + 2))
    assert edges[loudest] < 1000 < edges[loudest + 2]
    assert frames[50, loudest] > 100 * np.median(frames[50])
