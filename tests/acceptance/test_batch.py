"""`asyncstt batch` over a prefix of the real S3 server against a running server: five objects, one damaged,
results in an output prefix checked against references; run again, it submits nothing new; and the same
into a directory, standard rather than deferred."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.acceptance.conftest import wait_done
from tests.support.environment import child_environment
from tests.support.s3server import S3Server
from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

AUSTEN = ("sense_and_sensibility_01_austen_64kb-0880", "sense_and_sensibility_01_austen_64kb-0930")
COMMAND_TIMEOUT_SECONDS = 300
#: name -> the reference of its text (None: the damaged object).
EXPECTED: dict[str, str | None] = {
    "jfk": JFK_REFERENCE,
    "2026/jfk-again": JFK_REFERENCE,
    "austen-0880": librivox_reference(AUSTEN[0]),
    "austen-0930": librivox_reference(AUSTEN[1]),
    "damaged": None,
}


def batch(
    server: ServeProcess, s3: S3Server, prefix: str, *arguments: str | Path
) -> subprocess.CompletedProcess[str]:
    env = child_environment(
        {
            "ASYNCSTT_STORAGE__ENDPOINT_URL": s3.endpoint_url,
            "ASYNCSTT_STORAGE__ACCESS_KEY_ID": s3.access_key_id,
            "ASYNCSTT_STORAGE__SECRET_ACCESS_KEY": s3.secret_access_key,
        }
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncstt.cli",
            "batch",
            prefix,
            *map(str, arguments),
            "--language",
            "en-US",
            "--max-in-flight",
            "2",
            "--server",
            server.url,
            "--api-key",
            server.api_key,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


def report(stderr: str, what: str) -> dict[str, str]:
    """`<name>: <what> …(<id>)` or `<name>: submitted as <id>` lines of the command, as name -> id; each name
    at most once."""
    found: dict[str, str] = {}
    for line in stderr.splitlines():
        name, _, rest = line.partition(": ")
        if not rest.startswith(what):
            continue
        assert name not in found, stderr
        found[name] = (
            rest.removeprefix("submitted as ").strip()
            if what == "submitted as"
            else rest.rsplit("(", 1)[1].rstrip(")")
        )
    return found


def summary(stdout: str) -> tuple[list[str], list[list[str]]]:
    """The totals row and the failure rows of the tab-separated summary."""
    lines = [line.split("\t") for line in stdout.splitlines()]
    assert lines[0] == ["files", "written", "already written", "failed", "audio hours"], stdout
    failures = lines[3:] if len(lines) > 2 else []
    if failures:
        assert lines[2] == ["file", "operation", "reason"], stdout
    return lines[1], failures


@pytest.fixture
def prefix(s3_server: S3Server, audio_fixtures: Any, tmp_path: Path) -> str:
    """Five audio objects under `in/` of a new bucket (one random bytes named .wav), and a note beside them."""
    bucket = f"batch-{uuid.uuid4().hex[:8]}"
    objects: dict[str, bytes | Path] = {
        "in/jfk.wav": audio_fixtures.jfk_wav,
        "in/2026/jfk-again.wav": audio_fixtures.jfk_wav,
        "in/austen-0880.wav": LIBRIVOX / f"{AUSTEN[0]}.wav",
        "in/austen-0930.wav": LIBRIVOX / f"{AUSTEN[1]}.wav",
        "in/damaged.wav": np.random.default_rng(11).bytes(40_000),
        "in/notes.txt": b"not audio, and not named as audio either",
    }
    for key, data in objects.items():
        s3_server.put(bucket, key, data)
    return f"s3://{bucket}/in/"


def _object_text(s3: S3Server, bucket: str, key: str) -> str:
    body: bytes = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    return body.decode()


def _check_results(read: Any) -> None:
    """Each good object's `.txt` and `.json` against its reference; `read(name + ending)` gives a file."""
    for name, reference in EXPECTED.items():
        if reference is None:
            continue
        text = read(f"{name}.txt")
        assert word_errors(text, reference) <= (1 if "jfk" in name else 3), (name, text)
        transcript = json.loads(read(f"{name}.json"))
        words = [w for u in transcript["utterances"] for w in u["words"]]
        assert words, transcript
        assert all(0 <= w["start"] <= w["end"] for w in words)
        assert " ".join(u["text"] for u in transcript["utterances"]).split() == text.split()


@pytest.mark.timeout(900)
def test_a_prefix_is_recognised_into_an_output_prefix_and_a_rerun_submits_nothing_new(
    server: ServeProcess, s3_server: S3Server, prefix: str
) -> None:
    bucket = prefix.split("/")[2]
    out = f"s3://{bucket}/out/"

    first = batch(server, s3_server, prefix, "--out", out)
    assert first.returncode == 1, first.stderr
    ids = report(first.stderr, "submitted as")
    assert sorted(ids) == sorted(EXPECTED)
    assert len(set(ids.values())) == 5
    assert report(first.stderr, "wrote") == {n: ids[n] for n, r in EXPECTED.items() if r}
    totals, failures = summary(first.stdout)
    assert totals[:4] == ["5", "4", "0", "1"]
    assert float(totals[4]) == pytest.approx((11.0 * 2 + 2.99 + 3.29) / 3600, abs=0.0005)
    with server.client() as client:
        message = wait_done(client, ids["damaged"])["error"]["message"]
    assert failures == [["damaged", ids["damaged"], message]]
    assert f"damaged: failed: {message} ({ids['damaged']})" in first.stderr.splitlines()

    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(
        f"out/{name}{ending}" for name, r in EXPECTED.items() if r for ending in (".json", ".txt")
    )
    _check_results(lambda name: _object_text(s3_server, bucket, f"out/{name}"))

    # One result lost since: the re-run asks for it again and gets the operation of the first run.
    s3_server.client().delete_object(Bucket=bucket, Key="out/austen-0880.json")
    second = batch(server, s3_server, prefix, "--out", out)
    assert second.returncode == 1, second.stderr
    assert "5 audio object(s), 3 written already, 2 to recognise" in second.stderr
    again = report(second.stderr, "submitted as")
    assert again == {"austen-0880": ids["austen-0880"], "damaged": ids["damaged"]}
    assert report(second.stderr, "wrote") == {"austen-0880": ids["austen-0880"]}
    totals, failures = summary(second.stdout)
    assert totals[:4] == ["5", "1", "3", "1"]
    assert failures == [["damaged", ids["damaged"], message]]
    _check_results(lambda name: _object_text(s3_server, bucket, f"out/{name}"))


@pytest.mark.timeout(600)
def test_standard_recognition_into_a_directory(
    server: ServeProcess, s3_server: S3Server, prefix: str, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    done = batch(server, s3_server, prefix, "--out", out, "--standard")
    assert done.returncode == 1, done.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.*")) == sorted(
        f"{name}{ending}" for name, r in EXPECTED.items() if r for ending in (".json", ".txt")
    )
    _check_results(lambda name: (out / name).read_text(encoding="utf-8"))
    shutil.rmtree(out / "2026")
    again = batch(server, s3_server, prefix, "--out", out, "--standard")
    assert report(again.stderr, "wrote") == {
        "2026/jfk-again": report(done.stderr, "wrote")["2026/jfk-again"]
    }
    assert (out / "2026" / "jfk-again.txt").is_file()


@pytest.mark.timeout(400)
def test_without_a_server_the_batch_runs_an_embedded_one(
    s3_server: S3Server, audio_fixtures: Any, tmp_path: Path
) -> None:
    bucket = f"batch-{uuid.uuid4().hex[:8]}"
    s3_server.put(bucket, "calls/jfk.wav", audio_fixtures.jfk_wav)
    env = child_environment(
        {
            "ASYNCSTT_STORAGE__ENDPOINT_URL": s3_server.endpoint_url,
            "ASYNCSTT_STORAGE__ACCESS_KEY_ID": s3_server.access_key_id,
            "ASYNCSTT_STORAGE__SECRET_ACCESS_KEY": s3_server.secret_access_key,
        }
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncstt.cli",
            "batch",
            f"s3://{bucket}/calls/",
            "--out",
            str(tmp_path / "out"),
            "--language",
            "en-US",
            "--data-dir",
            str(tmp_path / "data"),
            "--workers",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert summary(done.stdout) == (["1", "1", "0", "0", "0.003"], [])
    assert word_errors((tmp_path / "out" / "jfk.txt").read_text(), JFK_REFERENCE) <= 1
