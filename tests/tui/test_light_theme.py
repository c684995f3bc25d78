"""Issue 15: on the light theme the unfocused panes' titles were white on white."""

from __future__ import annotations

import pytest
from textual.color import Color

from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["heartbeat-light", "heartbeat-dark"])
async def test_every_pane_title_is_readable_focused_or_not(theme: str) -> None:
    app = make_app(ScriptedSource(make_snapshot()), theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        for pane in ("#accounts", "#clusters", "#services"):
            widget = app.screen.query_one(pane)
            background = widget.background_colors[1]
            title = widget.styles.border_title_color
            if title.a == 0:  # transparent: the title takes the border's colour
                title = widget.styles.border_top[1]
            shown = background.blend(title, title.a)
            assert contrast(shown, background) >= 3.0, (theme, pane, app.screen.focused is widget, shown)
