"""The object storage `asyncstt batch` lists audio in and may write results to, through boto3.

It is the storage of the `ASYNCSTT_STORAGE__*` settings (endpoint, credentials, region, addressing), the same
one the server reads `s3://` links from, so what is listed here is what the server can fetch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.exceptions import ClientError as StorageRefusal

from asyncstt.cli.failure import CommandFailed
from asyncstt.errors import InvalidArgument
from asyncstt.settings import StorageSettings

#: Object names taken for audio, by their ending (headerless PCM is left out: it needs a declared rate).
AUDIO_SUFFIXES = frozenset({".wav", ".ogg", ".opus", ".oga", ".mp3", ".flac"})


@dataclass(frozen=True)
class S3Prefix:
    """`s3://bucket/prefix`: every key that starts with `prefix` (empty: the whole bucket)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, text: str) -> S3Prefix:
        parts = urlsplit(text)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidArgument(f"{text!r} is not an s3://bucket/prefix/ link")
        return cls(parts.netloc, parts.path.lstrip("/"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class AudioObject:
    """One audio object found under the prefix; `etag` without its quotes."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_audio(key: str) -> bool:
    """Whether an object's name ends like an audio file's."""
    return PurePosixPath(key).suffix.lower() in AUDIO_SUFFIXES


class Bucket:
    """The calls the batch makes to the storage; each refusal becomes CommandFailed with the storage's reason."""

    def __init__(self, settings: StorageSettings) -> None:
        if not settings.endpoint_url.strip():
            raise CommandFailed(
                "no object storage is configured: set ASYNCSTT_STORAGE__ENDPOINT_URL and the storage "
                "credentials (ASYNCSTT_STORAGE__ACCESS_KEY_ID, ASYNCSTT_STORAGE__SECRET_ACCESS_KEY)"
            )
        self._client = _client(settings)

    def audio(self, where: S3Prefix) -> list[AudioObject]:
        """Every audio object under `where`, in key order."""
        return [
            AudioObject(where.bucket, item["Key"], str(item["ETag"]).strip('"'), int(item["Size"]))
            for item in self._listing(where)
            if is_audio(item["Key"])
        ]

    def keys(self, where: S3Prefix) -> set[str]:
        """The keys of every object under `where`."""
        return {str(item["Key"]) for item in self._listing(where)}

    def put(self, bucket: str, key: str, text: str, content_type: str) -> None:
        try:
            self._client.put_object(
                Bucket=bucket, Key=key, Body=text.encode(), ContentType=content_type
            )
        except (BotoCoreError, StorageRefusal) as error:
            raise CommandFailed(f"cannot write s3://{bucket}/{key}: {_reason(error)}") from error

    def _listing(self, where: S3Prefix) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=where.bucket, Prefix=where.prefix
        )
        try:
            for page in pages:
                yield from page.get("Contents", [])
        except (BotoCoreError, StorageRefusal) as error:
            raise CommandFailed(f"cannot list {where}: {_reason(error)}") from error


def _client(settings: StorageSettings) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url.strip(),
        region_name=settings.region,
        aws_access_key_id=settings.access_key_id or None,
        aws_secret_access_key=settings.secret_access_key.get_secret_value() or None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": settings.addressing_style},
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def _reason(error: BotoCoreError | StorageRefusal) -> str:
    """The storage's own words for a refusal (`NoSuchBucket: …`), else the error's."""
    if isinstance(error, StorageRefusal):
        detail = error.response.get("Error", {})
        parts = [str(part) for part in (detail.get("Code"), detail.get("Message")) if part]
        if parts:
            return ": ".join(parts)
    return str(error)
