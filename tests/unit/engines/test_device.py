"""Where the engine runs: the device and compute type the settings resolve to, and the workers each device wants."""

from __future__ import annotations

import ctranslate2
import numpy as np
import pytest
from pydantic import ValidationError

from asyncstt.engines.base import SAMPLE_RATE
from asyncstt.engines.catalog import factory, load_engine
from asyncstt.engines.device import resolve_compute_type, resolve_device, workers_wanted
from asyncstt.settings import EngineSettings, Settings


def gpus(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """CTranslate2 sees `count` CUDA devices."""
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: count)


def test_the_cpu_is_the_default_with_int8() -> None:
    settings = EngineSettings()
    assert (settings.device, settings.compute_type) == ("cpu", "auto")
    assert resolve_device(settings) == "cpu"
    assert resolve_compute_type(settings, "cpu") == "int8"


@pytest.mark.parametrize(("count", "device"), [(0, "cpu"), (1, "cuda"), (4, "cuda")])
def test_auto_is_cuda_when_ctranslate2_sees_a_gpu(
    monkeypatch: pytest.MonkeyPatch, count: int, device: str
) -> None:
    gpus(monkeypatch, count)
    assert resolve_device(EngineSettings(device="auto")) == device


def test_a_named_device_stands_whatever_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    gpus(monkeypatch, 2)
    assert resolve_device(EngineSettings(device="cpu")) == "cpu"
    gpus(monkeypatch, 0)
    assert resolve_device(EngineSettings(device="cuda")) == "cuda"


def test_auto_compute_type_suits_the_device_and_a_named_one_stands() -> None:
    auto = EngineSettings(compute_type="auto")
    assert resolve_compute_type(auto, "cpu") == "int8"
    assert resolve_compute_type(auto, "cuda") == "float16"
    named = EngineSettings(compute_type="int8_float16")
    assert (
        resolve_compute_type(named, "cpu") == resolve_compute_type(named, "cuda") == "int8_float16"
    )


def test_one_worker_per_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    gpus(monkeypatch, 2)
    assert workers_wanted(EngineSettings(device="auto"), cpu_cores=16) == 2
    assert workers_wanted(EngineSettings(device="cuda", cpu_threads=4), cpu_cores=16) == 2


def test_on_the_cpu_the_cores_are_shared_out_at_cpu_threads_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gpus(monkeypatch, 0)
    assert workers_wanted(EngineSettings(), cpu_cores=2) == 2
    assert workers_wanted(EngineSettings(device="auto", cpu_threads=2), cpu_cores=2) == 1
    assert workers_wanted(EngineSettings(cpu_threads=4), cpu_cores=2) == 1
    assert workers_wanted(EngineSettings(cpu_threads=0), cpu_cores=3) == 3


def test_the_fake_wants_the_cpu_workers_whatever_device_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gpus(monkeypatch, 2)
    assert workers_wanted(EngineSettings(kind="fake", device="cuda"), cpu_cores=4) == 4


def test_the_fake_ignores_the_device_and_decoder_settings() -> None:
    fake = load_engine(
        EngineSettings(kind="fake", device="cuda", compute_type="float16", batch_size=16)
    )
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = np.concatenate([np.zeros(SAMPLE_RATE // 2), 0.3 * np.sin(2 * np.pi * 440 * t)]).astype(
        np.float32
    )
    assert [(s.start, s.end, s.text) for s in fake.recognise(tone, "en-US")] == [
        (0.5, 1.5, "alpha")
    ]


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCSTT_ENGINE__DEVICE", "auto")
    monkeypatch.setenv("ASYNCSTT_ENGINE__BATCH_SIZE", "8")
    monkeypatch.setenv("ASYNCSTT_ENGINE__COMPUTE_TYPE", "int8_float32")
    engine = Settings().engine
    assert (engine.device, engine.batch_size, engine.compute_type) == ("auto", 8, "int8_float32")


@pytest.mark.parametrize(
    "wrong", [{"device": "tpu"}, {"batch_size": -1}, {"beam_size": 0}, {"cpu_threads": -2}]
)
def test_impossible_settings_are_refused(wrong: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=next(iter(wrong))):
        EngineSettings.model_validate(wrong)


def test_the_worker_log_line_says_where_and_how_the_model_decodes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gpus(monkeypatch, 1)
    batched = EngineSettings(device="auto", batch_size=8)
    assert factory(batched).summary(batched).endswith("(float16 on cuda, batches of 8)")
    sequential = EngineSettings(batch_size=1)
    assert factory(sequential).summary(sequential).endswith("(int8 on cpu, sequential decoder)")
