"""Lines that hold a reason (why an account failed) in a space that cannot grow.

Each reason is fitted to the widget's width whenever it renders (so a resize
refits it): its start and the ARN it names stay, the middle gives way
(`heartbeat_tui.reasons.fit_reason`). The whole reason is in the snapshot, the
exports and the account's error view (`e`)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.style import StyleType
from rich.text import Text
from textual.widget import Widget

from heartbeat_tui.reasons import fit_reason
from heartbeat_tui.tui.text import visible

#: One line: a Text as it is (cut at the edge), or a lead, a reason and a style.
#: The lead and the reason are untrusted (an alias, an AWS error): shown with
#: visible escapes, fitted after escaping so the width is what is drawn.
Line = Text | tuple[str, str, StyleType]


class FittedLines(Widget):
    DEFAULT_CSS = """
    FittedLines {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Line] = []

    @property
    def lines(self) -> list[Line]:
        return list(self._lines)

    def set_lines(self, lines: Iterable[Line]) -> None:
        self._lines = list(lines)
        self.refresh(layout=True)

    def render(self) -> Text:
        width = self.content_size.width
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        for n, line in enumerate(self._lines):
            if n:
                out.append("\n")
            if isinstance(line, Text):
                out.append_text(line)
                continue
            lead, reason, style = visible(line[0]), visible(line[1]), line[2]
            room = width - cell_len(lead)
            out.append(lead + (fit_reason(reason, room) if width > 0 else reason), style=style)
        return out
