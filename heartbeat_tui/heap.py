"""The one owner of the garbage collector's settings in a HeartBeat process.

Whoever runs polls (the dashboard, `heartbeat snapshot`, the demo, the
benchmark) decides when; this module is the only code that calls `gc.freeze`,
`gc.unfreeze` or `gc.set_threshold` for them. The collector itself never
touches the garbage collector: when it did, its end-of-poll `gc.unfreeze()`
(on its own thread) undid the dashboard's freeze after every poll.

It also gives the C allocator's free memory back to the system after polls
(`give_back`): a poll's answers are garbage once its snapshot is made, and
glibc keeps the pages it freed (30 MB of 280 at 10,000 services).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Callable, Iterator

# Re-entrant: `hold(collect_first=True)` runs a full collection under it, and a
# finalizer that collection runs may itself open a poll window on this thread.
_lock = threading.RLock()
_polls = 0  # polls in flight (several collectors, several threads)
_held = False  # a long-lived caller keeps what is alive frozen between polls (`hold`)
_thresholds: tuple[int, int, int] = gc.get_threshold()


@contextlib.contextmanager
def poll_window(*, batch_young: bool = True) -> Iterator[None]:
    """While a poll runs, the garbage collector looks at young objects only and
    skips every object that existed before the poll (gc.freeze); after it, the
    thresholds are restored and, unless a caller `hold`s a freeze, every object
    is looked at again (gc.unfreeze): nothing stays exempt by accident.

    A cold poll allocates a few hundred thousand containers (parsed answers,
    models), which triggers full collections; each walked every object of the
    process, botocore's service models and the last snapshot included (about
    280,000): 0.4 s of a cold poll's CPU, 0.15 s of a warm one's.

    `batch_young=False` keeps the young generations' thresholds: for a process
    that only receives a poll from its workers (`heartbeat serve`), where a
    50,000-object young collection is a pause its requests wait through.
    """

    global _polls, _thresholds
    with _lock:
        if _polls == 0:
            gc.freeze()
            _thresholds = gc.get_threshold()
            # No older-generation pass during the poll either (what the poll
            # keeps is its snapshot, walked after the poll like the rest), and
            # young objects looked at every 50,000 allocations, not 700: most
            # of a poll's (parsed answers) are freed by then without a pass.
            young = (max(_thresholds[0], 50_000), max(_thresholds[1], 1_000)) if batch_young else _thresholds[:2]
            gc.set_threshold(*young, max(_thresholds[2], 1_000_000))
        _polls += 1
    try:
        yield
    finally:
        with _lock:
            _polls -= 1
            if _polls == 0:
                if _held:
                    # What the poll made is frozen too: with the thresholds back, the
                    # next young collection would walk all of it (a million objects at
                    # 40,000 services, 0.1-0.3 s), on whichever thread allocates next.
                    gc.freeze()
                gc.set_threshold(*_thresholds)
                if not _held:
                    gc.unfreeze()
        if _polls == 0:
            give_back()


def hold(*, collect_first: bool = False) -> None:
    """Freeze everything alive now, and keep it frozen across poll windows until
    `release`: the dashboard, after applying a poll, so full collections never
    walk its snapshot on the keypress path. `collect_first`: one full collection
    before (unfrozen first, so cyclic garbage is never kept for good)."""

    global _held
    with _lock:
        if collect_first:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        _held = True


def release() -> None:
    """Stop holding a freeze; every object is looked at again (when no poll runs)."""

    global _held
    with _lock:
        _held = False
        if _polls == 0:
            gc.unfreeze()


def collect_young() -> int:
    """Collect what is not frozen (what was made since the last `hold`), and give
    the freed memory back: a closed screen's cycles, without walking the frozen
    snapshot, so cheap at any fleet size. The number of objects freed."""

    freed = gc.collect()
    give_back()
    return freed


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


_trim = _malloc_trim()


def give_back() -> bool:
    """Return the C allocator's free pages to the system (glibc's `malloc_trim`;
    elsewhere nothing to do): what a poll freed stops counting in the process's
    RSS. False where there is no such call."""

    if _trim is None:
        return False
    _trim(0)  # ctypes lets other threads run meanwhile
    return True


__all__ = ["collect_young", "give_back", "hold", "poll_window", "release"]
