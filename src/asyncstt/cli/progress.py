"""The progress that `transcribe` and `batch` draw on stderr: a line per operation and a total line.

A file's line shows the share of its audio recognised (the operation's progress metadata), its stage and an
ETA; the total line counts files, each finished one as a whole and each running one by its share, with the
ETA of the whole run. On a terminal the lines redraw in place; piped, only the messages printed with `say`
remain (one line each: what was written, skipped or refused).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from asyncstt.client import OperationStatus

TOTAL = "total"


def share_done(status: OperationStatus) -> float:
    """How much of an operation is done, from 0 to 1: 1 once done, else recognised seconds over all seconds
    (0 while queued or before the length is known)."""
    if status.done:
        return 1.0
    progress = status.progress
    if progress is None or progress.total_seconds <= 0:
        return 0.0
    return min(progress.processed_seconds / progress.total_seconds, 1.0)


def stage_of(status: OperationStatus) -> str:
    """The word shown beside a file's bar."""
    if status.done:
        return "failed" if status.error is not None else "done"
    return (
        status.progress.stage if status.progress is not None and status.progress.stage else "queued"
    )


class ProgressBoard:
    """Bars of the operations a command waits for, keyed by the name shown, and the total over `files`.

    With `keep_finished` a finished file's bar stays (a few files on one screen); without, it goes, so that a
    long batch shows only what is in flight.
    """

    def __init__(self, console: Console, files: int, *, keep_finished: bool) -> None:
        self._console = console
        self._keep_finished = keep_finished
        self._progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[stage]}"),
            TimeRemainingColumn(),
            console=console,
            # The text a command prints goes to stdout as it is, never through the bars' console.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._total = self._progress.add_task(TOTAL, total=max(files, 1), stage="")
        self._tasks: dict[str, TaskID] = {}
        self._shares: dict[str, float] = {}
        self._ended: set[str] = set()

    def __enter__(self) -> ProgressBoard:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def add(self, name: str) -> None:
        """A bar for a file just submitted."""
        self._tasks[name] = self._progress.add_task(name, total=1.0, stage="queued")
        self._shares[name] = 0.0

    def update(self, name: str, status: OperationStatus) -> None:
        """Redraw a file's bar (and the total) from its latest status; a done status finishes it."""
        task = self._tasks.get(name)
        if task is None:
            return
        share = share_done(status)
        self._shares[name] = share
        self._progress.update(task, completed=share, stage=stage_of(status))
        if status.done:
            self.finish(name)
        else:
            self._redraw_total()

    def finish(self, name: str) -> None:
        """A file is over, whatever its end (done, failed, or refused at submit); once per name."""
        if name in self._ended:
            return
        self._ended.add(name)
        task = self._tasks.pop(name, None)
        self._shares.pop(name, None)
        if task is not None and not self._keep_finished:
            self._progress.remove_task(task)
        self._redraw_total()

    def say(self, message: str) -> None:
        """A line above the bars that stays once they are gone."""
        self._progress.console.print(message, highlight=False, markup=False, soft_wrap=True)

    def _redraw_total(self) -> None:
        self._progress.update(self._total, completed=len(self._ended) + sum(self._shares.values()))
