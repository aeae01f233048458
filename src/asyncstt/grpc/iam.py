"""`yandex.cloud.iam.v1.IamTokenService/Create`: a service account's signed JWT exchanged for an IAM token, by the
rules of `POST /iam/v1/tokens`; unauthenticated.

The yandexcloud SDK signs its JWT for `https://iam.<the endpoint it was given>/iam/v1/tokens`, so the audience
accepted is built from the door's public address; the configured audiences are accepted too. It asks again on
every channel every 20 s or so, with the same JWT within a second, so a JWT may be exchanged more than once.
"""

from __future__ import annotations

import grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2_grpc
from yandex.cloud.iam.v1.iam_token_service_pb2 import (
    CreateIamTokenForServiceAccountRequest,
    CreateIamTokenRequest,
    CreateIamTokenResponse,
    RevokeIamTokenRequest,
    RevokeIamTokenResponse,
)

from asyncstt.errors import InvalidArgument
from asyncstt.grpc.context import Door, rpc
from asyncstt.grpc.errors import Unimplemented
from asyncstt.iam.tokens import token_url
from asyncstt.wire.lengths import check_lengths

_ONLY_CREATE = "this server only exchanges a service account's JWT for an IAM token (Create)"


class IamTokenService(iam_token_service_pb2_grpc.IamTokenServiceServicer):
    def __init__(self, door: Door) -> None:
        self.door = door

    @property
    def audience(self) -> str:
        """The token URL that clients of this door sign their JWTs for."""
        return token_url(f"https://iam.{self.door.public_address}")

    @rpc("/yandex.cloud.iam.v1.IamTokenService/Create")
    def Create(
        self, request: CreateIamTokenRequest, context: grpc.ServicerContext
    ) -> CreateIamTokenResponse:
        check_lengths(request)
        if request.WhichOneof("identity") != "jwt" or not request.jwt:
            raise InvalidArgument(
                "send jwt: a JWT signed with an authorized key of the service account; "
                "OAuth tokens are not accepted"
            )
        issued = self.door.authenticator.tokens.exchange_jwt(request.jwt, self.audience)
        response = CreateIamTokenResponse(iam_token=issued.iam_token)
        response.expires_at.FromDatetime(issued.expires_at)
        return response

    @rpc("/yandex.cloud.iam.v1.IamTokenService/CreateForServiceAccount")
    def CreateForServiceAccount(
        self, request: CreateIamTokenForServiceAccountRequest, context: grpc.ServicerContext
    ) -> CreateIamTokenResponse:
        raise Unimplemented(_ONLY_CREATE)

    @rpc("/yandex.cloud.iam.v1.IamTokenService/Revoke")
    def Revoke(
        self, request: RevokeIamTokenRequest, context: grpc.ServicerContext
    ) -> RevokeIamTokenResponse:
        raise Unimplemented(f"{_ONLY_CREATE}; an IAM token stays valid until it expires")
