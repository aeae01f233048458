"""Where slices run: Dask distributed, or threads in this process for tests."""

from __future__ import annotations
