"""A batch re-run after Ctrl-C cancelled an object's operation submits it afresh, once, under a key naming the
cancelled operation; a further re-run finds that new operation by the same key."""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

from rich.console import Console

from asyncstt.cli.batch import Batch, BatchOptions, idempotency_key
from asyncstt.cli.bucket import AudioObject
from asyncstt.cli.outputs import DirectoryOutputs
from asyncstt.cli.summary import Summary
from asyncstt.client import Client, ClientError, OperationStatus, Recognition
from asyncstt.recognition import Transcript, Utterance

ITEM = AudioObject("audio", "in/a.wav", "etag-1", 10)


class IdempotentServer:
    """Answers each idempotency key with the operation it first made; `cancelled` ones end cancelled."""

    def __init__(self, cancelled: set[str]) -> None:
        self.cancelled = cancelled
        self.by_key: dict[str, str] = {}
        self.submits: list[str] = []

    def submit_link(self, uri: str, *, idempotency_key: str, **_: object) -> OperationStatus:
        self.submits.append(idempotency_key)
        op = self.by_key.setdefault(idempotency_key, f"op-{len(self.by_key) + 1}")
        error = ClientError(1, "cancelled") if op in self.cancelled else None
        return OperationStatus(op, True, error, None, "v3")

    def result(self, operation_id: str) -> Recognition:
        utterance = Utterance(0, 0.0, 1.0, (), "ask not", "ask not")
        return Recognition(Transcript((utterance,), duration_seconds=1.0))


def _run(server: IdempotentServer, root: Path) -> Summary:
    summary = Summary(files=1)
    batch = Batch(
        cast(Client, server),
        DirectoryOutputs(root),
        BatchOptions("s3://audio/in/", language="en-US"),
        Console(file=io.StringIO()),
        summary,
    )
    assert batch.run({"a": ITEM})
    return summary


def test_a_cancelled_operation_is_submitted_again_under_a_key_naming_it(tmp_path: Path) -> None:
    server = IdempotentServer(cancelled={"op-1"})
    summary = _run(server, tmp_path)
    first = idempotency_key(ITEM, language="en-US", deferred=True)
    retry = idempotency_key(ITEM, language="en-US", deferred=True, after="op-1")
    assert server.submits == [first, retry]
    assert server.by_key == {first: "op-1", retry: "op-2"}
    assert summary.written == {"a": 1.0}
    assert (tmp_path / "a.txt").read_text() == "ask not\n"

    (tmp_path / "a.txt").unlink()
    _run(server, tmp_path)
    assert server.by_key == {first: "op-1", retry: "op-2"}
    assert server.submits[2:] == [first, retry]
