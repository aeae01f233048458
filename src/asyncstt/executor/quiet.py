"""Dask's periodic work kept small in every process of a cluster asyncstt runs on.

Each Dask process does periodic work whether it recognises or not: an event-loop health tick every 20 ms, a
statistical profiler sampling each worker every 10 ms, system and memory monitors. With Dask's own values an idle
server with two local workers spent 133 ms of CPU a second, 7 % of a 2-core machine, taken from recognition while
it works; with `QUIET_CLUSTER`, 31 ms. A `dask worker` on another machine, its nanny and one worker process, spent
44 ms a second idle with Dask's values and 3 ms with these. A value that the operator's own Dask configuration
sets (its YAML files, DASK_* variables) stays, even where it is Dask's default.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import dask.config
from dask.utils import parse_timedelta

QUIET_CLUSTER: dict[str, Any] = {
    "distributed": {
        "admin": {"tick": {"interval": "1s"}, "system-monitor": {"interval": "5s"}},
        "worker": {"profile": {"enabled": False}, "memory": {"monitor-interval": "1s"}},
    }
}
#: The periodic work a Dask worker or nanny sets up when it is made, before its preloads run, and the setting each
#: follows.
_INTERVALS = {
    "tick": "distributed.admin.tick.interval",
    "monitor": "distributed.admin.system-monitor.interval",
    "memory_monitor": "distributed.worker.memory.monitor-interval",
}
_PROFILER = ("profile", "profile-cycle")


@functools.cache
def quiet_defaults() -> None:
    """Dask's defaults replaced by `QUIET_CLUSTER`, once per process, where the operator set no value."""
    dask.config.update_defaults(quiet_values(dask.config.collect()))


def quiet_values(chosen: dict[str, Any]) -> dict[str, Any]:
    """`QUIET_CLUSTER` less the values that `chosen` (the operator's configuration) sets."""
    tree: dict[str, Any] = {}
    for path, value in _leaves(QUIET_CLUSTER):
        if _holds(chosen, path):
            continue
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


def quiet_server(server: Any) -> None:
    """The periodic work of a Dask worker or nanny made before `quiet_defaults` ran (`dask worker` runs the
    preloads of both after making them, before it starts their periodic work), as the configuration says now."""
    callbacks = server.periodic_callbacks
    for name, key in _INTERVALS.items():
        if name in callbacks:
            callbacks[name].callback_time = (
                parse_timedelta(dask.config.get(key), default="ms") * 1000
            )
    if not dask.config.get("distributed.worker.profile.enabled"):
        for name in _PROFILER:
            callbacks.pop(name, None)


def _leaves(
    tree: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key), value


def _holds(tree: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether `tree` sets `path`, its keys compared as Dask compares them (`-` and `_` alike)."""
    node: Any = tree
    for part in path:
        if not isinstance(node, dict):
            return False
        found = [key for key in node if str(key).replace("_", "-") == part.replace("_", "-")]
        if not found:
            return False
        node = node[found[0]]
    return True
