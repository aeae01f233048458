"""Picks the source for a link, checks it at submit time and downloads it atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from asyncstt.errors import InvalidArgument
from asyncstt.settings import Settings
from asyncstt.sources.base import Source
from asyncstt.sources.file import FileSource
from asyncstt.sources.http import HttpSource
from asyncstt.sources.s3 import S3Source, StorageCredentialLookup, folder_storage_settings

SUPPORTED_SCHEMES = ("s3", "https", "http", "file")
#: Schemes of links that may point into a folder's own object storage.
_STORAGE_SCHEMES = frozenset({"s3", "https", "http"})


class SourceRegistry:
    """All sources a link may be read from; the object storage first, so its links never go out as plain http.

    A folder with storage credentials of its own (`storage_credentials`) has `s3://` links and links to its
    endpoint read with them, through a client kept per folder and rebuilt when the credentials change; other
    folders use the server-wide `settings.storage`.
    """

    def __init__(
        self, settings: Settings, storage_credentials: StorageCredentialLookup | None = None
    ) -> None:
        self._settings = settings
        self._sources: list[Source] = [
            S3Source(settings.storage),
            FileSource(settings.file_sources),
            HttpSource(settings.http_sources),
        ]
        self._storage_credentials = storage_credentials
        self._folder_sources: dict[str, tuple[datetime, S3Source]] = {}
        self._folder_lock = threading.Lock()

    def validate(self, uri: str, folder_id: str) -> str:
        """Check `uri` of a request from `folder_id` at submit time; returns the canonical link `fetch` takes."""
        link = uri.strip()
        return self._source_for(link, folder_id).validate(link)

    def fetch(self, uri: str, destination: Path, max_bytes: int, folder_id: str) -> int:
        """Download `uri` for an operation of `folder_id` to `destination` and return its size in bytes.

        The bytes go to a temporary file next to `destination` that is renamed into place only when
        complete, so a broken or refused download never leaves a file that looks whole.
        """
        link = uri.strip()
        source = self._source_for(link, folder_id)
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

    def _source_for(self, uri: str, folder_id: str) -> Source:
        if not uri:
            raise InvalidArgument("the audio link is empty")
        scheme = urlsplit(uri).scheme.lower()
        if scheme not in SUPPORTED_SCHEMES:
            shown = f"{scheme}://" if scheme else "a link without a scheme"
            raise InvalidArgument(
                f"unsupported audio link {shown}; supported are s3://bucket/key, "
                "https:// or http:// links and file:// paths"
            )
        own = self._folder_source(folder_id) if scheme in _STORAGE_SCHEMES else None
        if own is not None and own.accepts(uri):
            return own
        for source in self._sources:
            if source.accepts(uri):
                return source
        raise InvalidArgument(f"no source reads {scheme}:// links")

    def _folder_source(self, folder_id: str) -> S3Source | None:
        if self._storage_credentials is None:
            return None
        storage = self._storage_credentials(folder_id)
        with self._folder_lock:
            if storage is None:
                self._folder_sources.pop(folder_id, None)
                return None
            cached = self._folder_sources.get(folder_id)
            if cached is not None and cached[0] == storage.updated_at:
                return cached[1]
            source = S3Source(
                folder_storage_settings(storage, self._settings.storage),
                f"the storage endpoint of folder {folder_id} (asyncstt storage set)",
            )
            self._folder_sources[folder_id] = (storage.updated_at, source)
            return source
