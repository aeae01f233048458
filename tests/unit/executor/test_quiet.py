"""The periodic work of Dask processes: quiet where the operator's Dask configuration is silent."""

from __future__ import annotations

from dataclasses import dataclass, field

import dask.config
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


def test_a_server_made_before_the_quiet_values_takes_them_before_it_starts() -> None:
    server = Server()
    with dask.config.set(
        {
            "distributed.admin.tick.interval": "1s",
            "distributed.admin.system-monitor.interval": "5s",
            "distributed.worker.memory.monitor-interval": "1s",
            "distributed.worker.profile.enabled": False,
        }
    ):
        quiet_server(server)
    assert server.intervals() == {
        "tick": 1000,
        "monitor": 5000,
        "memory_monitor": 1000,
        "heartbeat": 1000,
    }
    assert not any(pc.is_running() for pc in server.periodic_callbacks.values())


def test_a_server_keeps_the_profiler_and_intervals_the_configuration_holds() -> None:
    server = Server()
    with dask.config.set(
        {
            "distributed.admin.tick.interval": "20ms",
            "distributed.admin.system-monitor.interval": "500ms",
            "distributed.worker.memory.monitor-interval": "100ms",
            "distributed.worker.profile.enabled": True,
        }
    ):
        quiet_server(server)
    assert server.intervals() == Server().intervals()
