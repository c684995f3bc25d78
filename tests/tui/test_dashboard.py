"""Pilot tests: the dashboard fed with deterministic snapshots."""

from __future__ import annotations

import asyncio

from textual import events

from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.widgets.pane_table import PaneTable
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import Notes, make_app, wait_until
from tests.support.screen_text import screen_lines, screen_text


async def test_first_poll_fills_the_three_panes() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=3, clusters=2, services=6)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        accounts = app.screen.query_one("#accounts", PaneTable)
        clusters = app.screen.query_one("#clusters", PaneTable)
        services = app.screen.query_one("#services", ServiceTable)
        assert accounts.row_count == 3 and clusters.row_count == 2 and len(services.order) == 6
        text = screen_text(app)
        assert "shared-services" in text and "shared-0" in text and "api-0000" in text
        assert "polled 12:00:00" in text and "next in 3600 s" in text


async def test_navigation_between_panes_and_rows() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=3, clusters=2, services=6)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        screen = app.screen
        assert screen.focused.id == "accounts"
        await pilot.press("j")  # second account: its clusters and services follow
        await pilot.pause()
        assert screen.selected_account == app.view.snapshot.accounts[1].id
        assert "payments-0" in screen_text(app)
        await pilot.press("enter")  # into the clusters
        assert screen.focused.id == "clusters"
        await pilot.press("j")
        await pilot.pause()
        assert screen.selected_cluster.endswith("cluster/payments-1")
        await pilot.press("l")
        assert screen.focused.id == "services"
        table = screen.query_one("#services", ServiceTable)
        await pilot.press("j", "j", "G")
        assert table.cursor_index == len(table.order) - 1
        await pilot.press("g")
        assert table.cursor_index == 0
        await pilot.press("h")
        assert screen.focused.id == "clusters"
        await pilot.press("escape")
        assert screen.focused.id == "accounts"
        await pilot.press("tab", "tab")
        assert screen.focused.id == "services"


async def test_sort_cycles_and_header_click() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        assert table.sort_column == "severity"  # worst first, by default
        await pilot.press("C")  # shift+c, as in k9s
        assert table.sort_column == "cpu"
        cpus = [table.rows[k].cpu for k in table.order]
        assert cpus == sorted(cpus, reverse=True)
        await pilot.press("s")
        assert table.sort_column == "mem"
        await pilot.press("S")
        mems = [table.rows[k].mem for k in table.order]
        assert mems == sorted(mems)
        # A click on the SERVICE header sorts by name.
        x = table.render_line(0).text.index("SERVICE")  # where the header shows it
        await pilot.click(table, offset=(x + 2, 1))
        assert table.sort_column == "name"
        names = [table.rows[k].name for k in table.order]
        assert names == sorted(names)
        assert "sort service↑" in table.border_title


async def test_filter_narrows_and_a_bad_filter_never_crashes() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=3, clusters=2, services=10)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        await pilot.press("slash", *"status:FAILED", "enter")
        await pilot.pause()
        assert table.order and all(table.rows[k].rollout == "FAILED" for k in table.order)
        assert "/status:FAILED" in table.border_title
        assert app.screen.focused is table
        await pilot.press("slash", "space", *"cpu:>")
        await pilot.pause()
        assert "cpu needs a number" in screen_text(app)
        assert all(table.rows[k].rollout == "FAILED" for k in table.order)  # the last good filter stays
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace", *"cpu:>50 account:payments")
        await pilot.press("enter")
        await pilot.pause()
        for key in table.order:
            row = table.rows[key]
            assert row.rollout == "FAILED" and row.cpu > 50 and row.account == "payments-prod"
        await pilot.press("escape")  # clears the filter first
        assert len(table.order) == 60 and isinstance(app.screen, FleetServicesScreen)
        await pilot.press("escape")  # then goes back
        assert not isinstance(app.screen, FleetServicesScreen)


async def test_a_filter_typed_in_one_burst_keeps_every_key() -> None:
    """`/` and what follows arrive together (a fast typist, a paste, a slow
    link): every key after `/` lands in the filter, none in the table."""

    app = make_app(ScriptedSource(make_snapshot(accounts=3, clusters=2, services=10)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        # Queued at once, as the terminal driver queues what it reads in one go.
        typed = [(c, c) for c in "account"] + [("colon", ":")] + [(c, c) for c in "payments"]
        for key, character in [("slash", "/"), *typed, ("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await wait_until(pilot, lambda: "/account:payments" in (table.border_title or ""))
        assert table.order and all(table.rows[k].account == "payments-prod" for k in table.order)


async def test_refresh_keeps_cursor_sort_and_scroll() -> None:
    first = make_snapshot(accounts=4, clusters=2, services=20)
    source = ScriptedSource(first)
    app = make_app(source)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        await pilot.press("C")  # hottest first
        await pilot.press(*["j"] * 30)
        key = table.cursor_row.key
        screen_row = table.cursor_index - int(table.scroll_offset.y)
        assert table.scroll_offset.y > 0
        # Next poll: one service far down becomes the hottest, others unchanged.
        hot = len(table.order) - 1
        bumped = {int(table.rows[table.order[hot]].name.split("-")[1]): 100.0}
        source.push(make_snapshot(accounts=4, clusters=2, services=20, poll=2, bump=bumped))
        await pilot.press("r")
        await wait_until(pilot, lambda: app.polls_applied == 2)
        assert table.cursor_row.key == key
        assert table.sort_column == "cpu"
        assert table.cursor_index - int(table.scroll_offset.y) == screen_row
        assert table.last_resorted and table.last_changed == 1


async def test_an_account_going_to_error_is_announced_and_keeps_its_data() -> None:
    source = ScriptedSource(make_snapshot(accounts=3))
    app = make_app(source)
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        source.push(make_snapshot(accounts=3, errors={1: "STS AssumeRole: AccessDenied"}, poll=2))
        await pilot.press("j")  # select payments-prod
        await pilot.press("r")
        await wait_until(pilot, lambda: app.polls_applied == 2)
        messages = notes.messages
        assert any("payments-prod went to error: STS AssumeRole: AccessDenied" in m for m in messages)
        text = screen_text(app)
        assert "error 1h" in text
        assert "last good data 1h old" in text
        services = app.screen.query_one("#services", ServiceTable)
        assert services.order and all(services.rows[k].stale for k in services.order)
        assert "1 in error: payments-prod" in text


class SlowSource(ScriptedSource):
    """Its first poll answers at once; the next ones wait for `release`."""

    def __init__(self, *snapshots):
        super().__init__(*snapshots)
        self.release = asyncio.Event()
        self.started = 0

    async def poll(self, only=None):
        self.started += 1
        if self.polls >= 1:
            await self.release.wait()
        return await super().poll(only)


async def test_keys_are_answered_while_a_poll_runs() -> None:
    source = SlowSource(make_snapshot())
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("r")
        assert app.polling
        await pilot.press("r")  # a second poll never starts while one runs
        assert source.started == 2
        await pilot.press("tab", "tab", "j", "j")
        assert app.screen.query_one("#services", ServiceTable).cursor_index == 2
        assert "polling…" in screen_text(app)
        source.release.set()
        await wait_until(pilot, lambda: app.polls_applied == 2 and not app.polling)
        assert app.next_poll_at is not None


async def test_the_header_says_how_long_a_running_poll_has_run() -> None:
    now = [100.0]
    source = SlowSource(make_snapshot())
    app = make_app(source, monotonic=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("r")
        assert app.polling and "polling… " not in screen_lines(app)[0]  # under a second: no count
        now[0] += 12.6
        # The header's clock ticks each second; the time is the app's (injected) monotonic clock.
        await wait_until(pilot, lambda: "polling… 12 s" in screen_lines(app)[0])
        source.release.set()
        await wait_until(pilot, lambda: app.polls_applied == 2 and not app.polling)
        assert "polling" not in screen_lines(app)[0]


async def test_a_failed_poll_is_a_notification_and_the_next_is_armed() -> None:
    class Broken(ScriptedSource):
        async def poll(self, only=None):
            raise RuntimeError("no route to the collector")

    app = make_app(Broken(make_snapshot()))
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await wait_until(pilot, lambda: app.last_poll_error is not None and not app.polling)
        assert notes.said("no route to the collector")
        assert app.next_poll_at is not None
        assert "last poll failed" in screen_text(app)
