"""The engine's allocator setting, checked in a fresh process started as Dask's nanny starts its workers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: Counts the separately mapped blocks glibc holds while a 4 MiB buffer lives, before and after the setting.
_PROBE = """
import ctypes, ctypes.util

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2

def mapped_while_buffer_lives():
    before = libc.mallinfo2().hblks
    buffer = bytearray(4 * 1024 * 1024)
    during = libc.mallinfo2().hblks
    del buffer
    return during - before

from asyncstt.engines.allocator import keep_engine_buffers
first = mapped_while_buffer_lives()
kept = keep_engine_buffers()
print(first, kept, mapped_while_buffer_lives(), keep_engine_buffers())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_large_buffers_come_from_the_heap_once_set_even_under_a_fixed_trim_threshold() -> None:
    environment = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE], env=environment, capture_output=True, text=True, check=True
    )
    before, kept, after, again = answer.stdout.split()
    assert (before, kept, after, again) == ("1", "True", "0", "True")


_RELEASE_PROBE = """
from asyncstt.engines.allocator import keep_engine_buffers, release_free_memory

def resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 // 2**20

keep_engine_buffers()
buffers = [bytearray(2**20) for _ in range(200)]
del buffers[:-1]
before = resident_mib()
release_free_memory()
print(before - resident_mib())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_heap_buffers_go_back_to_the_system_when_released() -> None:
    environment = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    answer = subprocess.run(
        [sys.executable, "-c", _RELEASE_PROBE],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(answer.stdout) >= 150
