"""At 80 columns the accounts and clusters panes switch to their narrow columns
and never scroll sideways; resizing keeps the selection."""

from __future__ import annotations

import re

import pytest

from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.view import short_region
from heartbeat_tui.tui.widgets.pane_table import PaneTable
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines, screen_text


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


SPARK = re.compile(r"([▁▂▃▄▅▆▇█]+) +\d+%")


def with_long_name(snapshot: FleetSnapshot, name: str) -> FleetSnapshot:
    """The first service of the first cluster renamed (a long name takes width first)."""

    account = snapshot.accounts[0]
    region = account.regions[0]
    cluster = region.clusters[0]
    first = cluster.services[0].model_copy(update={"name": name, "arn": cluster.services[0].arn + "-long"})
    cluster = cluster.model_copy(update={"services": (first, *cluster.services[1:])})
    region = region.model_copy(update={"clusters": (cluster, *region.clusters[1:])})
    account = account.model_copy(update={"regions": (region, *account.regions[1:])})
    return snapshot.model_copy(update={"accounts": (account, *snapshot.accounts[1:])})


@pytest.mark.parametrize(
    ("long_name", "spark_cells"),
    [(None, {10}), ("checkout-payments-reconcile-ab", {7})],
    ids=["short-names", "long-name"],
)
async def test_eighty_columns_give_the_names_spare_width_to_the_sparklines(
    long_name: str | None, spark_cells: set[int]
) -> None:
    snapshot = make_snapshot(accounts=2, clusters=1, services=6)
    if long_name:
        snapshot = with_long_name(snapshot, long_name)
    app = make_app(ScriptedSource(snapshot))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        table = app.screen.query_one("#services", ServiceTable)
        assert table.max_scroll_x == 0  # still nothing sideways
        lines = [line for line in screen_lines(app) if SPARK.search(line) and "%" in line]
        services = [line for line in lines if line.count("%") == 2 and "/" in line]
        assert len(services) == 6, lines
        # CPU and memory, each: as long a history as the wide layout shows when the
        # names leave room, shorter (never under 5 cells) when a long name needs it.
        assert {len(m) for line in services for m in SPARK.findall(line)} == spark_cells
        if long_name:
            assert any(long_name in line for line in services)  # the name whole
