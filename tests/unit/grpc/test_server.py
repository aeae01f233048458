"""The gRPC server itself: the services it registers, health and reflection, TLS, its message limit, its port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import ValidationError
from yandex.cloud.endpoint.api_endpoint_service_pb2 import ListApiEndpointsRequest
from yandex.cloud.endpoint.api_endpoint_service_pb2_grpc import ApiEndpointServiceStub

from asyncstt.grpc.server import GrpcServer, GrpcServerError
from asyncstt.settings import GrpcSettings, Settings
from tests.support.tls import self_signed
from tests.unit.grpc.conftest import GrpcHarness, open_channel, refused

SERVICES = {
    "speechkit.stt.v3.AsyncRecognizer",
    "yandex.cloud.ai.stt.v2.SttService",
    "yandex.cloud.endpoint.ApiEndpointService",
    "yandex.cloud.iam.v1.IamTokenService",
    "yandex.cloud.operation.OperationService",
}
HEALTH = "grpc.health.v1.Health"
REFLECTION = "grpc.reflection.v1alpha.ServerReflection"


def test_every_service_is_registered(grpc_harness: GrpcHarness) -> None:
    assert set(grpc_harness.server.services) == SERVICES


def test_health_reports_every_service_serving(grpc_harness: GrpcHarness) -> None:
    stub = health_pb2_grpc.HealthStub(grpc_harness.channel)
    for name in ["", *SERVICES]:
        answer = stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, name
    error = refused(lambda: stub.Check(health_pb2.HealthCheckRequest(service="nope.Service")))
    assert error.code() is grpc.StatusCode.NOT_FOUND


def test_health_turns_not_serving_when_the_server_stops(grpc_harness: GrpcHarness) -> None:
    stub = health_pb2_grpc.HealthStub(grpc_harness.channel)
    watch = stub.Watch(
        health_pb2.HealthCheckRequest(service="yandex.cloud.operation.OperationService")
    )
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    stopping = threading.Thread(target=grpc_harness.server.stop, args=(5,))
    stopping.start()
    assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    watch.cancel()
    stopping.join(10)
    assert not stopping.is_alive()


def test_reflection_lists_every_service(grpc_harness: GrpcHarness) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(grpc_harness.channel)
    [answer] = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    listed = {service.name for service in answer.list_services_response.service}
    assert listed == {*SERVICES, HEALTH, REFLECTION}


def test_reflection_describes_a_service(grpc_harness: GrpcHarness) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(grpc_harness.channel)
    request = reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="speechkit.stt.v3.AsyncRecognizer"
    )
    [answer] = stub.ServerReflectionInfo(iter([request]))
    assert answer.file_descriptor_response.file_descriptor_proto


def test_a_ten_megabyte_message_is_received(grpc_harness: GrpcHarness) -> None:
    big = ListApiEndpointsRequest(page_token="x" * (10 * 1024**2))
    answer = grpc_harness.stub(ApiEndpointServiceStub).List(big)
    assert len(answer.endpoints) == 6


def test_the_default_limit_is_above_the_inline_cap(grpc_harness: GrpcHarness) -> None:
    settings = grpc_harness.door.settings
    assert settings.grpc.receive_limit(settings.limits) == 2 * 60 * 1024**2 + 1024**2


def test_a_message_over_the_configured_limit_is_refused(
    make_grpc: Callable[..., GrpcHarness],
) -> None:
    harness = make_grpc(grpc={"max_receive_bytes": 1024**2})
    big = ListApiEndpointsRequest(page_token="x" * (2 * 1024**2))
    stub = harness.stub(ApiEndpointServiceStub)
    assert refused(lambda: stub.List(big)).code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_tls_with_a_self_signed_certificate(
    make_grpc: Callable[..., GrpcHarness], tmp_path: Path
) -> None:
    pem = self_signed(tmp_path)
    harness = make_grpc(
        grpc={"tls_cert": pem.cert, "tls_key": pem.key}, root_certificates=pem.cert_pem
    )
    assert harness.server.tls
    answer = harness.stub(ApiEndpointServiceStub).List(ListApiEndpointsRequest())
    assert {e.address for e in answer.endpoints} == {f"127.0.0.1:{harness.server.port}"}
    with open_channel(f"localhost:{harness.server.port}", pem.cert_pem) as by_name:
        assert ApiEndpointServiceStub(by_name).List(ListApiEndpointsRequest()).endpoints
    with open_channel(harness.address) as plaintext:
        stub = ApiEndpointServiceStub(plaintext)
        error = refused(lambda: stub.List(ListApiEndpointsRequest(), timeout=5))
        assert error.code() is grpc.StatusCode.UNAVAILABLE


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert = self_signed(tmp_path).cert
    message = (
        "the gRPC TLS certificate and key go together: give both tls_cert and tls_key, or neither"
    )
    with pytest.raises(ValidationError, match=message):
        Settings(grpc={"tls_key": tmp_path / "key.pem"})
    with pytest.raises(ValidationError, match=message):
        GrpcSettings(tls_cert=cert)


def test_a_certificate_without_its_key_is_refused_by_the_server_too(
    grpc_harness: GrpcHarness, tmp_path: Path
) -> None:
    cert = self_signed(tmp_path).cert
    # model_copy does not validate, so the server checks the pair itself.
    settings = GrpcSettings().model_copy(update={"tls_cert": cert})
    with pytest.raises(GrpcServerError, match="the gRPC TLS certificate and key go together"):
        GrpcServer(grpc_harness.door, settings, port=0)


def test_an_unreadable_certificate_is_refused(grpc_harness: GrpcHarness, tmp_path: Path) -> None:
    settings = GrpcSettings(tls_cert=tmp_path / "missing.pem", tls_key=tmp_path / "key.pem")
    with pytest.raises(GrpcServerError, match="cannot read the gRPC TLS certificate or key"):
        GrpcServer(grpc_harness.door, settings, port=0)


def test_a_port_in_use_is_refused(grpc_harness: GrpcHarness) -> None:
    taken = grpc_harness.server.port
    with pytest.raises(GrpcServerError, match=f"could not listen on 127.0.0.1:{taken}"):
        GrpcServer(grpc_harness.door, port=taken)


def test_a_door_that_is_off_is_not_built(grpc_harness: GrpcHarness) -> None:
    with pytest.raises(GrpcServerError, match="off"):
        GrpcServer(grpc_harness.door, GrpcSettings(port=0))


def _sockets(port: int, count: int) -> list[socket.socket]:
    opened = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        opened.append(connection)
    return opened


def _read_to_close(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket's timeout bounds the wait)."""
    received = b""
    while chunk := connection.recv(4096):
        received += chunk
    return received


def test_sockets_that_never_handshake_are_closed_and_past_the_cap_refused(
    grpc_harness: GrpcHarness,
) -> None:
    settings = GrpcSettings(port=0, handshake_timeout_seconds=0.5, max_connections=4)
    server = GrpcServer(grpc_harness.door, settings, port=0)
    server.start()
    try:
        silent = _sockets(server.port, 6)
        started = time.monotonic()
        answers = [_read_to_close(connection) for connection in silent]
        # Four were let in and given up on at the handshake timeout; the two past the cap were closed unread.
        assert sum(b"handshake timeout" in answer for answer in answers) == 4
        assert answers[4:] == [b"", b""]
        assert time.monotonic() - started < 4
        with open_channel(f"127.0.0.1:{server.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            answer = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        for connection in silent:
            connection.close()
    finally:
        server.stop(1)
