"""Where an engine runs: the device and compute type the engine settings resolve to, and how many worker
processes that device wants.

CTranslate2 is imported only when a setting asks to look for a GPU (`auto`), so an API process that resolves
the default `cpu` settings never loads it.
"""

from __future__ import annotations

from typing import Literal

from asyncstt.settings import EngineSettings

Device = Literal["cpu", "cuda"]

#: The compute type each device gets when the settings say `auto`: int8 is the fastest on a CPU and keeps
#: Whisper's accuracy; GPUs run float16 natively, and int8 there saves memory, not time.
AUTO_COMPUTE_TYPES: dict[Device, str] = {"cpu": "int8", "cuda": "float16"}


def cuda_devices() -> int:
    """How many CUDA devices CTranslate2 can use on this machine (0 without a GPU or without CUDA)."""
    import ctranslate2

    return int(ctranslate2.get_cuda_device_count())


def resolve_device(settings: EngineSettings) -> Device:
    """The device the settings name; `auto` is `cuda` when CTranslate2 sees a CUDA device, else `cpu`."""
    if settings.device == "auto":
        return "cuda" if cuda_devices() > 0 else "cpu"
    return settings.device


def resolve_compute_type(settings: EngineSettings, device: Device) -> str:
    """The compute type the settings name, or the one that suits `device` when they say `auto`."""
    if settings.compute_type == "auto":
        return AUTO_COMPUTE_TYPES[device]
    return settings.compute_type


def workers_wanted(settings: EngineSettings, cpu_cores: int) -> int:
    """How many worker processes the engine wants on a machine with `cpu_cores` cores, when the executor is
    told to choose: one per GPU on CUDA (one engine keeps a GPU busy, and each copy would cost its memory), and
    on the CPU as many as the cores hold at `cpu_threads` threads each (one per core at one thread)."""
    if settings.kind == "faster-whisper" and resolve_device(settings) == "cuda":
        return max(cuda_devices(), 1)
    return max(cpu_cores // max(settings.cpu_threads, 1), 1)
