"""`yandex.cloud.endpoint.ApiEndpointService`: endpoint discovery, the first call of both SDKs; unauthenticated.

Every service id the SDKs look up is answered with the one public address, where this server serves them all.
"""

from __future__ import annotations

import grpc
from yandex.cloud.endpoint import api_endpoint_service_pb2_grpc
from yandex.cloud.endpoint.api_endpoint_pb2 import ApiEndpoint
from yandex.cloud.endpoint.api_endpoint_service_pb2 import (
    GetApiEndpointRequest,
    ListApiEndpointsRequest,
    ListApiEndpointsResponse,
)

from asyncstt.errors import NotFound
from asyncstt.grpc.context import Door, rpc

#: The ids clients look up: v3 STT (ai-studio), STT v2 and v3 (yandexcloud), SpeechKit, operations, IAM tokens,
#: and discovery itself.
ENDPOINT_IDS = ("ai-stt-v3", "ai-stt", "ai-speechkit", "operation", "iam", "endpoint")


class ApiEndpointService(api_endpoint_service_pb2_grpc.ApiEndpointServiceServicer):
    def __init__(self, door: Door) -> None:
        self.door = door

    @rpc("/yandex.cloud.endpoint.ApiEndpointService/List")
    def List(
        self, request: ListApiEndpointsRequest, context: grpc.ServicerContext
    ) -> ListApiEndpointsResponse:
        """Every endpoint at once: paging is ignored, as the SDKs ignore the next page token."""
        return ListApiEndpointsResponse(endpoints=[self._endpoint(id_) for id_ in ENDPOINT_IDS])

    @rpc("/yandex.cloud.endpoint.ApiEndpointService/Get")
    def Get(self, request: GetApiEndpointRequest, context: grpc.ServicerContext) -> ApiEndpoint:
        if request.api_endpoint_id not in ENDPOINT_IDS:
            raise NotFound(
                f"no API endpoint {request.api_endpoint_id[:64]}; this server has "
                + ", ".join(ENDPOINT_IDS)
            )
        return self._endpoint(request.api_endpoint_id)

    def _endpoint(self, endpoint_id: str) -> ApiEndpoint:
        return ApiEndpoint(id=endpoint_id, address=self.door.public_address)
