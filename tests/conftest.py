"""Fixtures shared by every tier. Service fixtures live in `tests/support/` as plugins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name in [n for n in os.environ if n.startswith("ASYNCSTT_")]:
    del os.environ[_name]
# One BLAS thread, as Dask's nanny gives every worker, set before the plugins below load numpy: the speaker
# encoder's small matrix products slow down many times over when BLAS threads fight over busy cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
