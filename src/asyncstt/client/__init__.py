"""The Python client of the asyncstt REST API (and of SpeechKit's, which it speaks): `Client` and its asyncio
twin `AsyncClient`. See docs/client.md."""

from __future__ import annotations

from asyncstt.client.aio import AsyncClient
from asyncstt.client.errors import ClientError
from asyncstt.client.models import (
    Api,
    Encoding,
    OperationStatus,
    Progress,
    Recognition,
    Upload,
)
from asyncstt.client.sync import Client

__all__ = [
    "Api",
    "AsyncClient",
    "Client",
    "ClientError",
    "Encoding",
    "OperationStatus",
    "Progress",
    "Recognition",
    "Upload",
]
