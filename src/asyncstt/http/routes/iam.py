"""`POST /iam/v1/tokens`: a service account's signed JWT exchanged for an IAM token; needs no credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from yandex.cloud.iam.v1.iam_token_service_pb2 import (
    CreateIamTokenRequest,
    CreateIamTokenResponse,
)

from asyncstt.errors import InvalidArgument
from asyncstt.http.deps import BodyDep
from asyncstt.iam.tokens import TOKEN_PATH, TokenService, token_url
from asyncstt.wire.json_body import load_object, parse_into
from asyncstt.wire.lengths import check_lengths

router = APIRouter(tags=["iam"])


@router.post(TOKEN_PATH, operation_id="createIamToken")
def create_iam_token(request: Request, body: BodyDep) -> JSONResponse:
    """`{"jwt": "…"}` → `{"iamToken": "…", "expiresAt": "…Z"}`.

    The JWT's `aud` may be this endpoint's URL as the client reached it, or one of the configured audiences
    (the public service's URL by default).
    """
    message = parse_into(load_object(body), CreateIamTokenRequest())
    check_lengths(message)
    if message.WhichOneof("identity") != "jwt" or not message.jwt:
        raise InvalidArgument(
            'send {"jwt": "..."}: a JWT signed with an authorized key of the service account; '
            "OAuth tokens are not accepted"
        )
    tokens: TokenService = request.app.state.tokens
    issued = tokens.exchange_jwt(message.jwt, token_url(str(request.base_url)))
    response = CreateIamTokenResponse(iam_token=issued.iam_token)
    response.expires_at.FromDatetime(issued.expires_at)
    return JSONResponse(json_format.MessageToDict(response))
