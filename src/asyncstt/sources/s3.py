"""Objects in the configured S3-compatible storage, read through the S3 API with boto3.

`s3://bucket/key` links and http(s) links to the storage endpoint or one of its alias hosts, path style
(`https://host/bucket/key`) or virtual-host style (`https://bucket.host/key`), are all read with the
server's storage credentials, or with the caller's folder's own credentials where it has some. The query string of a pre-signed link is ignored: the signature in it was
made for the client's storage, and the credentials configured here are what grant access.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from asyncstt.errors import AsyncSttError, InvalidArgument, NotFound, PermissionDenied, Unavailable
from asyncstt.lengths import quoted
from asyncstt.settings import StorageSettings
from asyncstt.sources.guard import copy_capped, normalise_host, parse_address, too_large

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NotFound"})
_DENIED_CODES = frozenset(
    {
        "401",
        "403",
        "AccessDenied",
        "AllAccessDisabled",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidToken",
        "SignatureDoesNotMatch",
    }
)
_CHUNK_BYTES = 1024 * 1024
_ENDPOINT_SETTING = "storage.endpoint_url (ASYNCSTT_STORAGE__ENDPOINT_URL)"


@dataclass(frozen=True)
class ResolvedStorage:
    """A folder's own object storage, with the secret in the clear (opened only when needed to sign)."""

    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    #: When the credentials last changed; a change means a new client.
    updated_at: datetime


class StorageCredentialLookup(Protocol):
    def __call__(self, folder_id: str) -> ResolvedStorage | None:
        """The folder's own storage credentials, or None when it uses the server-wide storage."""


def folder_storage_settings(storage: ResolvedStorage, server: StorageSettings) -> StorageSettings:
    """Settings that read `s3://` links and links to the folder's own endpoint with the folder's keys."""
    return StorageSettings(
        endpoint_url=storage.endpoint_url,
        aliases=[],
        access_key_id=storage.access_key_id,
        secret_access_key=SecretStr(storage.secret_access_key),
        region=storage.region,
        addressing_style=server.addressing_style,
    )


@dataclass(frozen=True)
class S3Location:
    """One object: a bucket and a key (the key as stored, not URL-encoded)."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Location:
    """Split `s3://bucket/key`. The key is taken literally, as S3 tools write it (no URL decoding)."""
    if uri[:5].lower() != "s3://":
        raise InvalidArgument(f"not an s3:// link: {quoted(uri)}")
    bucket, _, key = uri[5:].partition("/")
    return _location(bucket, key, uri)


def _location(bucket: str, key: str, uri: str) -> S3Location:
    if not bucket:
        raise InvalidArgument(f"the link {_without_query(uri)} names no bucket")
    if not key:
        raise InvalidArgument(
            f"the link {_without_query(uri)} names bucket {quoted(bucket)} but no object key"
        )
    return S3Location(bucket, key)


def _without_query(uri: str) -> str:
    """The link as safe to show back: a pre-signed query carries a signature."""
    return quoted(uri.split("?", 1)[0].split("#", 1)[0])


@dataclass(frozen=True)
class _Host:
    name: str
    #: The port links must use, or None when any port is fine (alias host names).
    port: int | None


class StorageLinks:
    """Recognises links that point into the configured storage and turns them into bucket and key."""

    def __init__(self, settings: StorageSettings, origin: str = _ENDPOINT_SETTING) -> None:
        self.configured = bool(settings.endpoint_url.strip())
        self._hosts: list[_Host] = []
        if self.configured:
            endpoint = urlsplit(settings.endpoint_url.strip())
            if endpoint.scheme not in _DEFAULT_PORTS or not endpoint.hostname:
                raise InvalidArgument(
                    f"{origin} must be an http(s) URL such as http://127.0.0.1:9000, "
                    f"not {settings.endpoint_url!r}"
                )
            port = endpoint.port or _DEFAULT_PORTS[endpoint.scheme]
            self._hosts.append(_Host(normalise_host(endpoint.hostname), port))
            self._hosts.extend(
                _Host(normalise_host(a), None) for a in settings.aliases if a.strip()
            )

    def locate(self, uri: str) -> S3Location | None:
        """Bucket and key of a storage link, or None when `uri` is not one."""
        if uri[:5].lower() == "s3://":
            return parse_s3_uri(uri)
        if not self.configured:
            return None
        parts = urlsplit(uri)
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
            return None
        name = normalise_host(parts.hostname)
        for host in self._hosts:
            if not _port_matches(parts, host):
                continue
            if name == host.name:
                bucket, _, key = parts.path.lstrip("/").partition("/")
                return _location(unquote(bucket), unquote(key), uri)
            if name.endswith("." + host.name) and parse_address(host.name) is None:
                bucket = name.removesuffix("." + host.name)
                return _location(bucket, unquote(parts.path.lstrip("/")), uri)
        return None


def _port_matches(parts: SplitResult, host: _Host) -> bool:
    try:
        port = parts.port
    except ValueError:
        return False
    return host.port is None or port is None or port == host.port


class S3Source:
    """Reads objects from the S3-compatible storage of `StorageSettings`.

    `origin` names where the settings come from, for messages about a bad endpoint.
    """

    def __init__(self, settings: StorageSettings, origin: str = _ENDPOINT_SETTING) -> None:
        self._settings = settings
        self._links = StorageLinks(settings, origin)
        self._client: Any = None
        self._client_lock = threading.Lock()

    def accepts(self, uri: str) -> bool:
        try:
            return self._links.locate(uri) is not None
        except InvalidArgument:
            # A storage link that is malformed is still ours to refuse with the precise reason.
            return True

    def validate(self, uri: str) -> str:
        location = self._locate(uri)
        return location.uri

    def fetch(self, uri: str, destination: Path, max_bytes: int) -> int:
        location = self._locate(uri)
        client = self._get_client()
        what = location.uri
        try:
            head = client.head_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            raise self._explain(exc, client, location) from exc
        except BotoCoreError as exc:
            raise self._unreachable(exc) from exc
        size = int(head.get("ContentLength", 0))
        if size > max_bytes:
            raise too_large(what, size, max_bytes)
        try:
            response = client.get_object(Bucket=location.bucket, Key=location.key)
            body = response["Body"]
            try:
                with destination.open("wb") as out:
                    return copy_capped(body.iter_chunks(_CHUNK_BYTES), out, max_bytes, what)
            finally:
                body.close()
        except ClientError as exc:
            raise _client_error(exc, location) from exc
        except BotoCoreError as exc:
            raise self._unreachable(exc) from exc

    def _locate(self, uri: str) -> S3Location:
        location = self._links.locate(uri)
        if location is None:
            raise InvalidArgument(f"{_without_query(uri)} is not a link to the object storage")
        if not self._links.configured:
            raise InvalidArgument(
                f"{location.uri} cannot be read: no object storage is configured; set {_ENDPOINT_SETTING} "
                "and the storage credentials"
            )
        return location

    def _get_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = self._new_client()
            return self._client

    def _new_client(self) -> Any:
        settings = self._settings
        signed = bool(settings.access_key_id)
        config = Config(
            # Without credentials, requests go unsigned (public buckets) instead of picking up whatever
            # credentials the host environment happens to have.
            signature_version="s3v4" if signed else botocore.UNSIGNED,
            s3={"addressing_style": settings.addressing_style},
            connect_timeout=10,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        session = boto3.session.Session()
        return session.client(
            "s3",
            endpoint_url=settings.endpoint_url.strip(),
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id if signed else None,
            aws_secret_access_key=settings.secret_access_key.get_secret_value() if signed else None,
            config=config,
        )

    def _explain(self, exc: ClientError, client: Any, location: S3Location) -> AsyncSttError:
        """Map a HEAD failure; a refused HEAD has no body, so ask GET for the reason (a wrong secret...)."""
        if _code(exc) not in {"401", "403"}:
            return _client_error(exc, location)
        try:
            client.get_object(Bucket=location.bucket, Key=location.key)["Body"].close()
        except ClientError as detailed:
            return _client_error(detailed, location)
        except BotoCoreError as failure:
            return self._unreachable(failure)
        return _client_error(exc, location)

    def _unreachable(self, exc: BotoCoreError) -> Unavailable:
        return Unavailable(
            f"the object storage at {self._settings.endpoint_url} is unreachable: {exc}"
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _client_error(exc: ClientError, location: S3Location) -> AsyncSttError:
    code = _code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _NOT_FOUND_CODES:
        return NotFound(f"object {quoted(location.uri)} not found")
    if code in _DENIED_CODES or status in {401, 403}:
        return PermissionDenied(f"storage refused access to {quoted(location.uri)}: {code}")
    if 400 <= status < 500 and status not in {408, 429}:
        return InvalidArgument(f"storage refused to read {quoted(location.uri)}: {code}")
    return Unavailable(f"storage failed to read {quoted(location.uri)}: {code or status}")
