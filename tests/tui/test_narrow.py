"""At 80 columns the accounts and clusters panes switch to their narrow columns
and never scroll sideways; resizing keeps the selection."""

from __future__ import annotations

import pytest

from heartbeat_tui.tui.view import short_region
from heartbeat_tui.tui.widgets.pane_table import PaneTable
from tests.tui.conftest import make_app, wait_until
from tests.tui.factory import ScriptedSource, make_snapshot
from tests.tui.screen_text import screen_text


@pytest.mark.parametrize(
    ("region", "short"),
    [
        ("us-east-1", "use1"),
        ("eu-west-1", "euw1"),
        ("eu-central-2", "euc2"),
        ("ap-southeast-2", "apse2"),
        ("ap-northeast-1", "apne1"),
        ("us-gov-west-1", "usgw1"),
        ("local", "local"),
        ("us--1", "us--1"),
    ],
)
def test_short_region(region: str, short: str) -> None:
    assert short_region(region) == short


def fits(table: PaneTable) -> bool:
    """No sideways scrolling: every column is inside the pane."""

    return table.max_scroll_x == 0 and table.virtual_size.width <= table.scrollable_content_region.width


async def test_eighty_columns_show_every_column_of_both_panes() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=8, clusters=9, services=3)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        accounts = app.screen.query_one("#accounts", PaneTable)
        clusters = app.screen.query_one("#clusters", PaneTable)
        assert clusters.is_narrow and not accounts.is_narrow
        assert [str(c.label) for c in clusters.columns.values()] == ["CLUSTER", "RUN/DES", "CPU", "MEM", "REGION"]
        assert fits(accounts) and fits(clusters)
        text = screen_text(app)
        assert "REGION" in text and "use1" in text  # the region, in short form
        assert "PROBS" in text  # the accounts pane's last column


async def test_resizing_switches_columns_and_keeps_the_selection() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=3, clusters=3, services=3)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        screen = app.screen
        clusters = screen.query_one("#clusters", PaneTable)
        assert not clusters.is_narrow and "us-east-1" in screen_text(app)
        await pilot.press("j")  # the second account
        await pilot.press("enter", "j", "j")  # its third cluster
        await pilot.pause()
        account, cluster = screen.selected_account, screen.selected_cluster
        assert cluster.endswith("cluster/payments-2")
        for size in ((80, 24), (100, 30), (81, 24), (120, 40), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert fits(clusters), size
            assert (screen.selected_account, screen.selected_cluster) == (account, cluster), size
            assert clusters.cursor_key == cluster
        assert clusters.is_narrow
        assert "payments-2" in screen_text(app)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not clusters.is_narrow and clusters.cursor_key == cluster
