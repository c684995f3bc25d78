"""Themes: plain files validated before registration, user themes, palette switch remembered."""

from __future__ import annotations

from pathlib import Path

import pytest

from heartbeat_tui.config import read_config_file
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.themes import DEFAULT_VARIABLES, builtin_theme_dirs, load_themes, read_theme_file
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import Notes, make_app, wait_until


def test_the_shipped_themes_are_valid_and_set_every_status_colour() -> None:
    folder = builtin_theme_dirs()[0]
    names = set()
    for path in sorted(folder.glob("*.toml")):
        theme = read_theme_file(path)
        names.add(theme.name)
        assert set(DEFAULT_VARIABLES) <= set(theme.variables)
    assert {"heartbeat-dark", "heartbeat-light"} <= names


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('name = "x"\nprimary = "not-a-colour"\n', "primary: is not a colour"),
        ('name = "x"\nprimary = "#fff"\ncolour = "#000"\n', "colour: Extra inputs are not permitted"),
        ('name = "Bad Name"\nprimary = "#fff"\n', "name:"),
        ('name = "x"\nprimary = "#fff"\n[variables]\nhb-warning = "nope"\n', "hb-warning is not a colour"),
        ('name = "x"\nprimary = "#fff"\n[variables]\nhb-made-up = "#fff"\n', "unknown status colour"),
        ("name = ", "cannot be read"),
    ],
)
def test_invalid_theme_files_are_rejected_with_a_reason(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "theme.toml"
    path.write_text(body)
    with pytest.raises(ValueError) as caught:
        read_theme_file(path)
    assert fragment in str(caught.value)


def test_user_themes_load_and_bad_ones_are_reported(isolated_environment: Path) -> None:
    folder = isolated_environment / "config" / "heartbeat" / "themes"
    folder.mkdir(parents=True)
    (folder / "night.json").write_text(
        '{"name": "night", "primary": "#123456", "variables": {"hb-critical": "#ff0000"}}'
    )
    (folder / "broken.toml").write_text('name = "broken"\n')
    problems: list[str] = []
    themes = {t.name: t for t in load_themes(problems=problems)}
    assert themes["night"].variables["hb-critical"] == "#ff0000"
    assert themes["night"].variables["hb-ok"] == DEFAULT_VARIABLES["hb-ok"]
    assert "heartbeat-dark" in themes
    assert len(problems) == 1 and "broken.toml" in problems[0] and "primary" in problems[0]


async def test_switching_theme_from_the_palette_is_remembered(isolated_environment: Path) -> None:
    settings = isolated_environment / "config" / "heartbeat" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("# my settings\n[refresh]\ninterval_seconds = 60\n")
    app = make_app(ScriptedSource(make_snapshot()), settings_path=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        assert app.theme == "heartbeat-dark"
        await pilot.press("colon")
        await pilot.pause(0.2)
        await pilot.press(*"Theme: heartbeat-light")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "heartbeat-light")
        assert app.status_style(Status.CRITICAL).color.triplet.hex == "#c4191f"
    assert (
        settings.read_text() == '# my settings\n[refresh]\ninterval_seconds = 60\n\n[ui]\ntheme = "heartbeat-light"\n'
    )
    assert read_config_file(settings).ui.theme == "heartbeat-light"


async def test_palette_offers_the_screen_bindings_as_commands() -> None:
    from heartbeat_tui.tui.commands import HeartbeatCommands

    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        provider = HeartbeatCommands(app.screen)
        hits = [h async for h in provider.discover()]
        titles = [hit.text for hit in hits]
        for title in ("Fleet-wide", "Filter", "Refresh", "Help", "Quit", "Theme: heartbeat-light"):
            assert title in titles
        # Running one: the fleet-wide view opens.
        hit = next(h for h in hits if h.text == "Fleet-wide")
        hit.command()
        await pilot.pause(0.2)
        assert app.screen.id == "fleet"


async def test_an_unknown_configured_theme_falls_back_with_a_notice() -> None:
    app = make_app(ScriptedSource(make_snapshot()), theme="no-such-theme")
    notes = Notes()
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        assert app.theme == "heartbeat-dark"
        assert notes.said("unknown theme 'no-such-theme'")
