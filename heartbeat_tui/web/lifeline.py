"""A browser session's process never outlives `heartbeat web`.

The server starts each session in a process group of its own (the whole tree
is signalled at once) and normally ends it itself: the tab closed, or the
server stopping. When the server is SIGKILLed it can do neither, so the session
watches for itself, two ways:

* the kernel: `PR_SET_PDEATHSIG` (Linux) sends SIGTERM the moment the parent
  dies, which the dashboard takes as a hang-up (it exits cleanly);
* a watchdog thread that checks `getppid()` twice a second (any platform, and
  the gap before prctl ran): once the parent is gone it sends SIGTERM, then,
  if anything of the group is still there after a grace, SIGKILL to the group.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
CHECK_SECONDS = 0.5
GRACE_SECONDS = 1.5


def set_parent_death_signal(signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel for `signum` when the parent dies; False where it cannot (not Linux)."""

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _end_group() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # the dashboard's clean exit first
    time.sleep(GRACE_SECONDS)
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)  # the group is ours: every child with us
    except OSError:
        pass
    os._exit(1)


def watch_parent(parent_pid: int) -> None:
    """Start the watchdog: the session ends (with its group) once `parent_pid` is not our parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(CHECK_SECONDS)
        _end_group()

    threading.Thread(target=watch, name="web-parent-watch", daemon=True).start()


def hold_on(parent_pid: int) -> None:
    """Both guards; a parent already gone (before prctl took hold) is caught by the watchdog at once."""

    set_parent_death_signal()
    watch_parent(parent_pid)


__all__ = ["hold_on", "set_parent_death_signal", "watch_parent"]
