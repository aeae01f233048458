"""Files over the inline cap go to a bucket first, named by their content so that each is uploaded once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.exceptions import ClientError as BotoClientError

from asyncstt.client.errors import ClientError
from asyncstt.client.models import Upload

_CHUNK = 1024**2
# S3 error codes that mean the credentials or the bucket policy refused us; others are taken as unavailability.
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"}
_MISSING_BUCKET = {"NoSuchBucket"}


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def object_key(upload: Upload, path: Path) -> str:
    """`prefix + sha256 + suffix` (`calls/3a7b….wav`)."""
    return f"{upload.prefix}{sha256_of(path)}{path.suffix}"


class Uploader:
    """Puts files in the `Upload` bucket; one boto3 client, made on first use."""

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        self._s3: Any = None

    def put(self, path: Path) -> str:
        """Upload `path` unless an object of its name and size is there already; its `s3://` link."""
        key = object_key(self.upload, path)
        link = f"s3://{self.upload.bucket}/{key}"
        try:
            if self._size_of(key) != path.stat().st_size:
                # One PUT streamed from the file: the server takes at most 1 GB, and plain ClientErrors
                # (upload_file wraps them in its own exception) name what the storage refused.
                with path.open("rb") as body:
                    self._client().put_object(Bucket=self.upload.bucket, Key=key, Body=body)
        except BotoClientError as error:
            raise _refused(error, link) from None
        except BotoCoreError as error:
            raise ClientError(14, f"could not upload {path.name} to {link}: {error}") from None
        return link

    def _size_of(self, key: str) -> int | None:
        try:
            head = self._client().head_object(Bucket=self.upload.bucket, Key=key)
        except BotoClientError as error:
            if _status(error) == 404:
                return None
            raise
        size: int = head["ContentLength"]
        return size

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = boto3.session.Session().client(
                "s3",
                endpoint_url=self.upload.endpoint_url,
                region_name=self.upload.region,
                aws_access_key_id=self.upload.access_key_id,
                aws_secret_access_key=self.upload.secret_access_key,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": self.upload.addressing_style},
                ),
            )
        return self._s3


def _status(error: BotoClientError) -> int | None:
    status: int | None = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status


def _refused(error: BotoClientError, link: str) -> ClientError:
    code = str(error.response.get("Error", {}).get("Code", ""))
    reason = error.response.get("Error", {}).get("Message") or code or str(error)
    if code in _DENIED or _status(error) == 403:
        grpc_code = 7
    elif code in _MISSING_BUCKET:
        grpc_code = 5
    else:
        grpc_code = 14
    return ClientError(grpc_code, f"the upload to {link} was refused: {reason}", _status(error))
