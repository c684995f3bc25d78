"""The reaper frees what it is given on its own thread, and only once nobody else holds it."""

from __future__ import annotations

import threading
import weakref

from heartbeat_tui.tui.reaper import Reaper, pieces
from heartbeat_tui.tui.view import build_view
from tests.support.factory import make_snapshot


class Thing:
    pass


def note_thread(into: list[str]) -> None:
    into.append(threading.current_thread().name)


def test_an_object_someone_still_holds_waits_for_them_and_is_then_freed_on_the_reaper_thread() -> None:
    reaper = Reaper(name="test-reaper")
    try:
        freed_on: list[str] = []
        thing = Thing()
        weakref.finalize(thing, note_thread, freed_on)
        reaper.retire(thing)
        assert not reaper.wait_freed(0.3)  # the test still holds it
        assert freed_on == []
        del thing
        assert reaper.wait_freed(10)
        assert freed_on == ["test-reaper"]
        assert reaper.freed == 1
    finally:
        reaper.close()


def test_a_snapshot_and_its_view_are_freed_service_by_service_off_the_caller_thread() -> None:
    reaper = Reaper(name="test-reaper", piece=3)
    try:
        snapshot = make_snapshot(accounts=2, clusters=2, services=5)
        view = build_view(snapshot)
        freed_on: list[str] = []
        for account in snapshot.accounts:
            for region in account.regions:
                for cluster in region.clusters:
                    for service in cluster.services:
                        weakref.finalize(service, note_thread, freed_on)
        assert len(pieces(snapshot)) == 20 and len(pieces(view)) == 20
        del account, region, cluster, service
        # Retired twice (by the app and by the screen that showed it): freed once, and not kept for ever.
        reaper.retire(snapshot, view, view, None)
        del snapshot, view
        assert reaper.wait_freed(10)
        assert freed_on == ["test-reaper"] * 20
    finally:
        reaper.close()
