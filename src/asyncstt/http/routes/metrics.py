"""Prometheus metrics; like `/health` it needs no credentials, so keep the port off the public network or
filter `/metrics` at the proxy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from asyncstt.observability.metrics import Metrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", operation_id="metrics")
def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
