"""After a hang-up the process ends even when shutting down hangs (Textual's
output thread can die on the gone terminal): `exit_watchdog`."""

from __future__ import annotations

import subprocess
import sys
import time

SCRIPT = """
import logging, sys, threading
logging.basicConfig(filename=sys.argv[1], level=logging.INFO)
from heartbeat_tui.tui.app import exit_watchdog
exit_watchdog(0.3)
threading.Event().wait()  # a shutdown that never finishes
"""


def test_a_stuck_shutdown_ends_after_the_grace_period(tmp_path) -> None:
    log = tmp_path / "hang.log"
    started = time.monotonic()
    process = subprocess.run([sys.executable, "-c", SCRIPT, str(log)], timeout=30, check=False)
    assert process.returncode == 0
    assert time.monotonic() - started < 25
    assert "still running 0.3 s after the hang-up: exiting now" in log.read_text()
