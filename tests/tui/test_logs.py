"""Pilot tests: the logs screen (`l` on a service or a task), on a scripted source
whose lines a test can add between reads."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from textual import events

from heartbeat_tui.models import LogBatch, LogLine, LogQuery, LogSource
from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from heartbeat_tui.tui.screens.logs import LogsScreen
from tests.support.factory import FIXED_NOW, ScriptedSource, make_snapshot, sample_detail
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines, screen_text
from tests.support.terminal_capture import recording_driver, unsafe_in_terminal_output
from tests.support.untrusted import PIECES, untrusted

TASKS = ("0123456789abcdef", "fedcba9876543210")


class ScriptedLogs:
    """Lines by the time they were "written"; a read returns those in its query's range."""

    def __init__(self, count: int = 30, notes: tuple[str, ...] = ()) -> None:
        self.lines = [self.line(i) for i in range(count)]
        self.notes = notes

    @staticmethod
    def line(i: int, message: str | None = None, container: str = "") -> LogLine:
        return LogLine(
            timestamp=FIXED_NOW - timedelta(seconds=300 - i),
            container=container or ("envoy" if i % 3 == 0 else "ledger-0003"),
            task_id=TASKS[i % 2],
            message=message if message is not None else f"INFO request number {i:03d}",
            event_id=f"ev{i}",
        )

    def __call__(self, query: LogQuery) -> LogBatch:
        lines = tuple(
            line
            for line in self.lines
            if line.timestamp >= query.start
            and query.container in (None, line.container)
            and query.task_id in (None, line.task_id)
        )
        return LogBatch(
            query=query,
            lines=lines,
            task_definition="arn:aws:ecs:us-east-1:210987654321:task-definition/ledger-0003:6",
            containers=("ledger-0003", "envoy"),
            sources=(LogSource(container="ledger-0003", driver="awslogs", group="/ecs/ledger-0003"),),
            notes=self.notes,
        )


async def open_logs(pilot, app) -> LogsScreen:
    await wait_until(pilot, lambda: app.polls_applied == 1)
    await pilot.press("tab", "tab", "E", "j", "j", "j", "l")  # by name: ledger-0003
    await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.reads >= 1)
    return app.screen


async def test_l_on_a_service_opens_its_logs_newest_at_the_bottom() -> None:
    logs = ScriptedLogs()
    source = ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs)
    app = make_app(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_logs(pilot, app)
        (query,) = source.log_queries
        assert (query.account_id, query.service_name, query.task_id) == ("210987654321", "ledger-0003", None)
        assert query.start == FIXED_NOW - timedelta(minutes=15)
        lines = screen_lines(app)
        assert lines[1].startswith(" ledger-0003") and "every task" in lines[1]
        assert "follow on (f)" in lines[2] and "30 lines" in lines[2]
        assert "INFO request number 029" in lines[-2]  # the newest, just above the footer
        assert "envoy/01234567" in screen_text(app)  # several containers and tasks: each line says whose
        await pilot.press("escape")
        assert not isinstance(app.screen, LogsScreen)


async def test_l_still_moves_between_the_dashboards_upper_panes() -> None:
    app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail(), logs=ScriptedLogs()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("l")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "clusters"
        assert not isinstance(app.screen, LogsScreen)


async def test_follow_appends_new_lines_and_f_stops_it() -> None:
    logs = ScriptedLogs()
    source = ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs)
    app = make_app(source)
    app.logs_follow_seconds = 0.05
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_logs(pilot, app)
        logs.lines.append(logs.line(300, "INFO the newest line"))
        await wait_until(pilot, lambda: "INFO the newest line" in screen_text(app))
        assert [line for line in screen_lines(app) if "INFO" in line][-1].endswith("INFO the newest line")
        assert sum("INFO the newest line" in line for line in screen_lines(app)) == 1  # once, though re-read
        # A follow read starts a little before the newest line shown, not at the range's start.
        # (the read that brought the newest line started before it: the next one is asked for)
        newest = logs.lines[-1].timestamp
        await wait_until(pilot, lambda: source.log_queries[-1].start == newest - timedelta(seconds=30))
        await pilot.press("f")
        reads = screen.reads
        logs.lines.append(logs.line(301, "INFO written while not following"))
        await pilot.pause(0.3)
        assert screen.reads == reads and "written while not following" not in screen_text(app)
        assert "follow off (f)" in screen_text(app)
        await pilot.press("f")
        await wait_until(pilot, lambda: "written while not following" in screen_text(app))


async def test_search_keeps_the_matching_lines_and_esc_clears_it() -> None:
    logs = ScriptedLogs()
    logs.lines.append(logs.line(100, "ERROR payment 42 declined"))
    app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_logs(pilot, app)
        await pilot.press("slash", *"DECLINED", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "ERROR payment 42 declined" in text and "request number" not in text
        assert "1/31 lines" in text and "search: DECLINED" in text
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert screen.search == "" and "request number 029" in screen_text(app)


async def test_a_search_typed_in_one_burst_keeps_every_key() -> None:
    """`/` and what follows read together: `f` (follow), `w` (wrap) and `c`
    (containers) among them land in the search, not on the screen's keys."""

    logs = ScriptedLogs()
    logs.lines.append(logs.line(100, "ERROR payment 42 declined"))
    app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_logs(pilot, app)
        for key, character in [("slash", "/"), *((c, c) for c in "fwcdeclined"), ("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await wait_until(pilot, lambda: screen.search == "fwcdeclined")
        # Opened again, the search is selected (typing replaces it); in it, `/` is text.
        await pilot.press("slash", "x", "slash")
        await pilot.pause()
        assert screen.search == "x/"


async def test_the_container_picker_and_the_time_range_read_again() -> None:
    logs = ScriptedLogs()
    source = ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs)
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_logs(pilot, app)
        await pilot.press("c")
        await pilot.pause()
        text = screen_text(app)
        assert "every container" in text and "ledger-0003" in text and "envoy" in text
        await pilot.press("down", "down", "enter")  # envoy
        await wait_until(pilot, lambda: source.log_queries[-1].container == "envoy" and screen.awaiting is None)
        assert {line.container for line in screen.lines} == {"envoy"}
        assert "envoy (c)" in screen_text(app)
        await pilot.press("s")
        await pilot.pause()
        assert "last 1h" in screen_text(app)
        await pilot.press("down", "enter")  # from 15m, the current one, to 1h
        await wait_until(pilot, lambda: screen.range == "1h" and screen.awaiting is None)
        assert source.log_queries[-1].start == FIXED_NOW - timedelta(hours=1)
        assert source.log_queries[-1].container == "envoy"


async def test_wrap_shows_a_long_line_whole() -> None:
    logs = ScriptedLogs(count=3)
    logs.lines.append(logs.line(10, "INFO " + "x" * 150 + " THE-END", container="ledger-0003"))
    app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_logs(pilot, app)
        assert "THE-END" not in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert "THE-END" in screen_text(app) and "wrap on (w)" in screen_text(app)


async def test_a_driver_that_is_not_awslogs_says_why_there_are_no_lines() -> None:
    note = "ledger-0003: log driver fluentd: its lines go to fluentd, not to CloudWatch Logs"
    logs = ScriptedLogs(count=0, notes=(note,))
    app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_logs(pilot, app)
        assert note in screen_text(app)


async def test_l_on_a_task_in_the_detail_opens_that_tasks_logs() -> None:
    logs = ScriptedLogs()
    source = ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs)
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("tab", "tab", "E", "j", "j", "j", "enter")  # by name: ledger-0003
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen) and app.screen.detail is not None)
        await pilot.press("2", "j", "l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.reads >= 1)
        query = source.log_queries[-1]
        assert query.task_id == "fedcba9876543210"
        assert query.task_definition == "arn:aws:ecs:us-east-1:210987654321:task-definition/ledger-0003:6"
        assert {line.task_id for line in app.screen.lines} == {"fedcba9876543210"}
        assert "task fedcba987654" in screen_text(app)


async def test_a_failed_read_is_shown_and_the_next_read_tries_again() -> None:
    logs = ScriptedLogs()
    source = ScriptedSource(make_snapshot(), detail=sample_detail(), logs=None)
    app = make_app(source)
    app.logs_follow_seconds = 0.05
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("tab", "tab", "E", "j", "j", "j", "l")  # by name: ledger-0003
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.error is not None)
        assert "could not read the logs: RuntimeError: no logs scripted" in screen_text(app)
        source.logs = logs
        await wait_until(pilot, lambda: "request number 029" in screen_text(app))
        assert "could not read the logs" not in screen_text(app)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(untrusted)
def test_hostile_log_lines_never_reach_the_terminal(message: str) -> None:
    import asyncio

    async def tour() -> str:
        sink: list[str] = []
        logs = ScriptedLogs(count=2)
        logs.lines += [logs.line(50, message, container=message or "c"), logs.line(51, "".join(PIECES))]
        app = make_app(ScriptedSource(make_snapshot(), detail=sample_detail(), logs=logs))
        app.driver_class = recording_driver(sink)
        async with app.run_test(headless=False, size=(120, 40)) as pilot:
            await open_logs(pilot, app)
            await pilot.press("w")  # wrapped too
            await pilot.pause()
            await pilot.press("slash", "x", "enter")
            await pilot.pause()
            assert app.crash_reason is None
        return "".join(sink)

    output = asyncio.run(tour())
    assert output and unsafe_in_terminal_output(output) == []
