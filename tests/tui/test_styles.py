"""One owner for status colours: tui/styles.py says which status a value has and
what it looks like; no screen or widget spells a theme variable itself."""

from __future__ import annotations

import re
from pathlib import Path

import heartbeat_tui
from heartbeat_tui.tui.styles import (
    DEFAULT_COLOURS,
    Status,
    activity_status,
    badge_status,
    level_status,
    rich_style,
    rollout_status,
    tasks_status,
)
from heartbeat_tui.tui.view import Thresholds
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app

TUI = Path(heartbeat_tui.__file__).parent / "tui"
OWNERS = {"styles.py", "themes.py"}


def test_only_the_styles_module_names_status_variables() -> None:
    spelt = re.compile(r"""["']hb-[a-z]""")  # a theme variable in Python code (the CSS may use `$hb-warning`)
    offenders = [
        f"{path.relative_to(TUI)}:{n}"
        for path in TUI.rglob("*.py")
        if path.name not in OWNERS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if spelt.search(line)
    ]
    assert offenders == []


def test_what_a_value_means() -> None:
    thresholds = Thresholds(warning=70, critical=90)
    assert [level_status(thresholds.level(v)) for v in (None, 10, 75, 95)] == [
        Status.OK,
        Status.OK,
        Status.WARNING,
        Status.CRITICAL,
    ]
    assert [badge_status(b) for b in ("ok", "stale", "error")] == [Status.OK, Status.WARNING, Status.CRITICAL]
    assert [rollout_status(r) for r in ("FAILED", "IN_PROGRESS", "COMPLETED", None)] == [
        Status.FAILED,
        Status.PROGRESS,
        None,
        None,
    ]
    assert (tasks_status(1, 2), tasks_status(2, 2)) == (Status.WARNING, None)
    assert [activity_status(c) for c in ("Failed", "Cancelled", "Successful", "InProgress")] == [
        Status.CRITICAL,
        Status.CRITICAL,
        None,
        None,
    ]


def test_every_status_has_a_default_colour_and_a_bad_theme_value_falls_back() -> None:
    assert {s.variable for s in Status} <= set(DEFAULT_COLOURS)
    assert rich_style(Status.WARNING, {}).color.triplet.hex == DEFAULT_COLOURS["hb-warning"]
    assert rich_style(Status.WARNING, {"hb-warning": "#010203"}).color.triplet.hex == "#010203"
    assert rich_style("hb-made-up", {"hb-made-up": "not a colour"}).color is None


async def test_the_app_styles_each_status_from_its_theme() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=1, clusters=1, services=1)))
    async with app.run_test() as pilot:
        for status in Status:
            expected = app.theme_variables[status.variable].lower()
            assert app.status_style(status).color.triplet.hex == expected
        app.theme = "textual-dark"
        await pilot.pause()
        assert app.status_style(Status.CRITICAL).color.triplet.hex == DEFAULT_COLOURS["hb-critical"]
