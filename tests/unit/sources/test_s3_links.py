from __future__ import annotations

import pytest

from asyncstt.errors import InvalidArgument
from asyncstt.settings import StorageSettings
from asyncstt.sources.s3 import S3Location, S3Source, StorageLinks, parse_s3_uri

SIGNED_QUERY = (
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20250101%2Fru-central1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123"
)


@pytest.fixture
def links() -> StorageLinks:
    return StorageLinks(
        StorageSettings(endpoint_url="http://127.0.0.1:9000", aliases=["storage.yandexcloud.net"])
    )


@pytest.mark.parametrize(
    ("uri", "bucket", "key"),
    [
        ("s3://calls/2025/03/call-0001.wav", "calls", "2025/03/call-0001.wav"),
        ("S3://calls/a%20b.wav", "calls", "a%20b.wav"),
        ("s3://calls/what?.wav", "calls", "what?.wav"),
        ("http://127.0.0.1:9000/calls/dir/a%20b%2Bc.wav", "calls", "dir/a b+c.wav"),
        ("https://127.0.0.1:9000/calls/a+b.wav", "calls", "a+b.wav"),
        ("http://127.0.0.1/calls/k.wav", "calls", "k.wav"),
        ("http://127.0.0.1:9000/calls/k.wav" + SIGNED_QUERY, "calls", "k.wav"),
        ("http://127.0.0.1:9000/calls/q%3F.wav#part", "calls", "q?.wav"),
        (
            "https://storage.yandexcloud.net/acme-calls/2025/03/call-0001.pcm",
            "acme-calls",
            "2025/03/call-0001.pcm",
        ),
        ("https://Storage.YandexCloud.net/acme/k.wav" + SIGNED_QUERY, "acme", "k.wav"),
        ("http://storage.yandexcloud.net:8443/acme/k.wav", "acme", "k.wav"),
        ("https://acme.storage.yandexcloud.net/2025/call.wav", "acme", "2025/call.wav"),
        (
            "https://my.dotted.bucket.storage.yandexcloud.net/k%C3%A9.wav",
            "my.dotted.bucket",
            "ké.wav",
        ),
    ],
)
def test_storage_links_give_bucket_and_decoded_key(
    links: StorageLinks, uri: str, bucket: str, key: str
) -> None:
    assert links.locate(uri) == S3Location(bucket, key)


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:9001/calls/k.wav",
        "https://example.com/calls/k.wav",
        "https://storage.yandexcloud.net.evil.example/calls/k.wav",
        "https://evilstorage.yandexcloud.net/calls/k.wav",
        "ftp://storage.yandexcloud.net/calls/k.wav",
        "file:///calls/k.wav",
        "http://bucket.127.0.0.1:9000/k.wav",
    ],
)
def test_other_links_are_not_storage_links(links: StorageLinks, uri: str) -> None:
    assert links.locate(uri) is None


def test_a_named_endpoint_takes_virtual_host_links() -> None:
    links = StorageLinks(StorageSettings(endpoint_url="https://s3.example.com", aliases=[]))
    assert links.locate("https://media.s3.example.com/a/b.wav") == S3Location("media", "a/b.wav")
    assert links.locate("http://s3.example.com/media/b.wav") == S3Location("media", "b.wav")
    assert links.locate("https://s3.example.com:444/media/b.wav") is None
    assert links.locate("https://storage.yandexcloud.net/media/b.wav") is None


def test_without_an_endpoint_only_s3_links_are_storage_links() -> None:
    links = StorageLinks(StorageSettings())
    assert links.locate("https://storage.yandexcloud.net/acme/k.wav") is None
    assert links.locate("s3://acme/k.wav") == S3Location("acme", "k.wav")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("s3://", "names no bucket"),
        ("s3:///key.wav", "names no bucket"),
        ("s3://acme", "no object key"),
        ("s3://acme/", "no object key"),
        ("http://127.0.0.1:9000/acme", "no object key"),
        ("http://127.0.0.1:9000/", "names no bucket"),
        ("https://acme.storage.yandexcloud.net/", "no object key"),
    ],
)
def test_incomplete_storage_links_are_refused(links: StorageLinks, uri: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        links.locate(uri)


def test_refusals_do_not_echo_the_signature(links: StorageLinks) -> None:
    with pytest.raises(InvalidArgument) as caught:
        links.locate("http://127.0.0.1:9000/acme" + SIGNED_QUERY)
    assert "Signature" not in caught.value.message


def test_parse_s3_uri_round_trips_through_uri() -> None:
    location = parse_s3_uri("s3://acme/dir/a b+c?.wav")
    assert location == S3Location("acme", "dir/a b+c?.wav")
    assert parse_s3_uri(location.uri) == location


def test_bad_endpoint_setting_is_reported() -> None:
    with pytest.raises(InvalidArgument, match=r"storage\.endpoint_url"):
        StorageLinks(StorageSettings(endpoint_url="127.0.0.1:9000"))


def test_validate_canonicalises_storage_links_to_s3_and_drops_the_query() -> None:
    source = S3Source(StorageSettings(endpoint_url="http://127.0.0.1:9000"))
    assert (
        source.validate("http://127.0.0.1:9000/acme/a%20b.wav" + SIGNED_QUERY)
        == "s3://acme/a b.wav"
    )
    assert source.validate("https://acme.storage.yandexcloud.net/k.wav") == "s3://acme/k.wav"
    assert source.validate("s3://acme/k.wav") == "s3://acme/k.wav"


def test_accepts_only_storage_links() -> None:
    source = S3Source(StorageSettings(endpoint_url="http://127.0.0.1:9000"))
    assert source.accepts("s3://acme/k.wav")
    assert source.accepts("https://storage.yandexcloud.net/acme/k.wav")
    assert source.accepts("https://storage.yandexcloud.net/acme")
    assert not source.accepts("https://example.com/acme/k.wav")
    assert not source.accepts("file:///acme/k.wav")


def test_s3_links_are_refused_without_an_endpoint_saying_what_to_set() -> None:
    source = S3Source(StorageSettings())
    assert source.accepts("s3://acme/k.wav")
    with pytest.raises(InvalidArgument, match=r"storage\.endpoint_url") as caught:
        source.validate("s3://acme/k.wav")
    assert "ASYNCSTT_STORAGE__ENDPOINT_URL" in caught.value.message
