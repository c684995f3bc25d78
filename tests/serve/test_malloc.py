"""Freed heap memory goes back to the system where the C library allows it."""

from __future__ import annotations

import os
import platform

import pytest

from heartbeat_tui.serve.malloc import release_free_memory

glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not glibc, reason="malloc_trim is glibc's")
def test_freed_heap_pages_are_returned() -> None:
    release_free_memory()
    # 64 MB in blocks under glibc's mmap threshold (they come from the heap), the last kept:
    # freeing the others leaves their pages resident, in the middle of the heap.
    blocks = [bytearray(os.urandom(64)) * 1500 for _ in range(700)]
    kept = blocks[-1]
    before = resident_bytes()
    del blocks
    freed = resident_bytes()
    assert release_free_memory() is True
    after = resident_bytes()
    assert before - freed < 16 * 2**20  # free() alone gave back little
    assert freed - after > 32 * 2**20, (before, freed, after)
    assert len(kept) == 96_000


@pytest.mark.skipif(glibc, reason="elsewhere there is nothing to call")
def test_nothing_to_do_elsewhere() -> None:
    assert release_free_memory() is False
