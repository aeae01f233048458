"""The dispatcher: claims operations from the store and carries each one through to its result.

It holds a lease on every operation it works on. If it dies, the lease runs out and any dispatcher, this one
after a restart included, claims the operation again and starts it over: nothing a client was told is lost.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asyncstt import ids
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.clock import utcnow
from asyncstt.errors import AsyncSttError, Cancelled, Internal
from asyncstt.executor.base import Executor, TaskHandle
from asyncstt.languages import AUTO
from asyncstt.lease import LeaseKeeper
from asyncstt.operation import INLINE_SOURCE, Operation, Progress
from asyncstt.pipeline.assemble import assemble, check_decoded_limits, decoded_duration
from asyncstt.pipeline.plan import SliceSpec, plan_cut_points, plan_slices
from asyncstt.pipeline.task import SliceJob, SliceResult, recognise_slice
from asyncstt.recognition import Priority, Transcript
from asyncstt.settings import Settings
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)

#: Dask priority of slices by operation priority: standard slices always run before deferred ones.
SLICE_PRIORITY = {Priority.STANDARD: 100, Priority.DEFERRED: 0}


class AudioFetcher:
    """Copies an operation's audio to a local file: inline bytes from the store, links through the sources."""

    def __init__(
        self,
        store: OperationStore,
        fetch_link: Callable[[str, Path, int, str], int],
        max_bytes: int,
    ) -> None:
        self._store = store
        self._fetch_link = fetch_link
        self._max_bytes = max_bytes

    def fetch(self, operation: Operation, destination: Path) -> None:
        if operation.source_uri == INLINE_SOURCE:
            data = self._store.inline_audio(operation.id)
            if data is None:
                raise Internal(
                    f"the inline audio of operation {operation.id} is missing from the store"
                )
            destination.write_bytes(data)
        else:
            self._fetch_link(
                operation.source_uri, destination, self._max_bytes, operation.folder_id
            )


@dataclass
class _Run:
    """What the dispatcher knows about one operation while it works on it."""

    operation: Operation
    keeper: LeaseKeeper
    workdir: Path


class Dispatcher:
    def __init__(
        self,
        store: OperationStore,
        executor: Executor,
        fetcher: AudioFetcher,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._executor = executor
        self._fetcher = fetcher
        self._settings = settings
        self._execution = settings.execution
        self._clock = clock
        self.owner = ids.new_instance_id("d")
        self._stop = threading.Event()
        self._slots = threading.Semaphore(self._execution.max_active_operations)
        self._pool = ThreadPoolExecutor(
            max_workers=self._execution.max_active_operations, thread_name_prefix="operation"
        )
        self._loop = threading.Thread(target=self._claim_loop, name="dispatcher", daemon=True)
        self._last_sweep = 0.0

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; operations in flight go back to the queue at their next check, so another
        dispatcher (or this server after a restart) claims them at once rather than when a lease runs out."""
        self._stop.set()
        if self._loop.is_alive():
            self._loop.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _claim_loop(self) -> None:
        while not self._stop.is_set():
            self._sweep_if_due()
            if not self._slots.acquire(timeout=self._execution.poll_interval_seconds):
                continue
            try:
                operation = self._store.claim(
                    self.owner, self._execution.lease_seconds, self._clock()
                )
            except Exception:
                log.exception("claiming an operation failed")
                operation = None
            if operation is None:
                self._slots.release()
                self._stop.wait(self._execution.poll_interval_seconds)
                continue
            log.info("claimed %s (attempt %d)", operation.id, operation.attempts)
            self._pool.submit(self._run_and_release, operation)

    def _sweep_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self._execution.sweep_interval_seconds:
            return
        self._last_sweep = now
        self.sweep()

    def sweep(self) -> list[str]:
        """Purge operations whose retention has run out, with their cached audio."""
        cutoff = self._clock().timestamp() - self._settings.limits.retention_seconds
        try:
            purged = self._store.purge_finished_before(
                datetime.fromtimestamp(cutoff, self._clock().tzinfo)
            )
        except Exception:
            log.exception("purging expired operations failed")
            return []
        for operation_id in purged:
            shutil.rmtree(self._settings.cache_dir / operation_id, ignore_errors=True)
        if purged:
            log.info("purged %d expired operations", len(purged))
        return purged

    def _run_and_release(self, operation: Operation) -> None:
        try:
            self.process(operation)
        finally:
            self._slots.release()

    def process(self, operation: Operation) -> None:
        """Carry a claimed operation through to its result or error (or abandon it if the lease is lost)."""
        workdir = self._settings.cache_dir / operation.id
        keeper = LeaseKeeper(
            self._store, operation.id, self.owner, self._execution.lease_seconds, self._clock
        )
        with keeper:
            run = _Run(operation, keeper, workdir)
            try:
                transcript = self._recognise(run)
            except _LeaseLost:
                self._hand_back(run)
                return
            except AsyncSttError as error:
                self._finish(run, error=error)
            except Exception as error:
                log.exception("operation %s failed", operation.id)
                self._finish(
                    run, error=Internal(f"recognition failed: {type(error).__name__}: {error}")
                )
            else:
                self._finish(run, transcript=transcript)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)

    def _hand_back(self, run: _Run) -> None:
        """Put an operation this dispatcher is leaving back in the queue, unless another holds it already."""
        if run.keeper.lost.is_set():
            log.warning("left %s: another dispatcher holds its lease", run.operation.id)
            return
        try:
            released = self._store.release(run.operation.id, self.owner, self._clock())
        except Exception:
            log.exception(
                "handing %s back failed; its lease will run out instead", run.operation.id
            )
            return
        log.info("handed %s back%s", run.operation.id, "" if released else ": it was gone already")

    def _finish(
        self, run: _Run, transcript: Transcript | None = None, error: AsyncSttError | None = None
    ) -> None:
        written = self._store.finish(
            run.operation.id,
            self.owner,
            self._clock(),
            result=transcript,
            error=error.to_info() if error else None,
        )
        if written:
            log.info("finished %s: %s", run.operation.id, "ok" if error is None else error.message)
        else:
            log.warning("result of %s not written: the lease was lost", run.operation.id)

    def _progress(self, run: _Run, progress: Progress) -> None:
        if self._stop.is_set() or not self._store.set_progress(
            run.operation.id, self.owner, progress, self._clock()
        ):
            raise _LeaseLost

    def _recognise(self, run: _Run) -> Transcript:
        operation = run.operation
        spec = operation.spec
        run.workdir.mkdir(parents=True, exist_ok=True)
        audio = run.workdir / "audio"
        self._progress(run, Progress(stage="fetching"))
        self._fetcher.fetch(operation, audio)
        self._progress(run, Progress(stage="probing"))
        info = probe(
            audio,
            spec.audio_encoding,
            spec.sample_rate_hertz,
            spec.audio_channel_count,
            self._settings.limits,
        )
        cuts = plan_cut_points(
            audio, info, self._execution.slice_seconds, self._execution.snap_window_seconds
        )
        slices = plan_slices(info, cuts)
        total = info.duration_seconds * info.channels
        self._progress(run, Progress(0.0, total, "recognising"))
        language = None if spec.language == AUTO else spec.language
        handles = {
            self._executor.submit(
                recognise_slice,
                SliceJob(
                    operation.id, str(audio), info, item, spec, language, self._settings.engine
                ),
                priority=SLICE_PRIORITY[spec.priority],
                key=f"slice-{operation.id}-{operation.attempts}-{item.index}",
            ): item
            for item in slices
        }
        results = self._collect(run, handles, info)
        duration = decoded_duration(results, info.channels)
        check_decoded_limits(duration, info, self._settings.limits)
        self._progress(run, Progress(total, total, "assembling"))
        return assemble(results, info, duration)

    def _collect(
        self, run: _Run, handles: dict[TaskHandle, SliceSpec], info: AudioInfo
    ) -> list[SliceResult]:
        """Wait for every slice while watching the lease, cancellation and progress."""
        pending = dict(handles)
        results: list[SliceResult] = []
        total = info.duration_seconds * info.channels
        last_cancel_check = time.monotonic()
        try:
            while pending:
                finished = [handle for handle in pending if handle.done()]
                for handle in finished:
                    del pending[handle]
                    results.append(handle.result())
                if finished:
                    processed = min(total, sum(r.decoded_seconds for r in results))
                    self._progress(run, Progress(processed, total, "recognising"))
                if run.keeper.lost.is_set() or self._stop.is_set():
                    raise _LeaseLost
                if time.monotonic() - last_cancel_check >= 0.5:
                    last_cancel_check = time.monotonic()
                    current = self._store.get(run.operation.id)
                    if current is None or current.cancel_requested:
                        raise Cancelled()
                if pending:
                    time.sleep(0.05)
        except BaseException:
            for handle in pending:
                handle.cancel()
            raise
        return results


class _LeaseLost(Exception):
    """Stop working on the operation without writing anything.

    Either another dispatcher owns it now, or this one is stopping and leaves it for whoever claims it next.
    """
