"""The real `heartbeat demo` in a pseudo-terminal, driven as a person would:
read the screen (pyte), press keys, quit; nothing may be left running."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pexpect
import psutil
import pyte
import pytest

COLUMNS, LINES = 120, 40


DEMO_PASSWORD = "correct-horse-battery-staple"


class Terminal:
    def __init__(self, log_file: Path) -> None:
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLORTERM": "",
            "HEARTBEAT_LOG_FILE": str(log_file),
            "PYTHONUNBUFFERED": "1",
            "HEARTBEAT_DEMO_PASSWORD": DEMO_PASSWORD,
        }
        env.pop("CI", None)  # nothing below depends on it; keep Textual's normal driver
        # The pty's own size, not one an earlier test left in the environment (Textual reads
        # COLUMNS/LINES before it asks the terminal).
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        self.started = time.monotonic()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "heartbeat_tui", "demo"],
            env=env,
            dimensions=(LINES, COLUMNS),
            encoding=None,
            timeout=1,
        )
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()  # everything written to the terminal
        self.descendants: set[int] = set()

    def pump(self, seconds: float = 0.1) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=max(0.0, min(0.1, deadline - time.monotonic())))
                self.raw += data
                self.stream.feed(data)
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return
            if time.monotonic() >= deadline:
                return

    def login(self) -> None:
        """As a person would: read the demo credentials off the login screen, type them."""

        self.wait_for("Demo username: admin", timeout=40)
        self.wait_for(f"Demo password: {DEMO_PASSWORD}")
        self.press("admin")
        self.pump(0.2)
        self.press("\t")  # Tab moves to the password
        self.pump(0.2)
        self.press(DEMO_PASSWORD)
        self.pump(0.2)
        self.press("\r")  # Enter submits

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; screen:\n{self.text()}")
            if not self.child.isalive():
                raise AssertionError(f"heartbeat exited early; screen:\n{self.text()}")
            self.pump(0.1)
            self.remember_descendants()
        return time.monotonic() - self.started

    def resize(self, lines: int, columns: int) -> None:
        """What a terminal window does: new size, then SIGWINCH to the process."""

        self.screen.resize(lines, columns)
        self.child.setwinsize(lines, columns)

    def press(self, keys: str) -> None:
        self.child.send(keys)
        self.pump(0.2)

    def remember_descendants(self) -> None:
        try:
            self.descendants |= {p.pid for p in psutil.Process(self.child.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            pass

    def wait_exit(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() > deadline:
                self.child.kill(signal.SIGKILL)
                raise AssertionError("heartbeat did not exit")
            self.pump(0.1)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def leftovers(self, timeout: float = 10.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while True:
            alive = [pid for pid in self.descendants if psutil.pid_exists(pid) and _not_zombie(pid)]
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.1)


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def terminal(tmp_path: Path):
    term = Terminal(tmp_path / "heartbeat.log")
    yield term
    try:
        if term.child.isalive():
            term.child.kill(signal.SIGKILL)
    except (pexpect.ExceptionPexpect, OSError):  # already reaped by the test
        pass
    for pid in term.leftovers(timeout=0):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_demo_in_a_terminal_as_a_person_would(terminal: Terminal, tmp_path: Path) -> None:
    terminal.wait_for("HeartBeat · log in", timeout=40)
    assert "payments-prod" not in terminal.text()  # nothing of the fleet before login
    terminal.login()
    first_paint = terminal.wait_for("payments-prod", timeout=40)
    terminal.wait_for("admin (admin)")
    terminal.wait_for("polled")
    print(f"first data painted {first_paint:.2f} s after start")
    assert terminal.descendants, "the embedded AWS child should be running"
    text = terminal.text()
    assert "Accounts" in text and "Clusters" in text and "Services" in text

    terminal.press("f")  # fleet-wide, worst first
    terminal.wait_for("All services")
    terminal.wait_for("sort worst first")
    terminal.press("/")
    terminal.press("account:payments-prod")
    terminal.press("\r")
    terminal.wait_for("/account:payments-prod")
    terminal.press("?")
    terminal.wait_for("Help · Fleet-wide services")
    terminal.press("\x1b")
    time.sleep(0.3)  # a lone Esc is told apart from an escape sequence by a short wait
    terminal.pump(0.3)
    terminal.press("\x1b")  # clears the filter
    time.sleep(0.3)
    terminal.pump(0.2)
    terminal.press("\x1b")  # back to the dashboard
    terminal.wait_for("Accounts")
    terminal.press("q")
    assert terminal.wait_exit() == 0
    assert terminal.leftovers() == []
    log = (tmp_path / "heartbeat.log").read_text()
    assert "first data painted" in log
    assert "Traceback" not in terminal.text()


@pytest.mark.slow
def test_demo_ends_cleanly_when_the_terminal_hangs_up(terminal: Terminal) -> None:
    terminal.login()
    terminal.wait_for("polled", timeout=40)
    terminal.remember_descendants()
    os.kill(terminal.child.pid, signal.SIGHUP)
    assert terminal.wait_exit() == 0
    assert terminal.leftovers() == []


@pytest.mark.slow
def test_demo_ends_cleanly_when_the_terminal_goes_away(terminal: Terminal) -> None:
    """What an SSH drop does: the pseudo-terminal's master side closes."""

    terminal.login()
    terminal.wait_for("polled", timeout=40)
    terminal.remember_descendants()
    pid = terminal.child.pid
    terminal.child.ptyproc.fileobj.close()
    process = psutil.Process(pid)
    try:
        process.wait(timeout=15)
    except psutil.TimeoutExpired:
        process.kill()
        raise AssertionError("heartbeat kept running after its terminal went away") from None
    assert terminal.leftovers() == []


# Leave the alternate screen, show the cursor, stop mouse reporting: the shell
# the operator gets back is the one they left.
RESTORE_SEQUENCES = (b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1000l")


@pytest.mark.slow
def test_demo_survives_a_resize_storm_then_a_hang_up(terminal: Terminal, tmp_path: Path) -> None:
    terminal.login()
    terminal.wait_for("polled", timeout=40)
    terminal.remember_descendants()
    sizes = [(24, 80), (60, 200), (12, 40), (40, 120), (25, 81), (5, 20), (50, 160)]
    for n in range(60):  # as fast as a window manager can send them
        terminal.resize(*sizes[n % len(sizes)])
        if n % 10 == 0:
            terminal.pump(0.05)
    terminal.resize(30, 100)
    terminal.pump(1.0)
    terminal.press("r")  # still answering keys: a poll starts and ends
    terminal.wait_for("Accounts", timeout=20)
    terminal.wait_for("payments-prod")
    lines = terminal.text().splitlines()
    assert len(lines) == 30 and any("payments-prod" in line for line in lines)
    assert "Traceback" not in terminal.text()

    # The SSH session drops in the middle of another storm.
    for n in range(10):
        terminal.resize(*sizes[n % len(sizes)])
    terminal.raw.clear()
    os.kill(terminal.child.pid, signal.SIGHUP)
    assert terminal.wait_exit() == 0
    assert terminal.leftovers() == []  # the embedded AWS child is gone too
    for sequence in RESTORE_SEQUENCES:
        assert sequence in terminal.raw, f"terminal not restored: {sequence!r} never sent"
    log = (tmp_path / "heartbeat.log").read_text()
    assert "terminal hung up or terminated: exiting" in log
    assert "Traceback" not in log and "unhandled error" not in log
