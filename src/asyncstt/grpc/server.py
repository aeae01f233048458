"""The gRPC server: every service of the front door on one port, with the standard health and reflection
services, over TLS when a certificate is configured."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from yandex.cloud.ai.stt.v2 import stt_service_pb2 as stt_v2_pb2
from yandex.cloud.ai.stt.v2 import stt_service_pb2_grpc as stt_v2_pb2_grpc
from yandex.cloud.ai.stt.v3 import stt_service_pb2 as stt_v3_pb2
from yandex.cloud.ai.stt.v3 import stt_service_pb2_grpc as stt_v3_pb2_grpc
from yandex.cloud.endpoint import api_endpoint_service_pb2, api_endpoint_service_pb2_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc
from yandex.cloud.operation import operation_service_pb2, operation_service_pb2_grpc

from asyncstt.grpc.context import Door
from asyncstt.grpc.endpoints import ApiEndpointService
from asyncstt.grpc.iam import IamTokenService
from asyncstt.grpc.operations import OperationService
from asyncstt.grpc.recognizer import AsyncRecognizerService
from asyncstt.grpc.stt_v2 import SttV2Service
from asyncstt.settings import GrpcSettings

log = logging.getLogger(__name__)

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - recognised, not bound


class GrpcServerError(RuntimeError):
    """The gRPC server cannot be built as configured: its port is taken, its certificate unreadable."""


@dataclass(frozen=True)
class Registration:
    """One service of the door: its servicer, the generated function that adds it to a server, and its full
    name (for health and reflection)."""

    servicer: object
    add_to_server: Callable[[Any, grpc.Server], None]
    name: str


def registrations(door: Door) -> list[Registration]:
    """Every service the door serves; health and reflection come on top."""
    return [
        Registration(
            AsyncRecognizerService(door),
            stt_v3_pb2_grpc.add_AsyncRecognizerServicer_to_server,
            _service_name(stt_v3_pb2, "AsyncRecognizer"),
        ),
        Registration(
            SttV2Service(door),
            stt_v2_pb2_grpc.add_SttServiceServicer_to_server,
            _service_name(stt_v2_pb2, "SttService"),
        ),
        Registration(
            ApiEndpointService(door),
            api_endpoint_service_pb2_grpc.add_ApiEndpointServiceServicer_to_server,
            _service_name(api_endpoint_service_pb2, "ApiEndpointService"),
        ),
        Registration(
            IamTokenService(door),
            iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server,
            _service_name(iam_token_service_pb2, "IamTokenService"),
        ),
        Registration(
            OperationService(door),
            operation_service_pb2_grpc.add_OperationServiceServicer_to_server,
            _service_name(operation_service_pb2, "OperationService"),
        ),
    ]


def _service_name(module: Any, service: str) -> str:
    name: str = module.DESCRIPTOR.services_by_name[service].full_name
    return name


class GrpcServer:
    """The gRPC front door on `door.settings.host`, port `settings.port` unless `port` is given (0: any free
    port, for tests; a settings port of 0 means the door is off and cannot be built).

    The port is bound when the server is built, so `port` and `door.public_address` (the listening address
    unless the settings name one) are known before `start()`.
    """

    def __init__(
        self, door: Door, settings: GrpcSettings | None = None, *, port: int | None = None
    ) -> None:
        self.settings = settings or door.settings.grpc
        if port is None and self.settings.port == 0:
            raise GrpcServerError("the gRPC front door is off (port 0); give it a port to build it")
        limit = self.settings.receive_limit(door.settings.limits)
        self._executor = ThreadPoolExecutor(self.settings.workers, thread_name_prefix="grpc")
        self._server = grpc.server(
            self._executor,
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
                # Two servers on one port would share its calls silently; the second must fail instead.
                ("grpc.so_reuseport", 0),
                # The gRPC door shares the process's open files with the REST door: sockets that never
                # handshake, connections left idle and floods of connections are shed rather than kept.
                ("grpc.server_handshake_timeout_ms", _ms(self.settings.handshake_timeout_seconds)),
                ("grpc.max_connection_idle_ms", _ms(self.settings.idle_timeout_seconds)),
                ("grpc.max_allowed_incoming_connections", self.settings.max_connections),
            ],
        )
        self.host = door.settings.host
        self.port = self._bind(self.settings.port if port is None else port)
        self.tls = self.settings.tls_pair() is not None
        self.address = _address(self.host, self.port)
        self.door = dataclasses.replace(
            door, public_address=door.public_address or self.settings.public_address or self.address
        )
        self.services = self._register()
        self._health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (*self.services, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )

    def _bind(self, port: int) -> int:
        target = _address(self.host, port)
        try:
            pair = self.settings.tls_pair()
            if pair is None:
                bound = self._server.add_insecure_port(target)
            else:
                cert, key = pair
                credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
                bound = self._server.add_secure_port(target, credentials)
        except ValueError as exc:
            raise GrpcServerError(str(exc)) from exc
        except OSError as exc:
            raise GrpcServerError(f"cannot read the gRPC TLS certificate or key: {exc}") from exc
        except RuntimeError as exc:
            raise GrpcServerError(f"the gRPC server could not listen on {target}: {exc}") from exc
        if bound == 0:
            raise GrpcServerError(f"the gRPC server could not listen on {target}")
        return bound

    def _register(self) -> tuple[str, ...]:
        services = registrations(self.door)
        for service in services:
            service.add_to_server(service.servicer, self._server)
        return tuple(service.name for service in services)

    def start(self) -> None:
        """Serve, and report every service SERVING to health checks."""
        self._server.start()
        self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        for name in self.services:
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        host = self.door.public_address.rpartition(":")[0].strip("[]")
        if host in _WILDCARD_HOSTS:
            log.warning(
                "gRPC discovery hands out %s, which remote clients cannot reach; "
                "set --grpc-public-address",
                self.door.public_address,
            )

    def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, refuse new calls, give running ones `grace` seconds, then end them."""
        self._health.enter_graceful_shutdown()
        self._server.stop(grace).wait()
        self._executor.shutdown(wait=False)


def _address(host: str, port: int) -> str:
    """`host:port`, with an IPv6 address in brackets."""
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = False
    return f"[{host}]:{port}" if is_v6 else f"{host}:{port}"


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)
