"""The periodic work of Dask processes: quiet where the operator's Dask configuration is silent."""

from __future__ import annotations

from dataclasses import dataclass, field

import dask.config
import pytest
from tornado.ioloop import PeriodicCallback

from asyncstt.executor.quiet import QUIET_CLUSTER, quiet_server, quiet_values


def _nothing() -> None:
    """A periodic callback's work; never run here."""


@dataclass
class Server:
    """A Dask server as `quiet_server` sees it: its periodic callbacks, made with Dask's default intervals."""

    periodic_callbacks: dict[str, PeriodicCallback] = field(
        default_factory=lambda: {
            name: PeriodicCallback(_nothing, milliseconds)
            for name, milliseconds in {
                "tick": 20,
                "monitor": 500,
                "memory_monitor": 100,
                "profile": 10,
                "profile-cycle": 1000,
                "heartbeat": 1000,
            }.items()
        }
    )

    def intervals(self) -> dict[str, float]:
        return {name: pc.callback_time for name, pc in self.periodic_callbacks.items()}


def test_the_operators_silence_leaves_every_quiet_value() -> None:
    assert quiet_values({}) == QUIET_CLUSTER
    assert quiet_values({"distributed": {"scheduler": {"worker-saturation": 1.0}}}) == QUIET_CLUSTER


def test_a_value_the_operator_sets_is_not_replaced_even_where_it_is_dasks_own() -> None:
    chosen = {
        "distributed": {
            "admin": {"tick": {"interval": "20ms"}, "system_monitor": {"interval": "1s"}},
            "worker": {"profile": {"enabled": True}},
        }
    }
    assert quiet_values(chosen) == {
        "distributed": {"worker": {"memory": {"monitor-interval": "1s"}}}
    }


def configured(tick: str, monitor: str, memory: str, profile: bool) -> dict[str, object]:
    return {
        "distributed.admin.tick.interval": tick,
        "distributed.admin.system-monitor.interval": monitor,
        "distributed.worker.memory.monitor-interval": memory,
        "distributed.worker.profile.enabled": profile,
    }


QUIET = {"tick": 1000, "monitor": 5000, "memory_monitor": 1000, "heartbeat": 1000}


@pytest.mark.parametrize(
    ("configuration", "intervals"),
    [
        # The quiet values: a server made before they applied takes them before it starts.
        (configured("1s", "5s", "1s", profile=False), QUIET),
        # Dask's own, as an operator may set them: kept, the profiler too.
        (configured("20ms", "500ms", "100ms", profile=True), Server().intervals()),
    ],
)
def test_a_server_takes_the_intervals_and_profiler_the_configuration_holds(
    configuration: dict[str, object], intervals: dict[str, float]
) -> None:
    server = Server()
    with dask.config.set(configuration):
        quiet_server(server)
    assert server.intervals() == intervals
    assert not any(pc.is_running() for pc in server.periodic_callbacks.values())
