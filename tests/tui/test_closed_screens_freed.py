"""A screen that was closed is freed by the dashboard's next poll on a small fleet.

The dashboard keeps what is alive frozen out of the garbage collector's scans
after every poll. A screen is a web of cycles (parents, message pumps), so
once closed it is garbage only a full collection frees; open across a poll,
it was frozen with the rest and stayed until the periodic full collection (20
polls). In a browser session each help or detail opened kept its memory for
minutes (about 1.5 MB a help screen, 30 MB over a short session). A full
collection costs what the fleet costs, so a small fleet has one every poll.
"""

from __future__ import annotations

import weakref
from datetime import timedelta

from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.screens.help import HelpScreen
from tests.support.factory import FIXED_NOW, ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until


class NewPolls(ScriptedSource):
    async def poll(self, only=None) -> FleetSnapshot:
        self.polls += 1
        now = FIXED_NOW + timedelta(seconds=30 * self.polls)
        return make_snapshot(accounts=4, clusters=2, services=6, poll=self.polls, now=now)


async def test_help_closed_is_freed_by_the_next_poll() -> None:
    app = make_app(NewPolls())
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = weakref.ref(app.screen)
        assert app.start_poll()  # a poll while help is open: it is frozen with the rest
        await wait_until(pilot, lambda: app.polls_applied >= 2)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        for polls in (3, 4):
            assert app.start_poll()
            await wait_until(pilot, lambda polls=polls: app.polls_applied >= polls)
        assert help_screen() is None


async def test_help_opened_and_closed_between_polls_is_freed_without_one() -> None:
    # No poll after it: the screen's cycles are collected once it is gone, not at the next
    # poll (a user opening help ten times between two polls held ten screens' memory).
    app = make_app(NewPolls())
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = weakref.ref(app.screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: help_screen() is None, timeout=10)
        assert app.polls_applied == 1
