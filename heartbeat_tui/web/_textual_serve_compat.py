"""The one place that leans on textual-serve's private parts (pinned: 1.1.3).

textual-serve's `AppService` runs a command through a shell, with the server's
whole environment, in the server's process group, and gives no handle on the
process. A browser session needs the opposite: exec'd without a shell, in a
process group of its own (so its whole tree can be signalled), with an
environment the server chose (the client's address, no `HEARTBEAT_TOKEN`),
and its pid. `SessionProcess` gets that by overriding the private
`_open_app_process` (and calling the private `_build_environment` for the
driver's variables); everything else (the packet protocol, `start`, `stop`,
`send_bytes`, `set_terminal_size`, `focus`, `blur`) is `AppService`'s public
API. tests/web/test_compat.py fails loudly if an upgrade moves any of it.
"""

from __future__ import annotations

import asyncio
from asyncio.subprocess import Process
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from textual_serve.app_service import AppService

TEXTUAL_SERVE_VERSION = "1.1.3"  # what this module was written against (pyproject pins it)


class SessionProcess(AppService):
    """One browser session's process: `argv` exec'd in a new session (and process group)."""

    def __init__(
        self,
        argv: Sequence[str],
        environment: Callable[[Mapping[str, str]], dict[str, str]],
        **kwargs: Any,
    ) -> None:
        # `command` is only a label here: nothing is run through a shell.
        super().__init__(" ".join(argv), **kwargs)
        self._argv = tuple(argv)
        self._environment = environment
        self.process: Process | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        # The web driver's variables (TEXTUAL_DRIVER, the size, colours), then ours.
        environment = self._environment(self._build_environment(width=width, height=height))
        self._process = process = await asyncio.create_subprocess_exec(
            *self._argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,  # its own process group: the whole tree ends together
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        self.process = process
        return process

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


__all__ = ["TEXTUAL_SERVE_VERSION", "SessionProcess"]
