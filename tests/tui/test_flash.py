"""Issue 15, "nothing covers the data": notices go to a one-line flash bar that
has a line of its own, bursts are summarised, and `n` lists every notice."""

from __future__ import annotations

from heartbeat_tui.tui.screens.notifications import NotificationsScreen
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import Notes, make_app, wait_until
from tests.support.screen_text import screen_lines, screen_text


async def test_a_notice_covers_no_row_at_80x24() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=3, clusters=2, services=12)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        before = screen_lines(app)
        app.notify("payments-prod: 3 services scaled: orders/api 2→4, orders/worker 1→3, orders/web 2→3")
        await pilot.pause()
        after = screen_lines(app)
        flash = app.screen.query_one(FlashBar)
        row = flash.region.y
        # Only the flash line changed: every row of every pane is where it was, whole.
        assert [line for i, line in enumerate(after) if i != row] == [line for i, line in enumerate(before) if i != row]
        assert "payments-prod: 3 services scaled" in after[row]
        assert not flash.region.overlaps(app.screen.query_one("#services", ServiceTable).region)


async def test_a_burst_shows_the_newest_with_a_count_in_the_worst_colour() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.notify("payments-prod went to error: timeout", severity="error")
        app.notify("shared-services: scaled: shared-0/api-0000 2→3")
        await pilot.pause()
        flash = app.screen.query_one(FlashBar)
        line = screen_lines(app)[flash.region.y]
        assert "12:00:00 shared-services: scaled: shared-0/api-0000 2→3  (+1 more · n: history)" in line
        assert flash.flash is not None and flash.flash.worst == "error"


async def test_n_lists_every_notice_newest_first_with_time_and_severity() -> None:
    notes = Notes()
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        for number in range(50):
            app.notify(f"notice {number:02d}", severity="warning" if number == 3 else "information")
        app.notify("payments-prod went to error: timeout", severity="error", title="Poll failed")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NotificationsScreen)
        text = screen_text(app)
        assert "Notifications · 51, newest first" in text
        lines = screen_lines(app)
        first = next(i for i, line in enumerate(lines) if "went to error" in line)
        assert "12:00:00" in lines[first] and "error" in lines[first] and "Poll failed: payments-prod" in lines[first]
        assert "notice 49" in lines[first + 1] and "notice 48" in lines[first + 2]
        # Scrollable: the oldest is below the fold, then reached with `j`.
        assert "notice 00" not in text
        for _ in range(60):
            await pilot.press("j")
        await pilot.pause()
        assert "notice 00" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, NotificationsScreen)
        assert notes.said("notice 03")


async def test_a_notice_is_shown_as_it_is_never_as_markup_or_control_sequences() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.notify("[@click=app.quit]svc \x1b]0;pwned\x07 scaled", severity="warning")
        await pilot.pause()
        line = screen_lines(app)[app.screen.query_one(FlashBar).region.y]
        assert "[@click=app.quit]svc \\x1b]0;pwned\\x07 scaled" in line
        assert app.is_running


async def test_a_notice_leaves_the_flash_line_when_the_apps_clock_says_it_is_over() -> None:
    """Measured on the app's monotonic clock (a loaded machine, or a frozen test
    clock, must not cut a notice short), errors up twice as long."""

    now = [100.0]
    app = make_app(ScriptedSource(make_snapshot()), monotonic=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.notify("payments-prod: scaled", timeout=0.05)
        await pilot.pause(0.3)  # the timer fell due several times: the clock has not moved
        assert app.flash is not None and "payments-prod: scaled" in screen_text(app)
        now[0] += 0.05
        await wait_until(pilot, lambda: app.flash is None)
        assert "payments-prod: scaled" not in screen_lines(app)[app.screen.query_one(FlashBar).region.y]
        app.notify("payments-prod went to error: timeout", severity="error", timeout=0.05)
        await pilot.pause()
        now[0] += 0.06
        await pilot.pause(0.3)
        assert app.flash is not None  # an error: 0.1 s on the clock
        now[0] += 0.05
        await wait_until(pilot, lambda: app.flash is None)
