"""The REST front door: FastAPI routes over OperationService."""

from __future__ import annotations
