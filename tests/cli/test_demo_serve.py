"""`heartbeat demo --serve`: a real process polls its embedded AWS, starts
`heartbeat serve` on it, prints lines that work as printed (the README's
`.venv/bin/heartbeat`, the demo admin's login on the server), ends cleanly on
SIGTERM and removes the configuration file it wrote."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_serve_prints_lines_that_work_and_cleans_up_on_sigterm(tmp_path: Path) -> None:
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
            if "Or straight" in "".join(lines) and "snapshot --format table" in line:
                break
        else:
            pytest.fail(f"demo --serve ended early: {proc.wait(10)}, {''.join(lines)!r} {proc.stderr.read()!r}")
        out = "".join(lines)
        assert out.startswith("HeartBeat demo: embedded AWS at http://127.0.0.1:")
        count = int(out.split(" services", 1)[0].rsplit(", ", 1)[1])
        assert count > 100, out
        assert " 1 cluster " in out and " 1 clusters" not in out  # the hub account has one
        config_line = next(line for line in lines if "export HEARTBEAT_CONFIG=" in line)
        config_path = Path(config_line.split("HEARTBEAT_CONFIG=", 1)[1].split()[0])
        assert config_path.is_file() and (config_path.stat().st_mode & 0o077) == 0

        # The server lines, run exactly as printed (the password from its comment, on stdin).
        login_line = next(line for line in lines if "--server" in line and " login " in line)
        command, _, comment = login_line.strip().partition("   # password: ")
        argv = shlex.split(command)
        assert Path(argv[0]).name == "heartbeat" and os.access(argv[0], os.X_OK)
        state = tmp_path / "client-state"
        client_env = {**env, "XDG_STATE_HOME": str(state)}
        login = subprocess.run(
            [*argv, "--password-stdin"], input=comment.strip() + "\n", capture_output=True, text=True, env=client_env
        )
        assert login.returncode == 0, login.stderr
        snapshot_line = next(line for line in lines if "--server" in line and "snapshot --format table" in line)
        table = subprocess.run(shlex.split(snapshot_line), capture_output=True, text=True, env=client_env)
        assert table.returncode in (0, 1) and "payments-prod" in table.stdout, table.stderr

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not config_path.exists()  # valid only while the demo ran
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
