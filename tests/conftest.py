"""Fixtures shared by every tier. Service fixtures live in `tests/support/` as plugins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name in [n for n in os.environ if n.startswith("ASYNCSTT_")]:
    del os.environ[_name]

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.s3server",
    "tests.support.audio",
    "tests.support.dask_cluster",
]

REFERENCE_AUDIO = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def reference_audio() -> Path:
    """The directory with the reference recordings (`jfk.wav`, `ru-neural-networks.wav`)."""
    return REFERENCE_AUDIO
