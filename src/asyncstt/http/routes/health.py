"""Liveness probe; needs no credentials."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health")
def health() -> dict[str, str]:
    return {"status": "ok"}
