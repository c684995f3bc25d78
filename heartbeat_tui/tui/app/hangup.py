"""Leaving after a hang-up even when Textual's output thread cannot.

Kept apart from the app: it is a plain thread with a deadline, and its test
(tests/tui/test_hang_up.py) runs it without an app.
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger(__package__)  # the app's one logger, as before the split

HANG_UP_GRACE_SECONDS = 5.0


def exit_watchdog(seconds: float) -> threading.Thread:
    """End the process `seconds` from now if it is still running.

    After a hang-up the terminal is gone, and Textual's output thread can die
    on the first write to it (EIO) while the app's shutdown waits to hand it
    the last lines: the process would hang on forever. Everything kept is
    already on disk; the embedded AWS child exits when our pipe to it closes.
    """

    def run() -> None:
        time.sleep(seconds)
        log.warning("still running %.1f s after the hang-up: exiting now", seconds)
        for handler in logging.getLogger().handlers:
            try:
                handler.flush()
            except Exception:  # exiting anyway
                pass
        os._exit(0)

    watchdog = threading.Thread(target=run, name="hang-up-watchdog", daemon=True)
    watchdog.start()
    return watchdog
