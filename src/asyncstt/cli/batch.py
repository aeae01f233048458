"""`asyncstt batch s3://bucket/prefix/`: every audio object under a prefix, recognised and written out.

The batch tutorial as one command. Each object is submitted by its `s3://` link, deferred unless asked
otherwise, with an idempotency key made from its bucket, key and ETag (and the language and mode asked
for), at most `--max-in-flight` at once. A re-run therefore submits nothing twice: the server answers each
key with the operation it made for it, so what an earlier run left running is picked up and fetched once
finished, and names whose results are written already are not asked about at all. An operation that Ctrl-C
cancelled is submitted afresh on the next run, under a key that names the cancelled one (so a further re-run
finds that one in turn). Results are `<name>.json` (the transcript) and `<name>.txt` (its text), `<name>`
being the object's key below the prefix without its ending.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from rich.console import Console

from asyncstt.cli.bucket import AudioObject, Bucket, S3Prefix
from asyncstt.cli.embedded import embedded_server
from asyncstt.cli.flight import Flight, Pacer
from asyncstt.cli.outputs import Outputs, outputs_at
from asyncstt.cli.progress import ProgressBoard
from asyncstt.cli.summary import Failure, Summary
from asyncstt.client import Client, ClientError, OperationStatus, Recognition
from asyncstt.settings import Settings

#: google.rpc.Code CANCELLED: how a cancelled operation ends.
CANCELLED = 1
#: The most cancelled operations one object's key chain is followed through before giving up.
MAX_CANCELLED_CHAIN = 100
KEY_PREFIX = "asyncstt-batch-"


@dataclass(frozen=True)
class BatchOptions:
    source: str
    out: str = "."
    deferred: bool = True
    max_in_flight: int = 8
    language: str = ""
    detach: bool = False


def idempotency_key(
    item: AudioObject, *, language: str, deferred: bool, after: str | None = None
) -> str:
    """The key an object is submitted under: the same object (same ETag) asked for the same way gets the
    same key on every run. `after` names a cancelled operation of the key before, to start a new one."""
    material = "\n".join(
        (
            item.bucket,
            item.key,
            item.etag,
            language.strip(),
            "deferred" if deferred else "standard",
            after or "",
        )
    )
    return KEY_PREFIX + hashlib.sha256(material.encode()).hexdigest()


def result_names(items: Sequence[AudioObject], prefix: str) -> dict[str, AudioObject]:
    """The name of each object's results: its key below the prefix's folder, without its ending (with it,
    where two objects would share a name). `.` and `..` parts are dropped, so no name leads out of `--out`."""
    folder = prefix[: prefix.rfind("/") + 1]
    relative = {
        item: "/".join(
            part for part in item.key[len(folder) :].split("/") if part not in ("", ".", "..")
        )
        for item in items
    }
    stems = {item: _without_ending(name) for item, name in relative.items()}
    counts = Counter(stems.values())
    return {(stems[item] if counts[stems[item]] == 1 else relative[item]): item for item in items}


def result_files(recognition: Recognition) -> dict[str, str]:
    """The text of `<name>.txt` and of `<name>.json`."""
    return {
        ".txt": recognition.text + "\n",
        ".json": json.dumps(recognition.to_json(), ensure_ascii=False, indent=2) + "\n",
    }


def audio_seconds(recognition: Recognition, status_seconds: float) -> float:
    """How long the audio was: the transcript's own length, else what the operation's progress said."""
    return recognition.transcript.duration_seconds or status_seconds


def _without_ending(name: str) -> str:
    path = PurePosixPath(name)
    return str(path.with_suffix("")) if path.suffix else name


class Batch:
    """One run over the objects still to do, with the summary it fills in."""

    def __init__(
        self,
        client: Client,
        outputs: Outputs,
        options: BatchOptions,
        console: Console,
        summary: Summary,
    ) -> None:
        self._client = client
        self._outputs = outputs
        self._options = options
        self._summary = summary
        self._board = ProgressBoard(console, summary.files, keep_finished=False)
        self._pacer = Pacer(self._board.say)
        self._flight = Flight(client, self._pacer, self._on_status)
        self._seconds: dict[str, float] = {}

    def run(self, todo: dict[str, AudioObject]) -> bool:
        """Submit, wait and write; False when Ctrl-C stopped it (what was in flight is named)."""
        waiting = deque(todo.items())
        with self._board:
            for name in self._summary.already_written:
                self._board.finish(name)
            try:
                while waiting or self._flight:
                    while waiting and len(self._flight) < self._options.max_in_flight:
                        self._submit(*waiting.popleft())
                    for name, status in self._flight.round():
                        self._finish(name, status)
            except KeyboardInterrupt:
                for line in self._flight.interrupt(detach=self._options.detach):
                    self._board.say(line)
                return False
        return True

    def _submit(self, name: str, item: AudioObject) -> None:
        try:
            status = self._submit_following_cancels(item)
        except ClientError as error:
            self._fail(name, "", error)
            return
        self._flight.add(name, status)
        self._board.add(name)
        self._board.say(f"{name}: submitted as {status.id}")

    def _submit_following_cancels(self, item: AudioObject) -> OperationStatus:
        status = self._submit_under(item, after=None)
        for _ in range(MAX_CANCELLED_CHAIN):
            if status.error is None or status.error.code != CANCELLED:
                break
            status = self._submit_under(item, after=status.id)
        return status

    def _submit_under(self, item: AudioObject, *, after: str | None) -> OperationStatus:
        key = idempotency_key(
            item, language=self._options.language, deferred=self._options.deferred, after=after
        )
        submit = functools.partial(
            self._client.submit_link,
            item.uri,
            language=self._options.language,
            deferred=self._options.deferred,
            idempotency_key=key,
        )
        return self._pacer.call(submit)

    def _on_status(self, name: str, status: OperationStatus) -> None:
        if status.progress is not None:
            self._seconds[name] = status.progress.total_seconds
        self._board.update(name, status)

    def _finish(self, name: str, status: OperationStatus) -> None:
        try:
            if status.error is not None:
                raise status.error
            recognition = self._pacer.call(functools.partial(self._client.result, status.id))
        except ClientError as error:
            self._fail(name, status.id, error)
            return
        where = self._outputs.write(name, result_files(recognition))
        self._summary.written[name] = audio_seconds(recognition, self._seconds.pop(name, 0.0))
        self._board.say(f"{name}: wrote {where} ({status.id})")

    def _fail(self, name: str, operation_id: str, error: ClientError) -> None:
        self._summary.failures.append(Failure(name, operation_id, error.message))
        self._board.finish(name)
        suffix = f" ({operation_id})" if operation_id else ""
        self._board.say(f"{name}: failed: {error.message}{suffix}")


def run_batch(
    options: BatchOptions, settings: Settings, *, server: str | None, api_key: str | None
) -> int:
    """The whole command: list, skip what is written, run the rest, print the summary; the exit code."""
    console = Console(stderr=True)
    where = S3Prefix.parse(options.source)
    bucket = Bucket(settings.storage)
    outputs = outputs_at(options.out, bucket)
    names = result_names(bucket.audio(where), where.prefix)
    summary = Summary(files=len(names))
    todo: dict[str, AudioObject] = {}
    for name, item in names.items():
        if outputs.written(name):
            summary.already_written.append(name)
        else:
            todo[name] = item
    console.print(
        f"{where}: {len(names)} audio object(s), {len(summary.already_written)} written already, "
        f"{len(todo)} to recognise",
        highlight=False,
        soft_wrap=True,
    )
    finished = True
    if todo:
        if server:
            with Client(server, api_key=api_key) as client:
                finished = Batch(client, outputs, options, console, summary).run(todo)
        else:
            with (
                embedded_server(settings, console, "batch") as endpoint,
                Client(endpoint.url, api_key=endpoint.api_key) as client,
            ):
                finished = Batch(client, outputs, options, console, summary).run(todo)
    summary.print()
    if not finished:
        return 130
    return 1 if summary.failures else 0
