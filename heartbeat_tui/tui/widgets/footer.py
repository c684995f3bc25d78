"""Textual's Footer, without the keys it leaves behind on every redraw."""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """The key bar of every screen.

    Textual's Footer recomposes whenever a screen's bindings change, and binds each
    new key to its `compact` reactive; the bindings of the removed keys stay on the
    footer (Textual drops a closed watcher only when the reactive next changes, and
    `compact` never does). A session that refreshes its bindings on every poll kept
    a footer's worth of dead widgets a poll, for hours. Re-announcing `compact` after
    each recompose (public API) lets Textual drop them.
    """

    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(TextualFooter.compact)
