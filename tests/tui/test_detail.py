"""Pilot tests: the service detail screen (a fixed title, then tabs: overview,
tasks, events, configuration)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from heartbeat_tui.models import ServiceEvent, Task
from heartbeat_tui.tui.plot import PlotSeries, plot_lines
from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import FIXED_NOW, ScriptedSource, make_snapshot, sample_detail
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines, screen_text

SIZES = ((120, 40), (80, 24))


async def open_detail(pilot, app) -> ServiceDetailScreen:
    await wait_until(pilot, lambda: app.polls_applied == 1)
    await pilot.press("tab", "tab", "E", "j", "j", "j", "enter")  # by name: ledger-0003
    await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen))
    return app.screen


def with_service(snapshot, name: str, **changes):
    """`snapshot` with the service `name` changed (a snapshot is immutable: rebuilt)."""

    accounts = []
    for account in snapshot.accounts:
        regions = []
        for region in account.regions:
            clusters = []
            for cluster in region.clusters:
                services = tuple(s.model_copy(update=changes) if s.name == name else s for s in cluster.services)
                clusters.append(cluster.model_copy(update={"services": services}))
            regions.append(region.model_copy(update={"clusters": tuple(clusters)}))
        accounts.append(account.model_copy(update={"regions": tuple(regions)}))
    return snapshot.model_copy(update={"accounts": tuple(accounts)})


async def test_enter_opens_the_overview_with_plots_deployments_and_scaling() -> None:
    source = ScriptedSource(make_snapshot(), detail=sample_detail())
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, app)
        await wait_until(pilot, lambda: screen.detail is not None)
        assert screen.row.name == "ledger-0003"
        assert source.detail_calls == [
            ("210987654321", "us-east-1", "arn:aws:ecs:us-east-1:210987654321:cluster/shared-0", "ledger-0003")
        ]
        text = screen_text(app)
        assert "CPU %" in text and "Memory %" in text and "100%┤" in text and "09:00" in text and "12:00" in text
        assert "running 4 / desired 5 / pending 1" in text
        assert "Deployments" in text and "PRIMARY" in text
        assert "policy cpu-target: TargetTrackingScaling target 60" in text
        assert "Setting desired count to 5." in text and "cause: monitor alarm" in text
        assert "2 Tasks (1/2)" in text and "3 Events (3)" in text
        await pilot.press("escape")
        assert isinstance(app.screen.query_one("#services", ServiceTable), ServiceTable)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_task_is_in_the_table_and_the_selected_ones_containers_below(size) -> None:
    long_reason = "Essential container in task exited: " + " ".join(f"word{i}" for i in range(80)) + " END"
    detail = sample_detail()
    tasks = list(detail.tasks)
    tasks[1] = tasks[1].model_copy(update={"stopped_reason": long_reason})
    more = [
        Task(arn=f"arn:aws:ecs:us-east-1:210987654321:task/shared-0/{i:032x}", id=f"{i:032x}", last_status="RUNNING")
        for i in range(1, 19)
    ]
    detail = detail.model_copy(update={"tasks": (*tasks, *more)})
    app = make_app(ScriptedSource(make_snapshot(), detail=detail))
    async with app.run_test(size=size) as pilot:
        screen = await open_detail(pilot, app)
        await wait_until(pilot, lambda: screen.detail is not None)
        await pilot.press("2")
        await pilot.pause()
        assert screen.active_tab == "tasks"
        assert "2 Tasks (19/20)" in screen_text(app)
        assert "ledger-0003" in screen_lines(app)[1]  # the title stays
        await pilot.press("j")
        await pilot.pause()
        text = screen_text(app)
        assert screen.selected_task.id == "fedcba9876543210"
        assert "TaskFailedToStart" in text and "UNHEALTHY" in text
        assert "1 137" in text  # the exit codes, in the table row
        # The containers and the stopped reason are whole, wrapped between words (never cut) below the
        # table; a page key scrolls that part to its end (at 80x24, under the flash line, it starts lower).
        seen = text
        for _ in range(4):
            await pilot.press("pagedown")
            await pilot.pause()
            seen += screen_text(app)
        assert "OutOfMemoryError" in seen and "envoy" in seen
        assert screen.selected_task.id == "fedcba9876543210"  # paging scrolled the story, not the table
        words = " ".join(seen.split())
        assert "word0 word1" in words and "word79 END" in words
        await pilot.press("G")  # the last task is reachable; the title is still there
        await pilot.pause()
        assert screen.selected_task.id == f"{18:032x}"
        assert "ledger-0003" in screen_lines(app)[1]


async def test_all_events_scroll_under_a_fixed_title() -> None:
    events = tuple(
        ServiceEvent(id=f"e{k}", created_at=FIXED_NOW - timedelta(minutes=k), message=f"event number {k:02d}")
        for k in range(40)
    )
    snapshot = with_service(make_snapshot(), "ledger-0003", events=events)
    app = make_app(ScriptedSource(snapshot, detail=sample_detail()))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, app)
        await pilot.press("3")
        await pilot.pause()
        text = screen_text(app)
        assert "3 Events (40)" in text and "all 40 kept" in text
        assert "event number 00" in text and "event number 39" not in text
        await pilot.press("G")
        await pilot.pause()
        text = screen_text(app)
        assert "event number 39" in text and "event number 00" not in text
        assert screen_lines(app)[1].startswith(" ledger-0003")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_configuration_tab_shows_the_service_and_its_task_definition_without_wrapping(size) -> None:
    detail = sample_detail()
    definition = detail.task_definition
    long_image = "210987654321.dkr.ecr.us-east-1.amazonaws.com/platform/team-ledger/ledger-0003-service:release-9f17c5d"
    containers = (definition.containers[0].model_copy(update={"image": long_image}), *definition.containers[1:])
    detail = detail.model_copy(update={"task_definition": definition.model_copy(update={"containers": containers})})
    app = make_app(ScriptedSource(make_snapshot(), detail=detail))
    async with app.run_test(size=size) as pilot:
        screen = await open_detail(pilot, app)
        await wait_until(pilot, lambda: screen.detail is not None)
        await pilot.press("4")
        await pilot.pause()
        lines = screen_lines(app)
        await pilot.press("G")
        await pilot.pause()
        lines += screen_lines(app)
        seen = "\n".join(lines)
        for expected in (
            "created          2026-11-27",
            "platform version LATEST",
            "min healthy 100% · max 200% · circuit breaker on + rollback",
            "ledger-0003-tg/0000000000000003 → ledger-0003:8080",
            "subnet-00000000000000003, subnet-00000000000000004",
            "sg-00000000000000003",
            "DISABLED",
            "ecs-svc/0000000000000000003 · created 11-27 12:00",
            "Task definition ledger-0003:6",
            "ledger-0003  essential · cpu 384 · memory 768 · ports 8080/tcp",
            "not essential · cpu 128 · memory 256 (reserved 128) · ports 9901/tcp",
            "awslogs /ecs/ledger-0003",
        ):
            assert expected in seen, (size, expected)  # each on one line: never wrapped
        # An image too long for the width keeps its tag: cut on the left, on one line.
        (image,) = {line for line in lines if "ledger-0003-service:release-9f17c5d" in line}
        assert ("…" in image) == (size[0] == 80), image
        assert all(len(line) <= size[0] for line in lines)


async def test_both_charts_are_whole_on_the_first_screen_at_80x24() -> None:
    app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail()))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, app)
        text = screen_text(app)
        assert "CPU %" in text and "Memory %" in text
        assert text.count("100%┤") == 2 and text.count("  0%┤") == 2  # both axes, top to bottom
        assert text.count("now ") == 2  # both subtitles: each chart's last line is on screen


async def test_a_failed_task_fetch_is_shown_inline_and_t_retries() -> None:
    source = ScriptedSource(make_snapshot(), detail_error=RuntimeError("ECS ListTasks: AccessDenied"))
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, app)
        await wait_until(pilot, lambda: screen.detail_error is not None)
        await pilot.press("2")
        await pilot.pause()
        assert "could not fetch tasks: RuntimeError: ECS ListTasks: AccessDenied" in screen_text(app)
        source.detail_error = None
        source.detail = sample_detail()
        await pilot.press("t")
        await wait_until(pilot, lambda: screen.detail is not None)
        assert len(source.detail_calls) == 2
        assert screen.detail_error is None
        assert "fedcba987654" in screen_text(app)


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
