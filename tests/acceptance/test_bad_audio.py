"""The bad-audio corpus against a real `asyncstt serve`: every bad file ends its operation with code 3 and a message
about the file, within seconds, without retries, while the memory of the server's whole process tree (API,
dispatcher, Dask nanny and workers) stays within a fixed bound over its idle size; a good file still recognises
afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import pytest

from tests.acceptance.conftest import wait_done
from tests.support.audio import read_wav_mono
from tests.support.bad_audio import BadFile, bad_audio_corpus, write_normal
from tests.support.serve import ServeProcess

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

#: The test server's duration limit; lying files hold 30 s more than it.
LIMIT_SECONDS = 60.0
#: Seconds within which every bad file's operation must end, all submitted at once on a loaded 2-core machine.
DONE_WITHIN_SECONDS = 30.0
#: How far the server's process tree may grow over its idle size while the corpus runs (docs/security.md).
TREE_GROWTH_BOUND_BYTES = 256 * 1024**2
SAMPLE_SECONDS = 0.05


class TreeMemory:
    """The summed RSS of a process and all its descendants, sampled on a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        total = 0
        for process in [self._root, *self._root.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, reference_audio: Path) -> list[BadFile]:
    root = tmp_path_factory.mktemp("bad-audio")
    return bad_audio_corpus(root, read_wav_mono(reference_audio / "jfk.wav"), LIMIT_SECONDS)


@pytest.fixture(scope="module")
def bad_audio_server(
    serve_factory: Callable[..., ServeProcess], corpus: list[BadFile]
) -> ServeProcess:
    return serve_factory(
        {
            "ASYNCSTT_ENGINE__KIND": "fake",
            "ASYNCSTT_LIMITS__MAX_DURATION_SECONDS": str(LIMIT_SECONDS),
        },
        args=["--file-root", str(corpus[0].path.parent)],
    )


@pytest.fixture
def http(bad_audio_server: ServeProcess) -> Iterator[httpx.Client]:
    with bad_audio_server.client() as client:
        yield client


def submit(http: httpx.Client, path: Path) -> str:
    response = http.post(
        "/speech/stt/v2/longRunningRecognize",
        json={
            "config": {"specification": {"languageCode": "en-US", "audioEncoding": "MP3"}},
            "audio": {"uri": f"file://{path}"},
        },
    )
    assert response.status_code == 200, response.text
    identifier: str = response.json()["id"]
    return identifier


def settle(memory: TreeMemory, seconds: float = 3.0) -> int:
    """The tree's smallest size over a few seconds: the idle size, once transient work is over."""
    smallest = memory.now()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.2)
        smallest = min(smallest, memory.now())
    return smallest


def test_every_bad_file_is_the_callers_error_and_memory_stays_bounded(
    http: httpx.Client,
    bad_audio_server: ServeProcess,
    corpus: list[BadFile],
    reference_audio: Path,
) -> None:
    assert bad_audio_server.process is not None
    memory = TreeMemory(bad_audio_server.process.pid)
    # A good file of two slices runs on both workers first, so the idle size includes what a first slice loads.
    speech = np.tile(read_wav_mono(reference_audio / "jfk.wav"), 4)
    warm = write_normal(corpus[0].path.parent / "warm.wav", speech)
    assert "response" in wait_done(http, submit(http, warm))
    idle = settle(memory)
    with memory:
        started = time.monotonic()
        submitted = {submit(http, case.path): case for case in corpus}
        ended: dict[str, tuple[dict[str, Any], float]] = {}
        for identifier in submitted:
            operation = wait_done(http, identifier, timeout=DONE_WITHIN_SECONDS)
            ended[identifier] = (operation, time.monotonic() - started)
    after = settle(memory)

    for identifier, case in submitted.items():
        operation, seconds = ended[identifier]
        error = operation.get("error")
        assert error is not None, f"{case.name} was recognised: {operation}"
        assert error["code"] == 3, f"{case.name}: {error}"
        assert case.matches(error["message"]), f"{case.name}: {error['message']}"
        assert seconds < DONE_WITHIN_SECONDS, f"{case.name} took {seconds:.1f} s"
    assert memory.peak - idle < TREE_GROWTH_BOUND_BYTES, (idle, memory.peak)
    # What the corpus took is given back: the tree is within a tenth of the bound of its idle size again.
    assert after - idle < TREE_GROWTH_BOUND_BYTES / 10, (idle, after)
    assert bad_audio_server.log_path is not None
    log = bad_audio_server.log_path.read_text()
    assert "lost by the cluster" not in log
    assert "Traceback" not in log

    normal = wait_done(http, submit(http, warm))
    assert normal.get("response", {}).get("chunks"), normal
