"""`asyncstt transcribe FILE…`: local files through the API, all submitted at once, the server queueing them.

Each file's result is written as `<out>/<file stem>.<format>`, or printed when one file is given with no
`--out` (and no `--resume`, which needs a file to look for). Without `--server` an embedded server runs in
this process for the duration of the call and the files are submitted as `file://` links; with `--server`
they go through `asyncstt.client` as any client's would (inline, or uploaded to a bucket when too large).
Ctrl-C cancels what was submitted and not finished, or leaves it running with `--detach`, naming the ids.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from asyncstt.cli.embedded import embedded_server
from asyncstt.cli.flight import Flight, Pacer
from asyncstt.cli.progress import ProgressBoard
from asyncstt.client import Client, ClientError, OperationStatus, Recognition
from asyncstt.errors import InvalidArgument
from asyncstt.settings import Settings

Format = Literal["txt", "json", "srt", "vtt"]
FORMATS: tuple[Format, ...] = ("txt", "json", "srt", "vtt")


@dataclass(frozen=True)
class Job:
    """One file to recognise and where its result goes: a file, or stdout when `target` is None."""

    path: Path
    target: Path | None

    @property
    def name(self) -> str:
        """How the file is named in progress lines and messages."""
        return self.path.name


@dataclass(frozen=True)
class Options:
    """What every file of one call is recognised with."""

    format: Format = "txt"
    language: str = ""
    deferred: bool = False
    detach: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a call ended: the files whose result was not written, each with the reason, and whether Ctrl-C
    stopped it."""

    failed: dict[str, str]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failed else 0


def plan(paths: Sequence[Path], out: Path | None, format: Format, *, resume: bool) -> list[Job]:
    """A job per file: stdout for a lone file with neither `out` nor `resume`, else `<out or .>/<stem>.<format>`.

    Two files that would write one result are refused before anything is submitted.
    """
    if len(paths) == 1 and out is None and not resume:
        return [Job(paths[0], None)]
    folder = out if out is not None else Path(".")
    by_target: dict[Path, Path] = {}
    for path in paths:
        target = folder / f"{path.stem}.{format}"
        first = by_target.setdefault(target, path)
        if first != path:
            raise InvalidArgument(f"{first} and {path} would both be written to {target}")
    return [Job(path, target) for target, path in by_target.items()]


def already_done(jobs: Sequence[Job], resume: bool) -> tuple[list[Job], list[Job]]:
    """(to run, to skip): with `resume`, a job whose result file exists is skipped."""
    if not resume:
        return list(jobs), []
    run = [job for job in jobs if job.target is None or not job.target.exists()]
    skip = [job for job in jobs if job.target is not None and job.target.exists()]
    return run, skip


def render(recognition: Recognition, format: Format) -> str:
    """A result as the file of `format` holds it, ending with a newline."""
    if format == "json":
        return json.dumps(recognition.to_json(), ensure_ascii=False, indent=2) + "\n"
    if format == "srt":
        return recognition.srt()
    if format == "vtt":
        return recognition.vtt()
    return recognition.text + "\n"


def transcribe(
    jobs: Sequence[Job],
    options: Options,
    client: Client,
    console: Console,
    *,
    by_link: bool,
) -> tuple[Outcome, str]:
    """Submit every job, wait for all, write each result; (the outcome, the text meant for stdout).

    `by_link` submits `file://` links (the embedded server reads the files itself) rather than the bytes.
    """
    board = ProgressBoard(console, len(jobs), keep_finished=True)
    pacer = Pacer(board.say)
    flight = Flight(client, pacer, board.update)
    by_name = {job.name: job for job in jobs}
    failed: dict[str, str] = {}
    printed = ""
    with board:
        try:
            for job in jobs:
                try:
                    status = pacer.call(functools.partial(_submit, client, job, options, by_link))
                except ClientError as error:
                    failed[job.name] = _refused(board, job.name, error)
                    continue
                flight.add(job.name, status)
                board.add(job.name)
                board.say(f"{job.name}: submitted as {status.id}")
            while flight:
                for name, status in flight.round():
                    job = by_name[name]
                    try:
                        printed += _finish(client, pacer, board, job, status, options.format)
                    except ClientError as error:
                        failed[name] = _refused(board, name, error)
        except KeyboardInterrupt:
            for line in flight.interrupt(detach=options.detach):
                board.say(line)
            return Outcome(failed, interrupted=True), printed
    return Outcome(failed), printed


def _submit(client: Client, job: Job, options: Options, by_link: bool) -> OperationStatus:
    if by_link:
        return client.submit_link(
            job.path.resolve().as_uri(), language=options.language, deferred=options.deferred
        )
    return client.submit_file(job.path, language=options.language, deferred=options.deferred)


def _finish(
    client: Client,
    pacer: Pacer,
    board: ProgressBoard,
    job: Job,
    status: OperationStatus,
    format: Format,
) -> str:
    """Write a finished job's result; the text for stdout when it has no file."""
    if status.error is not None:
        raise status.error
    text = render(pacer.call(lambda: client.result(status.id)), format)
    if job.target is None:
        return text
    job.target.parent.mkdir(parents=True, exist_ok=True)
    # Whole or not at all: --resume takes any file there for a finished result.
    partial = job.target.with_name(job.target.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(job.target)
    board.say(f"{job.name}: wrote {job.target}")
    return ""


def _refused(board: ProgressBoard, name: str, error: ClientError) -> str:
    board.finish(name)
    board.say(f"{name}: failed: {error.message}")
    return error.message


def run(
    paths: Sequence[Path],
    options: Options,
    settings: Settings,
    *,
    out: Path | None,
    resume: bool,
    server: str | None,
    api_key: str | None,
) -> int:
    """The whole command: plan, skip what `resume` finds done, run the rest; the exit code."""
    console = Console(stderr=True)
    jobs, skipped = already_done(plan(paths, out, options.format, resume=resume), resume)
    for job in skipped:
        console.print(
            f"{job.name}: skipped, {job.target} exists (--resume)", highlight=False, soft_wrap=True
        )
    if not jobs:
        return 0
    if server:
        with Client(
            server, api_key=api_key, inline_limit=settings.limits.max_inline_bytes
        ) as client:
            outcome, printed = transcribe(jobs, options, client, console, by_link=False)
    else:
        root = Path(os.path.commonpath([job.path.resolve().parent for job in jobs]))
        with (
            embedded_server(settings, console, "transcribe", file_root=root) as endpoint,
            Client(endpoint.url, api_key=endpoint.api_key) as client,
        ):
            outcome, printed = transcribe(jobs, options, client, console, by_link=True)
    sys.stdout.write(printed)
    return outcome.exit_code
