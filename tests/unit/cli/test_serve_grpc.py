"""`asyncstt serve`'s gRPC flags, read into the settings the server is built with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from asyncstt.cli.main import main
from asyncstt.settings import Settings


@dataclass
class _Door:
    address: str
    tls: bool


class RecordingServer:
    """Stands in for the server: remembers its settings and serves nothing."""

    built: ClassVar[list[Settings]] = []

    def __init__(self, settings: Settings) -> None:
        self.built.append(settings)
        self.url = f"http://{settings.host}:{settings.port}"
        port = settings.grpc.port
        self.grpc = (
            _Door(f"{settings.host}:{port}", settings.grpc.tls_cert is not None) if port else None
        )

    def run(self) -> None:
        pass


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    built: list[Settings] = []
    monkeypatch.setattr(RecordingServer, "built", built)
    monkeypatch.setattr("asyncstt.server.process.Server", RecordingServer)
    monkeypatch.setattr("asyncstt.observability.logs.configure_logging", lambda: None)
    return built


def test_the_grpc_flags_reach_the_settings(
    served: list[Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", "--data-dir", str(tmp_path), "--grpc-port", "50443"]
    args += ["--grpc-tls-cert", "cert.pem", "--grpc-tls-key", "key.pem"]
    args += ["--grpc-public-address", "stt.example.com:443"]
    assert main(args) == 0
    [settings] = served
    assert (settings.grpc.port, settings.grpc.public_address) == (50443, "stt.example.com:443")
    assert (settings.grpc.tls_cert, settings.grpc.tls_key) == (Path("cert.pem"), Path("key.pem"))
    assert "and gRPC on 127.0.0.1:50443, TLS" in capsys.readouterr().out


def test_by_default_grpc_listens_on_50051_in_plaintext(
    served: list[Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--data-dir", str(tmp_path)]) == 0
    assert served[0].grpc.port == 50051
    assert "and gRPC on 127.0.0.1:50051, plaintext" in capsys.readouterr().out


def test_grpc_port_0_turns_it_off(
    served: list[Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--data-dir", str(tmp_path), "--grpc-port", "0"]) == 0
    assert served[0].grpc.port == 0
    assert "and no gRPC" in capsys.readouterr().out


def test_a_certificate_without_its_key_is_refused(
    served: list[Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--data-dir", str(tmp_path), "--grpc-tls-cert", "cert.pem"]) == 2
    assert served == []
    assert capsys.readouterr().err == (
        "asyncstt: the gRPC TLS certificate and key go together: "
        "give both tls_cert and tls_key, or neither\n"
    )
