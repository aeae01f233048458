from __future__ import annotations

from pathlib import Path

import pytest

from asyncstt.errors import InvalidArgument, NotFound
from asyncstt.settings import FileSourceSettings, HttpSourceSettings, Settings, StorageSettings
from asyncstt.sources.registry import SourceRegistry

FOLDER = "b1gfolder"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "call.wav").write_bytes(b"RIFF" + b"\1" * 96)
    return folder


@pytest.fixture
def registry(root: Path) -> SourceRegistry:
    return SourceRegistry(
        Settings(
            storage=StorageSettings(endpoint_url="http://127.0.0.1:9000"),
            # A literal public address: the http source needs no DNS to vet it.
            http_sources=HttpSourceSettings(allowed_hosts=["93.184.216.34"]),
            file_sources=FileSourceSettings(root=root),
        )
    )


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        ("s3://calls/a.wav", "s3://calls/a.wav"),
        ("  s3://calls/a.wav\n", "s3://calls/a.wav"),
        ("http://127.0.0.1:9000/calls/a%20b.wav?X-Amz-Signature=x", "s3://calls/a b.wav"),
        ("https://storage.yandexcloud.net/calls/a.wav?X-Amz-Signature=x", "s3://calls/a.wav"),
        ("https://calls.storage.yandexcloud.net/a.wav", "s3://calls/a.wav"),
        ("https://93.184.216.34/media/a.wav?token=t", "https://93.184.216.34/media/a.wav?token=t"),
    ],
)
def test_links_are_routed_and_canonicalised(
    registry: SourceRegistry, uri: str, canonical: str
) -> None:
    assert registry.validate(uri, FOLDER) == canonical


def test_file_links_come_back_resolved(registry: SourceRegistry, root: Path) -> None:
    assert (
        registry.validate(f"file://{root}/./call.wav", FOLDER)
        == (root / "call.wav").resolve().as_uri()
    )


@pytest.mark.parametrize(
    "uri", ["ftp://host/a.wav", "gs://bucket/a.wav", "data:audio/wav;base64,UklGRg=="]
)
def test_unknown_schemes_list_what_is_supported(registry: SourceRegistry, uri: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        registry.validate(uri, FOLDER)
    message = caught.value.message
    assert uri.split(":", 1)[0] in message
    for scheme in ("s3://", "https://", "http://", "file://"):
        assert scheme in message


def test_links_without_a_scheme_are_refused(registry: SourceRegistry) -> None:
    with pytest.raises(InvalidArgument, match="without a scheme"):
        registry.validate("calls/a.wav", FOLDER)
    with pytest.raises(InvalidArgument, match="empty"):
        registry.validate("   ", FOLDER)


def test_other_http_hosts_are_refused(registry: SourceRegistry) -> None:
    with pytest.raises(InvalidArgument, match=r"example\.org.*allowed_hosts"):
        registry.validate("https://example.org/a.wav", FOLDER)


def test_storage_aliases_are_plain_links_when_no_storage_is_configured() -> None:
    registry = SourceRegistry(Settings())
    with pytest.raises(
        InvalidArgument, match=r"storage\.endpoint_url.*http_sources\.allowed_hosts"
    ):
        registry.validate("https://storage.yandexcloud.net/calls/a.wav", FOLDER)
    with pytest.raises(InvalidArgument, match=r"storage\.endpoint_url"):
        registry.validate("s3://calls/a.wav", FOLDER)
    with pytest.raises(InvalidArgument, match=r"file_sources\.root"):
        registry.validate("file:///tmp/a.wav", FOLDER)


def test_fetch_renames_a_complete_download_into_place(
    registry: SourceRegistry, root: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "cache" / "op1" / "audio"
    assert registry.fetch((root / "call.wav").as_uri(), destination, 1000, FOLDER) == 100
    assert destination.read_bytes() == (root / "call.wav").read_bytes()
    assert sorted(p.name for p in destination.parent.iterdir()) == ["audio"]


def test_a_refused_download_leaves_nothing_behind(
    registry: SourceRegistry, root: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "cache" / "audio"
    with pytest.raises(InvalidArgument, match="the limit is 99 bytes"):
        registry.fetch((root / "call.wav").as_uri(), destination, 99, FOLDER)
    with pytest.raises(NotFound):
        registry.fetch((root / "gone.wav").as_uri(), destination, 99, FOLDER)
    assert list(destination.parent.iterdir()) == []


def test_a_failed_download_keeps_an_earlier_complete_copy(
    registry: SourceRegistry, root: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "audio"
    destination.write_bytes(b"earlier")
    with pytest.raises(InvalidArgument):
        registry.fetch((root / "call.wav").as_uri(), destination, 10, FOLDER)
    assert destination.read_bytes() == b"earlier"
