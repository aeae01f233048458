"""The client's integration tier reuses the in-process app of its unit tests."""

from __future__ import annotations

from tests.unit.client.conftest import client, server
from tests.unit.http.conftest import harness, make_harness

__all__ = ["client", "harness", "make_harness", "server"]
