"""The one owner of which colour a status gets.

Every screen and widget asks here what a status is (a metric level, an
account badge, a rollout state, tasks below desired, ...) and turns the answer
into a style with `rich_style`; none of them spells a theme variable
(`hb-warning`) itself. The colours are theme variables, so a theme file can
change them; their fallbacks are `DEFAULT_COLOURS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import lru_cache

from rich.style import Style
from textual.color import Color, ColorParseError

from heartbeat_tui.severity import Level, Severity
from heartbeat_tui.tui.view import Badge


class Status(str, Enum):
    """What a value means to the operator; each has one theme variable (its colour)."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    FAILED = "failed"
    PROGRESS = "progress"
    STALE = "stale"

    @property
    def variable(self) -> str:
        """The theme variable holding this status's colour (`hb-warning`)."""
        return f"hb-{self.value}"


# Plot lines are not statuses, but their colours are theme variables too.
PLOT_AVERAGE = "hb-plot-average"
PLOT_MAXIMUM = "hb-plot-maximum"

DEFAULT_COLOURS: dict[str, str] = {
    Status.OK.variable: "#5fcf80",
    Status.WARNING.variable: "#ffb454",
    Status.CRITICAL.variable: "#ff4d52",
    Status.FAILED.variable: "#ff4d52",
    Status.PROGRESS.variable: "#59c2ff",
    Status.STALE.variable: "#6c7686",
    PLOT_AVERAGE: "#59c2ff",
    PLOT_MAXIMUM: "#ffb454",
}

# Scaling activities that are neither done nor under way have failed or been cancelled.
_ACTIVITY_FINE = ("Successful", "InProgress", "Pending", "")


# -- what a value means --------------------------------------------------------------


def level_status(level: Level) -> Status:
    """A CPU or memory level (from `Thresholds.level`)."""
    return Status(level)


def badge_status(badge: Badge) -> Status:
    """An account's badge: stale data is a warning, an account in error is critical."""
    return {"ok": Status.OK, "stale": Status.WARNING, "error": Status.CRITICAL}[badge]


def rollout_status(rollout: str | None) -> Status | None:
    """A deployment's rollout state; None when it needs no colour."""
    return {"FAILED": Status.FAILED, "IN_PROGRESS": Status.PROGRESS}.get(rollout or "")


def tasks_status(running: int, desired: int) -> Status | None:
    """Fewer tasks running than desired is a warning."""
    return Status.WARNING if running < desired else None


def service_status(status: str) -> Status | None:
    """An ECS service that is not ACTIVE (DRAINING, INACTIVE) is a warning."""
    return Status.WARNING if status != "ACTIVE" else None


_SEVERITY_STATUS = {
    Severity.ACCOUNT: Status.CRITICAL,
    Severity.ROLLOUT_FAILED: Status.FAILED,
    Severity.BELOW_DESIRED: Status.WARNING,
    Severity.NOT_ACTIVE: Status.WARNING,
    Severity.TASKS_FAILING: Status.CRITICAL,
    Severity.CRITICAL: Status.CRITICAL,
    Severity.WARNING: Status.WARNING,
}


def severity_status(severity: Severity) -> Status | None:
    """A finding of the severity order (`heartbeat_tui.severity`); None when nothing is wrong."""
    return _SEVERITY_STATUS.get(severity)


def activity_status(status_code: str | None) -> Status | None:
    """A scaling activity that failed or was cancelled is critical."""
    return Status.CRITICAL if status_code not in _ACTIVITY_FINE else None


def task_health_status(health: str | None) -> Status | None:
    return Status.CRITICAL if health == "UNHEALTHY" else None


def task_last_status(last_status: str | None) -> Status | None:
    """A stopped task is history: shown like stale data."""
    return Status.STALE if last_status == "STOPPED" else None


# -- what a status looks like ----------------------------------------------------------


def rich_style(variable: Status | str, theme_variables: Mapping[str, str]) -> Style:
    """The Rich style (colour only) for a status, or a plot variable, in a theme.

    A bad or missing theme value falls back to the default colour, then to no
    colour: a theme file must never end the app."""

    name = variable.variable if isinstance(variable, Status) else variable
    return _style_of(theme_variables.get(name) or DEFAULT_COLOURS.get(name, ""))


@lru_cache(maxsize=64)
def _style_of(value: str) -> Style:
    try:
        return Style(color=Color.parse(value).rich_color)
    except (ColorParseError, ValueError):
        return Style()
