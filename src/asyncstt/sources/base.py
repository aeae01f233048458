"""The source port: resolve a link at submit time, then fetch its bytes into a local file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Source(Protocol):
    """One kind of place audio is read from."""

    def accepts(self, uri: str) -> bool:
        """True when this source is the one that reads `uri`."""

    def validate(self, uri: str) -> str:
        """Check `uri` at submit time and return its canonical form (raises InvalidArgument)."""

    def fetch(self, uri: str, destination: Path, max_bytes: int) -> int:
        """Copy the object to `destination`; returns the byte count.

        Raises NotFound (no such object), PermissionDenied (storage refused access) or InvalidArgument
        (larger than `max_bytes`, checked from the size the server announces before any byte is read and
        again while reading).
        """
