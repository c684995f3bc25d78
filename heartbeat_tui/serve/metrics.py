"""`/metrics`: a placeholder until the Prometheus exposition lands (issue 13's metrics part).

`metrics_handler(hub, auth, config)` is the name the app mounts; the real one
replaces this module and keeps it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from heartbeat_tui.serve.errors import error_response

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService
    from heartbeat_tui.config import Config
    from heartbeat_tui.serve.hub import Hub


def metrics_handler(
    hub: Hub, auth: AuthService, config: Config
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def metrics(request: web.Request) -> web.StreamResponse:
        return error_response(404, "not_found", "no Prometheus exposition in this build")

    return metrics
