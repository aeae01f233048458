"""Picks the source for a link, checks it at submit time and downloads it atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from asyncstt.errors import InvalidArgument
from asyncstt.settings import Settings
from asyncstt.sources.base import Source
from asyncstt.sources.file import FileSource
from asyncstt.sources.http import HttpSource
from asyncstt.sources.s3 import S3Source

SUPPORTED_SCHEMES = ("s3", "https", "http", "file")


class SourceRegistry:
    """All sources a link may be read from; the object storage first, so its links never go out as plain http."""

    def __init__(self, settings: Settings) -> None:
        self._sources: list[Source] = [
            S3Source(settings.storage),
            FileSource(settings.file_sources),
            HttpSource(settings.http_sources),
        ]

    def validate(self, uri: str, folder_id: str) -> str:
        """Check `uri` of a request from `folder_id` at submit time; returns the canonical link `fetch` takes."""
        link = uri.strip()
        return self._source_for(link).validate(link)

    def fetch(self, uri: str, destination: Path, max_bytes: int, folder_id: str) -> int:
        """Download `uri` for an operation of `folder_id` to `destination` and return its size in bytes.

        The bytes go to a temporary file next to `destination` that is renamed into place only when
        complete, so a broken or refused download never leaves a file that looks whole.
        """
        link = uri.strip()
        source = self._source_for(link)
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".part", dir=destination.parent
        )
        os.close(fd)
        partial = Path(temporary)
        try:
            size = source.fetch(link, partial, max_bytes)
            partial.replace(destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        return size

    def _source_for(self, uri: str) -> Source:
        if not uri:
            raise InvalidArgument("the audio link is empty")
        scheme = urlsplit(uri).scheme.lower()
        if scheme not in SUPPORTED_SCHEMES:
            shown = f"{scheme}://" if scheme else "a link without a scheme"
            raise InvalidArgument(
                f"unsupported audio link {shown}; supported are s3://bucket/key, "
                "https:// or http:// links and file:// paths"
            )
        for source in self._sources:
            if source.accepts(uri):
                return source
        raise InvalidArgument(f"no source reads {scheme}:// links")
