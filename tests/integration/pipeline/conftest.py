"""Fixtures of the pipeline's integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from asyncstt.clock import utcnow
from asyncstt.dispatch.slice_pipeline import SliceFn
from asyncstt.engines.base import EngineCapabilities
from asyncstt.engines.catalog import describe_engine
from asyncstt.settings import EngineSettings, ExecutionSettings, FileSourceSettings, Settings
from asyncstt.store.sql import SqlStore
from tests.support.dispatching import STAND_IN, Harness, RecordingExecutor


@pytest.fixture
def harness_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Harness]]:
    """Harnesses on SQLite; a test marked `on_postgresql` gets PostgreSQL instead.

    `make(recognise)` recognises slices with a stand-in (`stand_in()`) and its capabilities; without one, with
    the real engine. With a stand-in and no capabilities of its own the engine settings name the fake engine,
    so slices cover the whole file cut at quiet points, as they do for every engine without a VAD: a stand-in
    hears everything.
    """
    on_postgresql = request.node.get_closest_marker("on_postgresql") is not None
    store_url: str = request.getfixturevalue("postgres_url" if on_postgresql else "sqlite_url")
    made: list[Harness] = []

    def make(
        recognise: SliceFn | None = None,
        capabilities: EngineCapabilities | None = None,
        submit_clock: Callable[[], datetime] = utcnow,
        **execution: Any,
    ) -> Harness:
        stand_in = recognise is not None and capabilities is None
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=store_url,
            file_sources=FileSourceSettings(root=tmp_path.parent.parent),
            execution=ExecutionSettings(**{"poll_interval_seconds": 0.05, **execution}),
            engine=EngineSettings(kind="fake") if stand_in else EngineSettings(),
        )
        if capabilities is None:
            capabilities = STAND_IN if stand_in else describe_engine(settings.engine)
        harness = Harness(
            settings,
            SqlStore(store_url),
            RecordingExecutor(),
            capabilities,
            submit_clock,
            recognise,
        )
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.dispatcher.stop()
        harness.executor.close()
        harness.store.close()
