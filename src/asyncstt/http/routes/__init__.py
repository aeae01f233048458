"""REST routes, one module per API surface."""

from __future__ import annotations
