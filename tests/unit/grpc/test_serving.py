"""The gRPC door inside a whole server process (SQLite store, thread executor): it starts after REST, answers
over the same store and identity, and stops first."""

from __future__ import annotations

import base64
from pathlib import Path

import grpc
import httpx
from yandex.cloud.endpoint.api_endpoint_service_pb2 import ListApiEndpointsRequest
from yandex.cloud.endpoint.api_endpoint_service_pb2_grpc import ApiEndpointServiceStub
from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.clock import utcnow
from asyncstt.executor.threads import ThreadExecutor
from asyncstt.iam.api_keys import create_api_key
from asyncstt.server.assembly import build
from asyncstt.server.process import Server, free_port
from asyncstt.settings import EngineSettings, GrpcSettings, Settings
from tests.unit.grpc.conftest import open_channel, refused

JFK = Path(__file__).resolve().parents[3] / "examples" / "jfk.wav"
WAV = {"audioFormat": {"containerAudio": {"containerAudioType": "WAV"}}}


def settings(tmp_path: Path, grpc_port: int) -> Settings:
    return Settings(
        data_dir=tmp_path,
        port=free_port(),
        engine=EngineSettings(kind="fake"),
        grpc=GrpcSettings(port=grpc_port),
    )


def test_a_server_serves_grpc_beside_rest_and_stops_it(tmp_path: Path) -> None:
    port = free_port()
    configured = settings(tmp_path, port)
    server = Server(configured, build(configured, ThreadExecutor()))
    assert server.grpc is not None
    assert (server.grpc.address, server.grpc.tls) == (f"127.0.0.1:{port}", False)
    with server, open_channel(f"127.0.0.1:{port}") as channel:
        _, key = create_api_key(server.components.identity, "b1gteam", "ajerobot", utcnow())
        listed = ApiEndpointServiceStub(channel).List(ListApiEndpointsRequest())
        assert {e.address for e in listed.endpoints} == {f"127.0.0.1:{port}"}
        submitted = httpx.post(
            f"{server.url}/stt/v3/recognizeFileAsync",
            json={"content": base64.b64encode(JFK.read_bytes()).decode(), "recognitionModel": WAV},
            headers={"Authorization": f"Api-Key {key}"},
        )
        assert submitted.status_code == 200
        operation_id = submitted.json()["id"]
        stub = OperationServiceStub(channel)
        # What REST accepted, gRPC reads from the same store with the same key.
        found = stub.Get(
            GetOperationRequest(operation_id=operation_id),
            metadata=(("authorization", f"Api-Key {key}"),),
        )
        assert (found.id, found.created_by) == (operation_id, "ajerobot")
        error = refused(
            lambda: stub.Get(
                GetOperationRequest(operation_id="f8dnone"),
                metadata=(("authorization", f"Api-Key {key}"),),
            )
        )
        assert (error.code(), error.details()) == (
            grpc.StatusCode.NOT_FOUND,
            "operation f8dnone not found",
        )
    with open_channel(f"127.0.0.1:{port}") as channel:
        stopped = refused(
            lambda: ApiEndpointServiceStub(channel).List(ListApiEndpointsRequest(), timeout=2)
        )
        assert stopped.code() is grpc.StatusCode.UNAVAILABLE


def test_grpc_port_0_serves_no_grpc(tmp_path: Path) -> None:
    configured = settings(tmp_path, 0)
    server = Server(configured, build(configured, ThreadExecutor()))
    with server:
        assert server.grpc is None
        assert httpx.get(f"{server.url}/health").status_code == 200
