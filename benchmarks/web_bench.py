"""`heartbeat web` benchmark: the dashboard in Debian's chromium (Playwright).

Starts `heartbeat web --demo` (one embedded AWS and one `heartbeat serve`
shared by every session) on a free port of 127.0.0.1, or uses a running
`heartbeat web` (`--url`; its login in $HEARTBEAT_BENCH_USER and
$HEARTBEAT_BENCH_PASSWORD), and measures in a real browser, reading the
screen as the page gets it (the websocket's frames fed to pyte, as
tests/web_browser do):

1. page load to login form: `goto` until the form is drawn (per tab);
2. Enter to data: the login's Enter until the fleet is on the screen;
3. keypress to screen update, on one logged-in tab (`--presses` of each):
   `j`/`k` in the accounts pane until the first frame drawn after the key
   reaches the page; `?` until help is drawn, `Esc` until it is gone;
4. memory per session with 1, 5 and 10 tabs logged in: each session's
   process tree (the session and its children) read from /proc: RSS, and
   PSS (shared pages split between the processes that map them, so a sum
   over sessions is not inflated by the interpreter they share); the server's
   own tree (with `--demo`: the embedded AWS and the serve) apart.

Run:  .venv/bin/python benchmarks/web_bench.py [--tabs 1,5,10] [--presses 20] [--json]
      .venv/bin/python benchmarks/web_bench.py --url http://127.0.0.1:8788/   # a running heartbeat web
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.browser import (
    DEMO_PASSWORD,
    DEMO_USER,
    SESSION_MODULE,
    Tab,
    WebServer,
    chromium,
    chromium_missing,
    on_dashboard,
    start_web,
)

TARGET_MB_PER_SESSION = 80.0


def _kib(path: Path, field: str) -> int:
    """A `field:  N kB` line of a /proc file, in KiB (0 when the process is gone)."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def tree(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += _children(current)
    return pids


def tree_memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of `pid`'s process tree, in MB."""
    pids = tree(pid)
    rss = sum(_kib(Path(f"/proc/{p}/status"), "VmRSS") for p in pids)
    pss = sum(_kib(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in pids)
    return rss / 1024, pss / 1024


def session_pids(server_pid: int) -> list[int]:
    """The browser sessions' processes below the server."""
    found = []
    for pid in tree(server_pid):
        try:
            if SESSION_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"n": len(values), "median": statistics.median(values), "p90": p90, "max": ordered[-1]}


async def open_and_log_in(
    context: Any, url: str, user: str, password: str, at_form: Callable[[], None] | None = None
) -> tuple[Tab, float, float]:
    """A tab logged in: (tab, seconds to the login form, seconds from Enter to data);
    `at_form` is called once the form is drawn and settled, before the login."""
    tab = Tab(await context.new_page())
    started = time.monotonic()
    await tab.page.goto(url)
    await tab.wait_for("Password", timeout=120)
    to_form = time.monotonic() - started
    if at_form is not None:
        await asyncio.sleep(2)
        at_form()
    await tab.page.keyboard.type(user, delay=0)
    await tab.page.keyboard.press("Tab")
    await tab.page.keyboard.type(password, delay=0)
    entered = time.monotonic()
    await tab.page.keyboard.press("Enter")
    await tab.wait_for(on_dashboard, timeout=120, step=0.005)
    return tab, to_form, time.monotonic() - entered


async def keypresses(tab: Tab, presses: int) -> tuple[list[float], list[float]]:
    """Seconds from a key to the screen it changes: (`j`/`k` in the accounts pane to
    the first frame drawn after it; `?` to help drawn and `Esc` to help gone)."""

    moves = []
    await tab.page.keyboard.press("Escape")  # no pane but the accounts one
    for _ in range(presses):
        for key in ("j", "k"):
            seen = len(tab.frames)
            started = time.monotonic()
            await tab.page.keyboard.press(key)
            while len(tab.frames) <= seen:
                if time.monotonic() - started > 30:
                    raise AssertionError(f"no frame after {key!r}")
                await asyncio.sleep(0.001)
            moves.append(tab.frames[seen].at - started)
            await asyncio.sleep(0.05)
    screens = []
    for _ in range(presses):
        for key, drawn in (("?", True), ("Escape", False)):
            started = time.monotonic()
            await tab.page.keyboard.press(key)
            await tab.wait_for(lambda text, drawn=drawn: ("Help ·" in text) == drawn, timeout=30, step=0.002)
            screens.append(time.monotonic() - started)
        await asyncio.sleep(0.05)
    return moves, screens


async def run(args: argparse.Namespace, server: WebServer | None, url: str, server_pid: int | None) -> dict[str, Any]:
    user = os.environ.get("HEARTBEAT_BENCH_USER", DEMO_USER)
    password = os.environ.get("HEARTBEAT_BENCH_PASSWORD", DEMO_PASSWORD)
    counts = sorted(int(n) for n in args.tabs.split(","))
    result: dict[str, Any] = {"load_average_before": os.getloadavg(), "tabs": {}}
    forms: list[float] = []
    data: list[float] = []
    with tempfile.TemporaryDirectory(prefix="web-bench-") as profile:
        async with chromium(Path(profile) / "chromium") as context:
            tabs: list[Tab] = []
            for count in counts:
                while len(tabs) < count:
                    at_form = None
                    if not tabs and server_pid is not None:

                        def at_form() -> None:
                            (pid,) = session_pids(server_pid)
                            result["login_form_rss_pss_mb"] = tree_memory(pid)

                    tab, to_form, to_data = await open_and_log_in(context, url, user, password, at_form)
                    tabs.append(tab)
                    forms.append(to_form)
                    data.append(to_data)
                    if len(tabs) == 1:
                        moves, screens = await keypresses(tab, args.presses)
                        result["keypress_to_frame_seconds"] = summary(moves)
                        result["keypress_to_help_seconds"] = summary(screens)
                await asyncio.sleep(args.settle)  # a poll or two drawn by every tab
                if server_pid is not None:
                    sessions = session_pids(server_pid)
                    memory = [tree_memory(pid) for pid in sessions]
                    rss = [m[0] for m in memory]
                    pss = [m[1] for m in memory]
                    own = tree_memory(server_pid)
                    sessions_rss = sum(rss)
                    result["tabs"][count] = {
                        "sessions": len(sessions),
                        "rss_mb_per_session": statistics.mean(rss) if rss else None,
                        "pss_mb_per_session": statistics.mean(pss) if pss else None,
                        "rss_mb_per_session_max": max(rss) if rss else None,
                        "server_rss_mb_without_sessions": own[0] - sessions_rss,
                        "load_average": os.getloadavg(),
                    }
            for tab in tabs:
                await tab.close()
    result["page_load_to_login_form_seconds"] = summary(forms)
    result["enter_to_data_seconds"] = summary(data)
    result["load_average_after"] = os.getloadavg()
    return result


def report(result: dict[str, Any]) -> None:
    def line(name: str, values: dict[str, float], unit: float = 1.0, suffix: str = "s") -> None:
        print(
            f"{name:<34} median {values['median'] * unit:7.3f} {suffix}  p90 {values['p90'] * unit:7.3f} {suffix}"
            f"  max {values['max'] * unit:7.3f} {suffix}  (n={values['n']})"
        )

    print(f"load average before: {' '.join(f'{x:.2f}' for x in result['load_average_before'])}")
    line("page load to login form", result["page_load_to_login_form_seconds"])
    line("Enter to data", result["enter_to_data_seconds"])
    line("keypress (j/k) to its frame", result["keypress_to_frame_seconds"], 1000, "ms")
    line("keypress (?/Esc) to help drawn/gone", result["keypress_to_help_seconds"], 1000, "ms")
    if "login_form_rss_pss_mb" in result:
        rss, pss = result["login_form_rss_pss_mb"]
        print(f"one session at the login form (no data yet): RSS {rss:.1f} MB, PSS {pss:.1f} MB")
    for count, tabs in result["tabs"].items():
        print(
            f"{count:>2} tabs: {tabs['sessions']} sessions, per session RSS {tabs['rss_mb_per_session']:.1f} MB"
            f" (max {tabs['rss_mb_per_session_max']:.1f}), PSS {tabs['pss_mb_per_session']:.1f} MB;"
            f" server without sessions RSS {tabs['server_rss_mb_without_sessions']:.1f} MB;"
            f" load {' '.join(f'{x:.2f}' for x in tabs['load_average'])}"
        )
    worst = max((t["rss_mb_per_session"] for t in result["tabs"].values()), default=None)
    if worst is not None:
        verdict = "met" if worst <= TARGET_MB_PER_SESSION else "MISSED"
        print(f"target <= {TARGET_MB_PER_SESSION:.0f} MB RSS per session: {verdict} (worst {worst:.1f} MB)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in result['load_average_after'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running heartbeat web (default: start heartbeat web --demo)")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for memory per session")
    parser.add_argument("--tabs", default="1,5,10", help="tab counts to measure memory at (default 1,5,10)")
    parser.add_argument("--presses", type=int, default=20, help="j/k and ?/Esc pairs timed (default 20)")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds every tab draws before memory is read")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    missing = chromium_missing()
    if missing:
        print(f"web_bench: {missing}", file=sys.stderr)
        return 2
    server = None
    if args.url:
        url, pid = args.url, args.pid
    else:
        top = max(int(n) for n in args.tabs.split(","))
        home = Path(tempfile.mkdtemp(prefix="web-bench-home-"))
        server = start_web(home, "--demo", "--max-sessions", str(max(top, 1)), timeout=180)
        url, pid = server.url, server.pid
    try:
        result = asyncio.run(run(args, server, url, pid))
    finally:
        if server is not None:
            server.stop()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
