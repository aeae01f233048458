"""Endpoint discovery: every id both SDKs look up, at the door's public address, without credentials."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from yandex.cloud.endpoint.api_endpoint_service_pb2 import (
    GetApiEndpointRequest,
    ListApiEndpointsRequest,
)
from yandex.cloud.endpoint.api_endpoint_service_pb2_grpc import ApiEndpointServiceStub

from tests.unit.grpc.conftest import GrpcHarness, refused

IDS = ["ai-stt-v3", "ai-stt", "ai-speechkit", "operation", "iam", "endpoint"]


def test_list_answers_the_six_ids_at_the_listening_address(grpc_harness: GrpcHarness) -> None:
    answer = grpc_harness.stub(ApiEndpointServiceStub).List(ListApiEndpointsRequest())
    address = f"127.0.0.1:{grpc_harness.server.port}"
    assert grpc_harness.door.public_address == address
    assert [(e.id, e.address) for e in answer.endpoints] == [(id_, address) for id_ in IDS]
    assert answer.next_page_token == ""


def test_list_ignores_paging(grpc_harness: GrpcHarness) -> None:
    answer = grpc_harness.stub(ApiEndpointServiceStub).List(
        ListApiEndpointsRequest(page_size=1, page_token="p2")  # noqa: S106
    )
    assert [e.id for e in answer.endpoints] == IDS


def test_a_configured_public_address_is_handed_out(
    make_grpc: Callable[..., GrpcHarness],
) -> None:
    harness = make_grpc(grpc={"public_address": "stt.example.com:443"})
    answer = harness.stub(ApiEndpointServiceStub).List(ListApiEndpointsRequest())
    assert {e.address for e in answer.endpoints} == {"stt.example.com:443"}


@pytest.mark.parametrize("endpoint_id", IDS)
def test_get_answers_a_known_id(grpc_harness: GrpcHarness, endpoint_id: str) -> None:
    endpoint = grpc_harness.stub(ApiEndpointServiceStub).Get(
        GetApiEndpointRequest(api_endpoint_id=endpoint_id)
    )
    assert (endpoint.id, endpoint.address) == (endpoint_id, grpc_harness.door.public_address)


def test_get_of_an_unknown_id_is_not_found(grpc_harness: GrpcHarness) -> None:
    stub = grpc_harness.stub(ApiEndpointServiceStub)
    error = refused(lambda: stub.Get(GetApiEndpointRequest(api_endpoint_id="compute")))
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert error.details() == (
        "no API endpoint compute; this server has "
        "ai-stt-v3, ai-stt, ai-speechkit, operation, iam, endpoint"
    )
