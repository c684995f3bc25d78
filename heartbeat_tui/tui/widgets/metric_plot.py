"""A CPU or memory history plot (Average and Maximum) with axes, for the detail screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from rich.text import Text
from textual.widget import Widget

from heartbeat_tui.tui.plot import PlotSeries, plot_lines
from heartbeat_tui.tui.state import DashboardHost


class MetricPlot(Widget):
    DEFAULT_CSS = """
    MetricPlot { height: 14; border: round $panel-lighten-2; padding: 0 1 0 0; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._series: Sequence[PlotSeries] = ()
        self._start = 0.0
        self._end = 1.0
        self._time_label: Callable[[float], str] = lambda t: ""
        self._subtitle = ""

    def set_data(
        self,
        series: Sequence[PlotSeries],
        *,
        start: float,
        end: float,
        time_label: Callable[[float], str],
        subtitle: str = "",
    ) -> None:
        self._series, self._start, self._end, self._time_label = series, start, end, time_label
        self.border_subtitle = subtitle
        self.refresh()

    def render(self) -> Text:
        style_of = cast(DashboardHost, self.app).status_style
        width, height = self.content_region.width, self.content_region.height
        out = Text(no_wrap=True, overflow="crop")
        legend = Text()
        for spec in self._series:
            legend.append("━ ", style=style_of(spec.style))
            legend.append(f"{spec.label}  ")
        rows = plot_lines(
            self._series,
            start=self._start,
            end=self._end,
            width=width,
            height=max(2, height - 3),
            time_label=self._time_label,
        )
        out.append_text(legend)
        for row in rows:
            out.append("\n")
            for text, style in row:
                if style == "axis":
                    out.append(text, style="dim")
                elif style:
                    out.append(text, style=style_of(style))
                else:
                    out.append(text)
        return out
