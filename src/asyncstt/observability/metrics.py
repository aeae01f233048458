"""Prometheus metrics of one server process, in a registry of its own (several servers can share a process in
tests). Counts that live in the store (queue depth, operations by state) are read from it at scrape time, so
every API process reports the whole deployment's queue the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from asyncstt.operation import OperationState
from asyncstt.recognition import Priority

#: How the store reports its operations: count by (state, priority).
StateCounts = Callable[[], Mapping[tuple[OperationState, Priority], int]]

_DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)
_STAGE_BUCKETS = (0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 4 * 3600)
_RTF_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5)


class Metrics:
    """The process's metrics; `render()` is the body of `GET /metrics`."""

    def __init__(self, state_counts: StateCounts | None = None) -> None:
        self.registry = CollectorRegistry()
        self.slice_seconds = Histogram(
            "asyncstt_slice_duration_seconds",
            "Wall time of one recognised slice, from submit to result.",
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.operation_seconds = Histogram(
            "asyncstt_operation_duration_seconds",
            "Time from submit to the end of an operation, by outcome.",
            ["outcome"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "asyncstt_audio_processed_seconds",
            "Seconds of audio recognised, summed over channels.",
            registry=self.registry,
        )
        self.real_time_factor = Histogram(
            "asyncstt_slice_real_time_factor",
            "Wall time of a slice divided by its audio duration.",
            buckets=_RTF_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "asyncstt_errors",
            "Errors answered to requests and failed operations, by google.rpc code.",
            ["code", "where"],
            registry=self.registry,
        )
        self.grpc_requests = Counter(
            "asyncstt_grpc_requests",
            "Calls answered by the gRPC front door, by method and gRPC status code name.",
            ["method", "code"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "asyncstt_operation_stage_seconds",
            "Seconds one operation spent in each stage of its run (fetch, probe, plan, first_slice, "
            "slice_decode, slice_engine, handoff, checkpoints, assembly, run).",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        self.lease_expiries = Counter(
            "asyncstt_lease_expiries",
            "Operations taken over from a dispatcher whose lease ran out, or lost by this one.",
            registry=self.registry,
        )
        if state_counts is not None:
            self.registry.register(_StoreCollector(state_counts))

    def slice_finished(self, audio_seconds: float, wall_seconds: float) -> None:
        self.slice_seconds.observe(wall_seconds)
        self.audio_seconds.inc(audio_seconds)
        if audio_seconds > 0:
            self.real_time_factor.observe(wall_seconds / audio_seconds)

    def stages(self, seconds: Mapping[str, float]) -> None:
        """One run's seconds by stage (`RunTimings.stages`)."""
        for stage, value in seconds.items():
            self.stage_seconds.labels(stage).observe(value)

    def operation_finished(self, outcome: str, seconds: float) -> None:
        """`outcome`: `succeeded`, `failed` or `cancelled`."""
        self.operation_seconds.labels(outcome).observe(seconds)

    def error(self, code: int, where: str) -> None:
        """`where`: `request` (an error answer of either front door) or `operation` (an operation that failed)."""
        self.errors.labels(str(code), where).inc()

    def grpc_request(self, method: str, code: str) -> None:
        """One gRPC call answered; `code`: the status code's name (`OK`, `NOT_FOUND`, …)."""
        self.grpc_requests.labels(method, code).inc()

    def lease_expired(self) -> None:
        self.lease_expiries.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StoreCollector(Collector):
    def __init__(self, state_counts: StateCounts) -> None:
        self._state_counts = state_counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self._state_counts()
        queued = GaugeMetricFamily(
            "asyncstt_queue_depth",
            "Operations waiting for a dispatcher, by priority.",
            labels=["priority"],
        )
        by_state = GaugeMetricFamily(
            "asyncstt_operations", "Operations kept in the store, by state.", labels=["state"]
        )
        for priority in Priority:
            queued.add_metric(
                [priority.name.lower()], counts.get((OperationState.QUEUED, priority), 0)
            )
        for state in OperationState:
            total = sum(n for (s, _), n in counts.items() if s is state)
            by_state.add_metric([state.value.lower()], total)
        yield queued
        yield by_state
