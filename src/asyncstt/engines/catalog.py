"""The engine catalog: each kind of engine the settings can name, with its factory; and the engines each
process has loaded, one per engine settings.

Describing an engine never loads it: the API process learns which languages are served without importing
CTranslate2 or reading weights.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from asyncstt.engines import device, fake, whisper_model
from asyncstt.engines.base import Engine, EngineCapabilities, EngineFactory
from asyncstt.settings import EngineKind, EngineSettings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class FasterWhisperFactory:
    """Whisper through faster-whisper: described from the model directory's small files."""

    def describe(self, settings: EngineSettings) -> EngineCapabilities:
        return whisper_model.describe(settings)

    def summary(self, settings: EngineSettings) -> str:
        directory = whisper_model.model_dir(settings)
        where = device.resolve_device(settings)
        decoder = (
            f"batches of {settings.batch_size}" if settings.batch_size > 1 else "sequential decoder"
        )
        return (
            f"the faster-whisper model from {directory} "
            f"({device.resolve_compute_type(settings, where)} on {where}, {decoder})"
        )

    def build(self, settings: EngineSettings) -> Engine:
        # Imported here: CTranslate2 and onnxruntime are heavy, and the API process never recognises.
        from asyncstt.engines.faster_whisper import FasterWhisperEngine

        return FasterWhisperEngine(settings)


class FakeFactory:
    """The deterministic fake (`fake.configured`): no model, words where the samples are loud."""

    def describe(self, settings: EngineSettings) -> EngineCapabilities:
        return fake.every_language()

    def summary(self, settings: EngineSettings) -> str:
        return "the fake engine (no model: words where the samples are loud)"

    def build(self, settings: EngineSettings) -> Engine:
        return fake.configured()


#: Every engine kind `EngineSettings.kind` can name, with its factory.
CATALOG: Mapping[EngineKind, EngineFactory] = MappingProxyType(
    {"faster-whisper": FasterWhisperFactory(), "fake": FakeFactory()}
)


def factory(settings: EngineSettings) -> EngineFactory:
    """The factory of the engine kind the settings name."""
    return CATALOG[settings.kind]


def describe_engine(settings: EngineSettings) -> EngineCapabilities:
    """What the configured engine can do, without loading it."""
    return factory(settings).describe(settings)


def load_engine(settings: EngineSettings) -> Engine:
    """The engine for `settings`, loaded once per process and kept: later calls return the same instance."""
    key = settings.model_dump_json()
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = factory(settings).build(settings)
        return engine
