"""The garbage collector has one owner (heartbeat_tui.heap): poll windows and the
dashboard's held freeze compose instead of undoing each other."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator

import pytest

from heartbeat_tui import heap


@pytest.fixture(autouse=True)
def nothing_held() -> Iterator[None]:
    heap.release()
    yield
    heap.release()


def test_a_poll_window_leaves_the_garbage_collector_as_it_found_it() -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    with heap.poll_window():
        assert gc.get_freeze_count() > frozen  # objects older than the poll are skipped
        with heap.poll_window():  # another collector polling meanwhile
            pass
        assert gc.get_freeze_count() > frozen and gc.get_threshold()[2] >= thresholds[2]
        cycle: list[object] = []
        cycle.append(cycle)
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == frozen
    del cycle
    assert gc.collect() >= 1  # cyclic garbage made during a poll is still collected


def test_a_held_freeze_survives_poll_windows_until_released() -> None:
    thresholds = gc.get_threshold()
    heap.hold()
    held = gc.get_freeze_count()
    assert held > 0
    with heap.poll_window():
        pass
    # The poll did not unfreeze what the dashboard froze.
    assert gc.get_freeze_count() >= held and gc.get_threshold() == thresholds
    heap.release()
    assert gc.get_freeze_count() == 0


class _Node:
    me: object = None


def test_holding_with_a_collection_first_frees_cycles_the_old_freeze_kept() -> None:
    node = _Node()
    node.me = node
    ref = weakref.ref(node)
    heap.hold()
    del node
    gc.collect()
    assert ref() is not None  # frozen: no collection looks at it while held
    heap.hold(collect_first=True)
    assert ref() is None  # unfrozen, collected, and only then is the rest frozen again


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not heap.give_back(), reason="no malloc_trim: not glibc")
def test_what_a_poll_freed_is_given_back_to_the_system() -> None:
    """A poll's answers are garbage once its snapshot is made; scattered survivors
    (the snapshot) kept glibc from returning the pages around them."""

    before = _rss_bytes()
    with heap.poll_window():
        answers = [bytes(4000) + bytes([n % 256]) for n in range(40_000)]  # 160 MB, each below mmap's threshold
        kept = answers[::64]
        del answers
        assert _rss_bytes() - before > 100_000_000  # freed, but still the process's
    assert _rss_bytes() - before < 40_000_000
    assert len(kept) == 625


def test_a_window_without_batched_young_collections_holds_off_only_the_full_ones() -> None:
    thresholds = gc.get_threshold()
    with heap.poll_window(batch_young=False):
        young0, young1, full = gc.get_threshold()
        assert (young0, young1) == thresholds[:2] and full >= 1_000_000
    with heap.poll_window():
        assert gc.get_threshold()[0] >= 50_000  # the collector's own process batches them
    assert gc.get_threshold() == thresholds


def test_a_finalizer_run_by_the_held_collection_may_open_a_poll_window() -> None:
    """`hold(collect_first=True)` collects under the module's lock; a finalizer
    that collection runs (any object's `__del__`) can reach code that polls on
    the same thread. It must not wait on itself."""

    ran: list[bool] = []

    class Polls:
        def __init__(self) -> None:
            self.cycle = self

        def __del__(self) -> None:
            with heap.poll_window():
                ran.append(True)

    def hold_with_garbage() -> None:
        Polls()  # unreachable at once, kept only by its cycle
        heap.hold(collect_first=True)

    import threading

    worker = threading.Thread(target=hold_with_garbage, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "hold() deadlocked on its own finalizer"
    assert ran == [True]
