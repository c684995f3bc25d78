"""Pilot tests: the service detail screen (plots, sections, tasks on demand)."""

from __future__ import annotations

from heartbeat_tui.tui.plot import PlotSeries, plot_lines
from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import FIXED_NOW, ScriptedSource, make_snapshot, sample_detail
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_text


async def open_detail(pilot, app) -> ServiceDetailScreen:
    await wait_until(pilot, lambda: app.polls_applied == 1)
    await pilot.press("tab", "tab", "E", "j", "j", "j", "enter")  # by name: ledger-0003
    await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen))
    return app.screen


async def test_enter_opens_the_detail_with_plots_sections_and_tasks() -> None:
    source = ScriptedSource(make_snapshot(), detail=sample_detail())
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, app)
        await wait_until(pilot, lambda: screen.detail is not None)
        assert screen.row.name == "ledger-0003"
        assert source.detail_calls == [
            ("210987654321", "us-east-1", "arn:aws:ecs:us-east-1:210987654321:cluster/shared-0", "ledger-0003")
        ]
        await pilot.pause()
        text = screen_text(app)
        assert "CPU %" in text and "Memory %" in text and "100%┤" in text and "09:00" in text and "12:00" in text
        assert "running 4 / desired 5 / pending 1" in text
        assert "Deployments" in text and "PRIMARY" in text
        assert "policy cpu-target: TargetTrackingScaling target 60" in text
        assert "Setting desired count to 5." in text and "cause: monitor alarm" in text
        await pilot.press("G")
        await pilot.pause()
        text = screen_text(app)
        assert "TaskFailedToStart: CannotPullContainerError" in text and "UNHEALTHY" in text
        assert "Latest events" in text
        await pilot.press("escape")
        assert isinstance(app.screen.query_one("#services", ServiceTable), ServiceTable)


async def test_a_failed_task_fetch_is_shown_inline_and_t_retries() -> None:
    source = ScriptedSource(make_snapshot(), detail_error=RuntimeError("ECS ListTasks: AccessDenied"))
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, app)
        await wait_until(pilot, lambda: screen.detail_error is not None)
        await pilot.press("G")
        await pilot.pause()
        assert "could not fetch tasks: RuntimeError: ECS ListTasks: AccessDenied" in screen_text(app)
        source.detail_error = None
        source.detail = sample_detail()
        await pilot.press("t")
        await wait_until(pilot, lambda: screen.detail is not None)
        assert len(source.detail_calls) == 2
        assert screen.detail_error is None


async def test_the_detail_follows_refreshes() -> None:
    source = ScriptedSource(make_snapshot(), detail=sample_detail())
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, app)
        source.push(make_snapshot(bump={3: 70.0}, poll=2))
        await pilot.press("r")
        await wait_until(pilot, lambda: app.polls_applied == 2)
        assert screen.row.cpu > 80
        assert "cpu 9" in screen_text(app)


def test_plot_lines_draws_both_series_with_axes() -> None:
    snapshot = make_snapshot(accounts=1, clusters=1, services=1)
    metrics = snapshot.accounts[0].regions[0].clusters[0].services[0].metrics
    end = FIXED_NOW.timestamp()
    rows = plot_lines(
        (
            PlotSeries("Maximum", metrics.cpu_maximum, "hb-plot-maximum", "max"),
            PlotSeries("Average", metrics.cpu_average, "hb-plot-average"),
        ),
        start=end - 3 * 3600,
        end=end,
        width=60,
        height=8,
        time_label=lambda t: "T",
    )
    assert len(rows) == 10
    styles = {style for row in rows for _, style in row}
    assert {"hb-plot-maximum", "hb-plot-average", "axis"} <= styles
    assert rows[0][0][0] == "100%┤" and rows[7][0][0] == "  0%┤"
    assert all(sum(len(text) for text, _ in row) <= 60 for row in rows)
