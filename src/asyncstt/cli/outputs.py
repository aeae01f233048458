"""Where `asyncstt batch` writes each result, `<name>.json` and `<name>.txt`: a directory or an S3 prefix.

A name counts as written once both files are there, so a batch stopped between the two writes the pair
again on its next run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from asyncstt.cli.bucket import Bucket, S3Prefix

#: What each result is written as: (file ending, content type).
RESULT_FILES = ((".txt", "text/plain; charset=utf-8"), (".json", "application/json"))


class Outputs(Protocol):
    def written(self, name: str) -> bool:
        """Whether both results of `name` are there from an earlier run."""

    def write(self, name: str, files: dict[str, str]) -> str:
        """Write `files` (the text for each ending of RESULT_FILES) for `name`; where they went, for messages."""


class DirectoryOutputs:
    """`DIR/<name>.json` and `DIR/<name>.txt`; a name with slashes makes the folders it needs."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def written(self, name: str) -> bool:
        return all(self._path(name, ending).exists() for ending, _ in RESULT_FILES)

    def write(self, name: str, files: dict[str, str]) -> str:
        for ending, _ in RESULT_FILES:
            path = self._path(name, ending)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Whole or not at all: a later run takes any file there for a finished result.
            partial = path.with_name(path.name + ".part")
            partial.write_text(files[ending], encoding="utf-8")
            partial.replace(path)
        return str(self._path(name, ".{json,txt}"))

    def _path(self, name: str, ending: str) -> Path:
        return self._root / f"{name}{ending}"


class PrefixOutputs:
    """`s3://bucket/out/<name>.json` and `.txt`, in the same storage as the audio; what an earlier run
    wrote is listed once, on the first question."""

    def __init__(self, bucket: Bucket, where: S3Prefix) -> None:
        self._bucket = bucket
        self._where = where
        self._existing: set[str] | None = None

    def written(self, name: str) -> bool:
        if self._existing is None:
            self._existing = self._bucket.keys(self._where)
        return all(self._key(name, ending) in self._existing for ending, _ in RESULT_FILES)

    def write(self, name: str, files: dict[str, str]) -> str:
        for ending, content_type in RESULT_FILES:
            self._bucket.put(
                self._where.bucket, self._key(name, ending), files[ending], content_type
            )
        return f"s3://{self._where.bucket}/{self._key(name, '.{json,txt}')}"

    def _key(self, name: str, ending: str) -> str:
        return f"{self._where.prefix}{name}{ending}"


def outputs_at(out: str, bucket: Bucket) -> Outputs:
    """The outputs `--out` names: an `s3://` prefix (a slash is added when it has none), else a directory."""
    if out.startswith("s3://"):
        where = S3Prefix.parse(out)
        if where.prefix and not where.prefix.endswith("/"):
            where = S3Prefix(where.bucket, where.prefix + "/")
        return PrefixOutputs(bucket, where)
    return DirectoryOutputs(Path(out))
