"""Widgets that follow the app's state repaint only while their screen can be seen.

Every screen has a header and a flash line watching the app. Textual composites
the screen under the top one as a background (it could show through), and
forwards whatever is repainted there to the top screen: a header refreshed on
the dashboard under the fleet view repainted the fleet view's header line, then
its whole screen (25-45 ms of the event loop at 200x60), on every state change
and every second. Under an opaque screen nothing of it shows, so such a widget
keeps the newest value without painting, and paints once when its screen is
shown again (`Screen.stack_updates` counts each time it resumes).
"""

from __future__ import annotations

from typing import Any

from textual.app import ScreenStackError
from textual.dom import NoScreen
from textual.screen import Screen
from textual.widget import Widget


def seen(screen: Screen[Any]) -> bool:
    """`screen` is on top, or under one that lets it show through (a modal's dimmed backdrop)."""

    try:
        top = screen.app.screen
    except ScreenStackError:  # the app closing
        return False
    return screen is top or (screen.is_current and top.styles.background.a < 1)


class SeenOnly(Widget):
    """A widget whose `follow_screen` (called on mount) repaints it when its screen resumes."""

    def follow_screen(self) -> None:
        self.watch(self.screen, "stack_updates", self._screen_resumed, init=False)

    def _screen_resumed(self) -> None:
        self.refresh()

    @property
    def seen(self) -> bool:
        """Its screen is seen (`seen`)."""

        try:
            return seen(self.screen)
        except NoScreen:  # being removed
            return False
