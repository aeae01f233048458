"""Dask nanny preload module for asyncstt workers on other machines.

    dask worker tcp://scheduler:8786 --preload asyncstt.executor.worker --preload-nanny asyncstt.executor.nanny \
        --nthreads 1 --nworkers N

The nanny that `dask worker` runs beside its worker processes keeps its periodic work as small as theirs
(`quiet.py`): with Dask's values it spent 22 ms of CPU a second while the worker it watched was idle.
"""

from __future__ import annotations

from typing import Any

from asyncstt.executor.quiet import quiet_defaults, quiet_server


def dask_setup(nanny: Any) -> None:
    """Called by Dask in the nanny's process before it starts its worker processes."""
    quiet_defaults()
    quiet_server(nanny)
