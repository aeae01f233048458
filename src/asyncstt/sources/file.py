"""`file://` links, read only from inside the directory the operator configured."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from asyncstt.errors import InvalidArgument, NotFound, PermissionDenied
from asyncstt.lengths import quoted
from asyncstt.settings import FileSourceSettings
from asyncstt.sources.guard import copy_capped, too_large

_ROOT_SETTING = "file_sources.root (ASYNCSTT_FILE_SOURCES__ROOT)"
_CHUNK_BYTES = 1024 * 1024


class FileSource:
    """Reads local files under `FileSourceSettings.root`; anything that resolves outside it is refused."""

    def __init__(self, settings: FileSourceSettings) -> None:
        self._root = settings.root

    def accepts(self, uri: str) -> bool:
        return uri.split(":", 1)[0].lower() == "file"

    def validate(self, uri: str) -> str:
        return self.resolve(uri).as_uri()

    def resolve(self, uri: str) -> Path:
        """The real path `uri` names, symlinks and `..` resolved, checked to lie under the root."""
        if self._root is None:
            raise InvalidArgument(
                f"file:// links are turned off; set {_ROOT_SETTING} to allow a directory"
            )
        parts = urlsplit(uri)
        if parts.scheme.lower() != "file":
            raise InvalidArgument(f"not a file:// link: {quoted(uri)}")
        if parts.netloc not in {"", "localhost"}:
            raise InvalidArgument(
                f"file:// links must name a local path (file:///path), not host {quoted(parts.netloc)}"
            )
        raw = unquote(parts.path)
        if not raw.startswith("/"):
            raise InvalidArgument(
                f"file:// links must hold an absolute path (file:///path), not {quoted(raw)!r}"
            )
        if "\x00" in raw:
            raise InvalidArgument("file:// link holds a NUL character")
        try:
            root = self._root.resolve()
            path = Path(raw).resolve()
        except (OSError, RuntimeError) as exc:
            raise InvalidArgument(f"file {quoted(raw)} cannot be resolved: {exc}") from exc
        if not path.is_relative_to(root):
            raise InvalidArgument(
                f"file {quoted(raw)} is outside the directory {root} set in {_ROOT_SETTING}"
            )
        return path

    def fetch(self, uri: str, destination: Path, max_bytes: int) -> int:
        path = self.resolve(uri)
        try:
            # The path was resolved, so its last part is no link; O_NOFOLLOW refuses one swapped in since.
            # O_NONBLOCK keeps a FIFO from hanging the open; it changes nothing for regular files.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError as exc:
            raise NotFound(f"file {quoted(str(path))} not found") from exc
        except PermissionError as exc:
            raise PermissionDenied(
                f"file {quoted(str(path))} cannot be read by the server: {exc.strerror}"
            ) from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InvalidArgument(
                    f"file {quoted(str(path))} changed into a symbolic link while being read"
                ) from exc
            raise InvalidArgument(
                f"file {quoted(str(path))} cannot be read: {exc.strerror}"
            ) from exc
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            os.close(fd)
            raise InvalidArgument(f"{quoted(str(path))} is not a regular file")
        with os.fdopen(fd, "rb") as source:
            if status.st_size > max_bytes:
                raise too_large(f"file {quoted(str(path))}", status.st_size, max_bytes)
            chunks = iter(lambda: source.read(_CHUNK_BYTES), b"")
            with destination.open("wb") as out:
                return copy_capped(chunks, out, max_bytes, f"file {path}")
