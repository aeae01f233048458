"""The pipeline's harnesses (real store, real decoding and planning, the real engine) for speaker labeling."""

from __future__ import annotations

from tests.integration.pipeline.conftest import harness_factory

__all__ = ["harness_factory"]
