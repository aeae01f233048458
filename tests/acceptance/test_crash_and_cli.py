"""Operations survive a killed server; the `transcribe` command runs the real API path."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.acceptance.conftest import wait_done
from tests.support.audio import read_wav_mono, write_wav
from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


@pytest.mark.timeout(400)
def test_operations_survive_a_killed_server(
    serve_factory: Callable[..., ServeProcess],
    s3_server: Any,
    reference_audio: Path,
    tmp_path: Path,
) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    write_wav(tmp_path / "twice.wav", [np.tile(jfk, 2)], 16000)
    s3_server.put("crash", "twice.wav", tmp_path / "twice.wav")
    server = serve_factory(extra_env={"ASYNCSTT_EXECUTION__LEASE_SECONDS": "3"})
    with server.client() as client:
        ids = []
        for _ in range(2):
            response = client.post(
                "/speech/stt/v2/longRunningRecognize",
                json={
                    "config": {"specification": {"languageCode": "en-US"}},
                    "audio": {"uri": "s3://crash/twice.wav"},
                },
            )
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
        stages: list[str | None] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stages = [
                client.get(f"/operations/{i}").json().get("metadata", {}).get("stage") for i in ids
            ]
            if "recognising" in stages:
                break
            time.sleep(0.05)
        assert "recognising" in stages, stages
    server.kill()
    killed_at = time.monotonic()
    server.start()
    with server.client() as client:
        results = [wait_done(client, operation_id, timeout=180) for operation_id in ids]
    print(f"all {len(ids)} operations done {time.monotonic() - killed_at:.1f} s after the kill")
    for operation in results:
        assert "error" not in operation, operation
        text = " ".join(c["alternatives"][0]["text"] for c in operation["response"]["chunks"])
        assert word_errors(text, f"{JFK_REFERENCE} {JFK_REFERENCE}") <= 2, text
    server.stop()


@pytest.mark.timeout(400)
def test_a_stopped_server_hands_its_work_back_so_a_restart_resumes_at_once(
    serve_factory: Callable[..., ServeProcess],
    s3_server: Any,
    reference_audio: Path,
    tmp_path: Path,
) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    write_wav(tmp_path / "thrice.wav", [np.tile(jfk, 3)], 16000)
    s3_server.put("graceful", "thrice.wav", tmp_path / "thrice.wav")
    # A lease far longer than the test: only a hand-back lets the restarted server take the work over.
    server = serve_factory(extra_env={"ASYNCSTT_EXECUTION__LEASE_SECONDS": "600"})
    body = {
        "config": {"specification": {"languageCode": "en-US"}},
        "audio": {"uri": "s3://graceful/thrice.wav"},
    }
    with server.client() as client:
        operation_id = client.post("/speech/stt/v2/longRunningRecognize", json=body).json()["id"]
        deadline = time.monotonic() + 60
        stage = None
        while time.monotonic() < deadline and stage != "recognising":
            stage = (
                client.get(f"/operations/{operation_id}").json().get("metadata", {}).get("stage")
            )
            time.sleep(0.05)
        assert stage == "recognising"
    server.stop()
    assert server.process is not None
    assert server.process.returncode is not None
    server.start()
    with server.client() as client:
        done = wait_done(client, operation_id, timeout=120)
    assert "error" not in done, done
    server.stop()


def test_transcribe_command_prints_the_text(reference_audio: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncstt.cli",
            "transcribe",
            str(reference_audio / "jfk.wav"),
            "--language",
            "en-US",
            "--data-dir",
            str(tmp_path / "data"),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert word_errors(done.stdout, JFK_REFERENCE) <= 1, done.stdout


def test_transcribe_command_reports_a_missing_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "asyncstt.cli", "transcribe", str(tmp_path / "nope.wav")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no such file" in done.stderr
