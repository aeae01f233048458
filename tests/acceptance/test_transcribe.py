"""`asyncstt transcribe` of several files against a running server: subtitles per file, `--resume`, a damaged
file's failure with the API's message, and Ctrl-C cancelling (or with `--detach` leaving) what it submitted."""

from __future__ import annotations

import itertools
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import srt  # type: ignore[import-untyped]

from tests.acceptance.conftest import wait_done
from tests.support.audio import encode, read_wav_mono
from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

AUSTEN = "sense_and_sensibility_01_austen_64kb-0880"
COMMAND_TIMEOUT_SECONDS = 240


def transcribe(
    server: ServeProcess, *arguments: str | Path, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncstt.cli",
            "transcribe",
            *map(str, arguments),
            "--language",
            "en-US",
            "--server",
            server.url,
            "--api-key",
            server.api_key,
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
        cwd=cwd,
    )


def subtitle_text(path: Path) -> str:
    """The words of an SRT file, parsed back by a real parser, in cue order."""
    cues = list(srt.parse(path.read_text(encoding="utf-8")))
    assert cues, path.read_text()
    for cue in cues:
        assert cue.start < cue.end
    for before, after in itertools.pairwise(cues):
        assert before.end <= after.start
    return " ".join(cue.content.replace("\n", " ") for cue in cues)


def submitted(stderr: str) -> dict[str, str]:
    """The operation id of each file, from the command's `<name>: submitted as <id>` lines."""
    return {
        line.split(": submitted as ")[0]: line.split(": submitted as ")[1].strip()
        for line in stderr.splitlines()
        if ": submitted as " in line
    }


@pytest.fixture
def three_files(tmp_path: Path, audio_fixtures: Any) -> list[Path]:
    folder = tmp_path / "audio"
    folder.mkdir()
    return [
        Path(shutil.copyfile(audio_fixtures.jfk_wav, folder / "kennedy.wav")),
        Path(shutil.copyfile(audio_fixtures.jfk_ogg, folder / "kennedy-opus.ogg")),
        Path(shutil.copyfile(LIBRIVOX / f"{AUSTEN}.wav", folder / "austen.wav")),
    ]


@pytest.mark.timeout(600)
def test_three_files_become_subtitles_and_resume_skips_them_all(
    server: ServeProcess, three_files: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "subtitles"
    first = transcribe(
        server, *three_files, "--format", "srt", "--out", out, "--resume", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "austen.srt",
        "kennedy-opus.srt",
        "kennedy.srt",
    ]
    assert word_errors(subtitle_text(out / "kennedy.srt"), JFK_REFERENCE) <= 1
    assert word_errors(subtitle_text(out / "kennedy-opus.srt"), JFK_REFERENCE) <= 2
    assert word_errors(subtitle_text(out / "austen.srt"), librivox_reference(AUSTEN)) <= 3
    for path in three_files:
        assert f"{path.name}: submitted as " in first.stderr
        assert f"{path.name}: wrote {out / path.stem}.srt" in first.stderr
    written = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}

    second = transcribe(
        server, *three_files, "--format", "srt", "--out", out, "--resume", cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    for path in three_files:
        assert f"{path.name}: skipped, {out / path.stem}.srt exists (--resume)" in second.stderr
    assert "submitted as" not in second.stderr
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == written


@pytest.mark.timeout(400)
def test_a_damaged_file_fails_with_the_api_s_message_and_the_others_are_written(
    server: ServeProcess, audio_fixtures: Any, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.wav"
    damaged.write_bytes(np.random.default_rng(7).bytes(20_000))
    out = tmp_path / "text"
    done = transcribe(server, audio_fixtures.jfk_wav, damaged, "--out", out, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    operation_id = submitted(done.stderr)["damaged.wav"]
    with server.client() as client:
        message = wait_done(client, operation_id)["error"]["message"]
    assert "not audio" in message
    assert f"damaged.wav: failed: {message}" in done.stderr.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["jfk.txt"]
    assert word_errors((out / "jfk.txt").read_text(), JFK_REFERENCE) <= 1


def _interrupted(
    server: ServeProcess, recording: Path, tmp_path: Path, *flags: str
) -> tuple[int, str, str]:
    """Start a transcription, Ctrl-C it once its operation is submitted; (exit code, stderr, operation id)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asyncstt.cli",
            "transcribe",
            str(recording),
            "--out",
            str(tmp_path / "out"),
            "--server",
            server.url,
            "--api-key",
            server.api_key,
            *flags,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    operation_id = ""
    try:
        while not operation_id and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "submitted as " in line:
                operation_id = line.split("submitted as ")[1].strip()
        assert operation_id, "".join(lines)
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    return process.returncode, "".join(lines) + rest, operation_id


@pytest.fixture
def long_recording(tmp_path: Path, reference_audio: Path) -> Path:
    """33 s of speech, long enough to be still running when Ctrl-C comes, as Opus to fit the test server's
    1 MB inline cap."""
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    return encode(tmp_path / "thrice.ogg", [np.tile(jfk, 3)], 16000, "opus")


@pytest.mark.timeout(300)
def test_ctrl_c_cancels_what_it_submitted_and_names_it(
    server: ServeProcess, long_recording: Path, tmp_path: Path
) -> None:
    code, stderr, operation_id = _interrupted(server, long_recording, tmp_path)
    assert code == 130, stderr
    assert f"cancelled {operation_id} (thrice.ogg)" in stderr
    with server.client() as client:
        operation = wait_done(client, operation_id, timeout=60)
    assert operation["error"]["code"] == 1, operation
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(300)
def test_ctrl_c_with_detach_leaves_it_running(
    server: ServeProcess, long_recording: Path, tmp_path: Path
) -> None:
    code, stderr, operation_id = _interrupted(server, long_recording, tmp_path, "--detach")
    assert code == 130, stderr
    assert f"left running {operation_id} (thrice.ogg)" in stderr
    with server.client() as client:
        operation = wait_done(client, operation_id, timeout=180)
    assert "error" not in operation, operation
