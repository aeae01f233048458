"""How `transcribe` and `batch` wait: calls spaced within the poll quota, retried after a 429, each
operation polled in turn, Ctrl-C cancelling or leaving what is in flight; and the progress they draw."""

from __future__ import annotations

import functools
import io

import pytest
from rich.console import Console

from asyncstt.cli.flight import BACK_OFF_SECONDS, Flight, Pacer
from asyncstt.cli.progress import ProgressBoard, share_done, stage_of
from asyncstt.client import ClientError, OperationStatus, Progress


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _status(
    op: str, done: bool = False, processed: float = 0.0, **fields: object
) -> OperationStatus:
    progress = None if done else Progress(processed, 10.0, "recognising")
    error = fields.get("error")
    assert error is None or isinstance(error, ClientError)
    return OperationStatus(op, done, error, progress, "v3")


class FakeServer:
    """Answers get() from a script of statuses per operation; records cancels."""

    def __init__(self, script: dict[str, list[OperationStatus | ClientError]]) -> None:
        self.script = script
        self.gets: list[str] = []
        self.cancelled: list[str] = []

    def get(self, operation_id: str) -> OperationStatus:
        self.gets.append(operation_id)
        answer = self.script[operation_id].pop(0)
        if isinstance(answer, ClientError):
            raise answer
        return answer

    def cancel(self, operation_id: str) -> OperationStatus:
        if operation_id == "op-done":
            raise ClientError(9, "the operation is done already", 400)
        self.cancelled.append(operation_id)
        return _status(operation_id, done=True, error=ClientError(1, "cancelled"))


def test_calls_are_spaced_at_most_the_rate_a_second() -> None:
    time = FakeTime()
    pacer = Pacer(print, per_second=4.0, clock=time.clock, sleep=time.sleep)
    assert [pacer.call(functools.partial(str, n)) for n in range(3)] == ["0", "1", "2"]
    assert time.sleeps == [0.25, 0.25]


def test_a_spent_quota_is_waited_out_and_said_and_other_errors_raise() -> None:
    time = FakeTime()
    heard: list[str] = []
    answers: list[object] = [ClientError(8, "too many polls", 429)] * 2 + ["fine"]

    def request() -> str:
        answer = answers.pop(0)
        if isinstance(answer, ClientError):
            raise answer
        return str(answer)

    pacer = Pacer(heard.append, per_second=1000.0, clock=time.clock, sleep=time.sleep)
    assert pacer.call(request) == "fine"
    assert [s for s in time.sleeps if s >= 1] == list(BACK_OFF_SECONDS[:2])
    assert heard == [
        "the server's quota is spent (too many polls); retrying in 1 s",
        "the server's quota is spent (too many polls); retrying in 2 s",
    ]

    def refused() -> str:
        raise ClientError(7, "permission denied", 403)

    with pytest.raises(ClientError, match="permission denied"):
        pacer.call(refused)


def _flight(server: FakeServer, seen: list[tuple[str, float]]) -> tuple[Flight, FakeTime]:
    time = FakeTime()
    pacer = Pacer(print, per_second=1000.0, clock=time.clock, sleep=time.sleep)
    flight = Flight(
        server,
        pacer,
        lambda name, status: seen.append((name, share_done(status))),
        poll_interval=0.5,
        clock=time.clock,
        sleep=time.sleep,
    )
    return flight, time


def test_a_round_polls_each_operation_once_and_hands_back_the_finished() -> None:
    server = FakeServer(
        {
            "op-a": [_status("op-a", processed=5.0), _status("op-a", done=True)],
            "op-b": [_status("op-b", done=True, error=ClientError(3, "bad audio"))],
        }
    )
    seen: list[tuple[str, float]] = []
    flight, time = _flight(server, seen)
    flight.add("a.wav", _status("op-a"))
    flight.add("b.wav", _status("op-b"))
    finished = flight.round()
    assert [(name, status.error) for name, status in finished] == [
        ("b.wav", ClientError(3, "bad audio"))
    ]
    assert seen == [("a.wav", 0.5), ("b.wav", 1.0)]
    assert flight.ids() == {"a.wav": "op-a"}
    assert sum(time.sleeps) == pytest.approx(0.5, abs=0.01)
    assert [name for name, _ in flight.round()] == ["a.wav"]
    assert len(flight) == 0
    assert server.gets == ["op-a", "op-b", "op-a"]


def test_an_operation_done_when_submitted_is_not_polled() -> None:
    server = FakeServer({})
    flight, _ = _flight(server, [])
    flight.add("a.wav", _status("op-a", done=True))
    assert [name for name, _ in flight.round()] == ["a.wav"]
    assert server.gets == []


def test_an_operation_the_server_no_longer_knows_finishes_with_its_error() -> None:
    gone = ClientError(5, "operation op-a not found", 404)
    flight, _ = _flight(FakeServer({"op-a": [gone]}), [])
    flight.add("a.wav", _status("op-a"))
    [(name, status)] = flight.round()
    assert (name, status.done, status.error) == ("a.wav", True, gone)


def test_ctrl_c_cancels_what_is_in_flight_and_names_each_id() -> None:
    server = FakeServer({})
    flight, _ = _flight(server, [])
    flight.add("a.wav", _status("op-a"))
    flight.add("b.wav", _status("op-done"))
    assert flight.interrupt(detach=False) == [
        "interrupted; cancelling 2 operation(s):",
        "  cancelled op-a (a.wav)",
        "  could not cancel op-done (b.wav): the operation is done already",
    ]
    assert server.cancelled == ["op-a"]
    assert len(flight) == 0


def test_ctrl_c_with_detach_leaves_them_running() -> None:
    server = FakeServer({})
    flight, _ = _flight(server, [])
    flight.add("a.wav", _status("op-a"))
    assert flight.interrupt(detach=True) == [
        "interrupted; 1 operation(s) left running (--detach):",
        "  left running op-a (a.wav)",
    ]
    assert server.cancelled == []
    assert flight.interrupt(detach=False) == [
        "interrupted; cancelling 1 operation(s):",
        "  cancelled op-a (a.wav)",
    ]


def test_share_and_stage_come_from_the_progress_metadata() -> None:
    assert share_done(_status("op", processed=2.5)) == 0.25
    assert stage_of(_status("op", processed=2.5)) == "recognising"
    queued = OperationStatus("op", False, None, None, "v3")
    assert (share_done(queued), stage_of(queued)) == (0.0, "queued")
    failed = _status("op", done=True, error=ClientError(3, "bad audio"))
    assert (share_done(failed), stage_of(failed)) == (1.0, "failed")


def test_the_board_shows_a_line_per_file_and_a_total() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)
    with ProgressBoard(console, 2, keep_finished=True) as board:
        board.add("a.wav")
        board.add("b.wav")
        board.update("a.wav", _status("op-a", processed=5.0))
        board.update("b.wav", _status("op-b", done=True))
        board.say("b.wav: wrote out/b.srt")
    text = out.getvalue()
    assert "b.wav: wrote out/b.srt" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert "75%" in lines["total"]
    assert lines["a.wav"].split()[-3:-1] == ["50%", "recognising"]
    assert lines["b.wav"].split()[-3:-1] == ["100%", "done"]
