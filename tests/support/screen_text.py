"""The current screen of a running (test) app as plain text, one string per line."""

from __future__ import annotations

from textual.app import App


def screen_lines(app: App) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


def screen_text(app: App) -> str:
    return "\n".join(screen_lines(app))
