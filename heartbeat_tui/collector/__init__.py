"""The async collector: fleet -> immutable snapshot."""

from heartbeat_tui.collector.collector import Collector
from heartbeat_tui.collector.steps import StepFailed

__all__ = ["Collector", "StepFailed"]
