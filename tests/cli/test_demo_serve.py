"""`heartbeat demo --serve`: a real process polls its embedded AWS once, prints
where it is and how to reach it, and ends cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_serve_polls_prints_the_lines_and_ends_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "heartbeat_tui", "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.strip().startswith("heartbeat snapshot"):
                break
        else:
            pytest.fail(f"demo --serve ended early: {proc.wait(10)}, {''.join(lines)!r} {proc.stderr.read()!r}")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out = "".join(lines)
    assert out.startswith("HeartBeat demo: embedded AWS at http://127.0.0.1:")
    count = int(out.split(" services", 1)[0].rsplit(", ", 1)[1])
    assert count > 100, out
    config_line = next(line for line in lines if "export HEARTBEAT_CONFIG=" in line)
    config_path = Path(config_line.split("HEARTBEAT_CONFIG=", 1)[1].split()[0])
    assert config_path.is_file() and (config_path.stat().st_mode & 0o077) == 0
