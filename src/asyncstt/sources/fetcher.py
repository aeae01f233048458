"""AudioFetcher: puts an operation's audio in a local file, wherever it came from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from asyncstt.errors import Internal
from asyncstt.operation import INLINE_SOURCE, Operation

#: Downloads a link for an operation of a folder to a file, at most so many bytes: `SourceRegistry.fetch`.
FetchLink = Callable[[str, Path, int, str], int]


class AudioFetcher:
    """Copies an operation's audio to a local file: inline bytes as the store kept them, links through the
    sources."""

    def __init__(
        self,
        inline_audio: Callable[[str], bytes | None],
        fetch_link: FetchLink,
        max_bytes: int,
    ) -> None:
        """`inline_audio` gives the bytes sent with an operation by its id, None when they are gone."""
        self._inline_audio = inline_audio
        self._fetch_link = fetch_link
        self._max_bytes = max_bytes

    def fetch(self, operation: Operation, destination: Path) -> None:
        if operation.source_uri == INLINE_SOURCE:
            data = self._inline_audio(operation.id)
            if data is None:
                raise Internal(
                    f"the inline audio of operation {operation.id} is missing from the store"
                )
            destination.write_bytes(data)
        else:
            self._fetch_link(
                operation.source_uri, destination, self._max_bytes, operation.folder_id
            )
