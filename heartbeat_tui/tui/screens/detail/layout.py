"""The detail screen's building blocks, shared by its tabs: label/value lines that
never wrap mid-field, a value cut on the left when its end matters most, section
titles, and times shown in the machine's zone (UTC when the clock is frozen)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text

from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.text import PlainTable


class TailFit:
    """One line cut on the left to the width it gets (`…ecr/app:9f17c5d`): for a
    value whose end matters most (an image and its tag, an ARN's id)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text, width = self.text, options.max_width
        if text.cell_len > width > 1:
            text = Text("…", style="dim") + text[len(text.plain) - (width - 1) :]
        text.no_wrap = True
        yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(12, self.text.cell_len), self.text.cell_len)


def short_arn(arn: str | None) -> str:
    """The resource part of an ARN (`targetgroup/name/id`), which names it within its account."""

    return "-" if not arn else arn.split(":", 5)[-1]


def number(value: int | None) -> str:
    return "-" if value is None else str(value)


def fields(rows: Iterable[tuple[str, RenderableType]]) -> PlainTable:
    """Label and value lines; a value is cut with an ellipsis, never wrapped."""

    table = PlainTable(box=None, pad_edge=False, show_header=False, expand=True)
    table.add_column("label", style="dim", no_wrap=True)
    table.add_column("value", no_wrap=True, overflow="ellipsis", ratio=1)
    for label, value in rows:
        table.add_row(label, value)
    return table


def section(title: str, body: RenderableType) -> RenderableType:
    return Group(Text(title, style="bold underline"), body)


def shown_time(hb: DashboardHost, value: datetime | float | None, fmt: str = "%H:%M:%S") -> str:
    """A time as the dashboard shows it: local, or UTC when its clock is frozen (tests, snapshots)."""

    if value is None:
        return "-"
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    if not hb.frozen_time:
        value = value.astimezone()
    return value.strftime(fmt)
