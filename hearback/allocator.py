"""How the C allocator hands memory back: the main cause of Hearback's peak memory.

Measured on a 12-minute recording through the CLI (bench/long_sessions.py, README "Memory"): the
models take about 430 MB, yet the process peaked at 1.44 GB. The rest was glibc keeping freed
buffers: each decoding, segmentation or embedding batch allocates tens of MB, and glibc's
*dynamic* mmap threshold rises after the first such buffer is freed, so later ones come from the
heap and stay there fragmented; every thread also gets its own arena (up to 8 per core). A fixed
mmap threshold gives large buffers back to the system as soon as they are freed, and two arenas are
plenty for a process whose heavy work runs in native thread pools: 1.44 GB became 0.96 GB at the
same speed.

Called first by the CLI, the worker and the service. Variables the user set (MALLOC_ARENA_MAX,
MALLOC_MMAP_THRESHOLD_) win; elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed instead of growing to 32 MB
ARENA_MAX = 2


def tune() -> bool:
    """Fix glibc's mmap threshold and arena count for this process; False where nothing was set."""
    libc = _glibc()
    if libc is None:
        return False
    done = False
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        done |= bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    if "MALLOC_ARENA_MAX" not in os.environ:
        done |= bool(libc.mallopt(M_ARENA_MAX, ARENA_MAX))
    return done


def _glibc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is None or not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
            return None
    except OSError:
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return libc
