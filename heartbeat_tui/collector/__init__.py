"""The async collector: fleet -> immutable snapshot."""

from heartbeat_tui.collector.collector import Collector, StepFailed

__all__ = ["Collector", "StepFailed"]
