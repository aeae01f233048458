"""How the C allocator hands the engine its working buffers.

CTranslate2 allocates and frees its buffers (a few MB to tens of MB each) for every batch it decodes. glibc gives
an allocation above its mmap threshold pages of its own and returns them on free, so the next batch faults every
page in again. Left alone, glibc raises the threshold as such buffers come and go; but a process started with
`MALLOC_TRIM_THRESHOLD_` set (Dask's nanny sets it for every worker it spawns) keeps it at 128 KiB for good, and
the engine then ran 1.7 times slower with three times the system time (bench/RESULTS.md).

Kept on the heap, freed buffers stay in the process's memory until glibc is asked to return them: the engine
asks before each batch (`release_free_memory`), which took a worker's peak on a call from 513 to 448 MB at
batch 2 in the same time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger(__name__)

#: glibc's mallopt parameters: the mmap threshold, and the most arenas threads share.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: The highest threshold glibc's own adjustment reaches on 64-bit machines: buffers up to this size are taken
#: from the heap and reused; memory freed at the heap's top is still returned under the trim threshold.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
#: Arenas the threads of the process share at most. glibc gives threads up to eight arenas per core, and the
#: buffers a thread frees stay in its arena for that arena's threads; with two, a worker's peak on a call fell
#: from about 340 to 306 MB at the same speed. Set here, the limit holds for threads started after the engine
#: loads; local workers are started with MALLOC_ARENA_MAX (executor/dask.py), which holds for every thread.
ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


@functools.cache
def keep_engine_buffers() -> bool:
    """Raise glibc's mmap threshold in this process, once; False where the C library is not glibc."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) != 1:
        log.warning("the C library refused an mmap threshold of %d bytes", MMAP_THRESHOLD_BYTES)
        return False
    if mallopt(_M_ARENA_MAX, ARENAS) != 1:
        log.warning("the C library refused to limit its arenas to %d", ARENAS)
    return True


def release_free_memory() -> None:
    """Return the heap's free pages to the system (glibc's malloc_trim); nothing elsewhere."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)
