"""Service detail: a fixed title, then tabs (overview, tasks, events, configuration).

The screen (screen.py) owns the widgets, the keys and the on-demand read of the
tasks; what each tab shows is rendered from the data alone, one module a tab
(overview.py, tasks.py, configuration.py), on shared blocks (layout.py).
"""

from __future__ import annotations

from heartbeat_tui.tui.screens.detail.layout import TailFit, fields, short_arn
from heartbeat_tui.tui.screens.detail.screen import TABS, ServiceDetailScreen
from heartbeat_tui.tui.screens.detail.tasks import TaskTable

__all__ = ["TABS", "ServiceDetailScreen", "TailFit", "TaskTable", "fields", "short_arn"]
