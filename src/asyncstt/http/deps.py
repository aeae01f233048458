"""Typed dependencies of the routes: the service, the caller, and the raw request body."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from asyncstt.auth import Authenticator, Principal
from asyncstt.errors import InvalidArgument
from asyncstt.service import OperationService

_MB = 1024**2


def get_service(request: Request) -> OperationService:
    service: OperationService = request.app.state.service
    return service


def get_principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.authenticate(authorization)


async def read_body(request: Request) -> bytes:
    """The raw body, refused early when it is far larger than any acceptable request.

    The cap is twice the inline-content limit (base64 adds a third), so an inline file just over the limit
    still reaches the service and gets its precise message.
    """
    limit: int = request.app.state.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> InvalidArgument:
    return InvalidArgument(
        f"the request body is over {limit // _MB} MB; put the file in a bucket and send its link as audio.uri"
    )


ServiceDep = Annotated[OperationService, Depends(get_service)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
BodyDep = Annotated[bytes, Depends(read_body)]
