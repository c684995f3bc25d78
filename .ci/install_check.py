"""The README's install commands, tried as a user runs them, from a built wheel.

    python3 .ci/install_check.py [--only pipx|uv]

Builds the wheel (`pip wheel --no-deps`), installs pipx and uv into a
throwaway environment, then installs the wheel with `pipx install` and with
`uv tool install`, each into homes of its own under a temporary folder
(nothing touches the user's ~/.local). Each installed `heartbeat` must answer
`--version`, print new secrets with `keys generate`, and start the embedded
AWS with `demo --serve` (the wheel carries everything the demo needs). Only
the package registries are reached. Exit 1 with one line naming what failed.
"""

from __future__ import annotations

import argparse
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP_SECONDS = 240
DEMO_SECONDS = 90


def say(line: str) -> None:
    print(f"install-check: {line}", flush=True)


class Failed(Exception):
    pass


def run(*args: str | Path, env: dict[str, str] | None = None, timeout: float = STEP_SECONDS) -> str:
    command = [str(a) for a in args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise Failed(f"`{' '.join(command)}` took over {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or [""])[-1]
        raise Failed(f"`{' '.join(command)}` exited {done.returncode}: {last}")
    return done.stdout


def demo_starts(heartbeat: Path, env: dict[str, str]) -> None:
    """`heartbeat demo --serve` until it names its embedded AWS's endpoint, then Ctrl-C."""

    process = subprocess.Popen(
        [str(heartbeat), "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + DEMO_SECONDS
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=1.0):
                    continue
                line = process.stdout.readline()
                if not line:
                    break  # the demo ended by itself
                seen.append(line.rstrip())
                if "http://127.0.0.1:" in line:
                    return
        raise Failed(f"`heartbeat demo --serve` named no endpoint in {DEMO_SECONDS} s: {seen[-3:]}")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def check(name: str, heartbeat: Path, home: Path) -> None:
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config")})
    version = run(heartbeat, "--version", env=env).strip()
    if not version.startswith("heartbeat "):
        raise Failed(f"{name}: `heartbeat --version` printed {version!r}")
    if "ENCRYPTION_KEY=" not in run(heartbeat, "keys", "generate", env=env):
        raise Failed(f"{name}: `heartbeat keys generate` printed no ENCRYPTION_KEY")
    demo_starts(heartbeat, env)
    say(f"{name}: {version}, keys generate and demo --serve OK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["pipx", "uv"])
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="heartbeat-install-") as folder:
        tmp = Path(folder)
        try:
            run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", ROOT)
            wheel = next((tmp / "dist").glob("heartbeat_tui-*.whl"))
            run(sys.executable, "-m", "venv", tmp / "tools")
            tools = tmp / "tools" / "bin"
            run(tools / "pip", "install", "-q", "pipx", "uv")
            base = {k: v for k, v in os.environ.items() if not k.startswith(("PIPX_", "UV_"))}
            if args.only in (None, "pipx"):
                env = {**base, "PIPX_HOME": str(tmp / "pipx"), "PIPX_BIN_DIR": str(tmp / "pipx-bin")}
                run(tools / "pipx", "install", "--python", sys.executable, wheel, env=env)
                check("pipx install", tmp / "pipx-bin" / "heartbeat", tmp / "home-pipx")
            if args.only in (None, "uv"):
                env = {
                    **base,
                    "UV_TOOL_DIR": str(tmp / "uv-tools"),
                    "UV_TOOL_BIN_DIR": str(tmp / "uv-bin"),
                    "UV_CACHE_DIR": str(tmp / "uv-cache"),
                }
                run(tools / "uv", "tool", "install", "--python", sys.executable, wheel, env=env)
                check("uv tool install", tmp / "uv-bin" / "heartbeat", tmp / "home-uv")
        except (Failed, StopIteration) as exc:
            say(f"FAILED: {exc or 'no wheel was built'}")
            return 1
    say(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
