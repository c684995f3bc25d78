"""`heartbeat demo` without the dashboard: the embedded AWS's configuration
for the engine (also used by the dashboard's demo), and `heartbeat demo
--serve`, which keeps the embedded AWS running, serves it with `heartbeat
serve` (the demo admin on in-memory secrets, as the dashboard's demo has) and
prints the lines that point the other commands at either, written for the
README's set-up (`.venv/bin/heartbeat`, the `.env` flow). The configuration
file it writes is removed when it stops.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path

from pydantic import SecretStr

from heartbeat_tui import heap
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import Config, config_from_dict, dump_toml, load_env, user_state_dir
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.localfiles import checked_folder, open_written_file
from heartbeat_tui.models import AccountStatus, FleetSnapshot
from heartbeat_tui.untrusted import visible_lines


def demo_config(aws: EmbeddedAWS) -> Config:
    """The configuration for the embedded fleet, with its (non-secret) test credentials."""

    credentials = aws.credentials()
    env = load_env(None).model_copy(
        update={
            "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": _secret(credentials["AWS_SECRET_ACCESS_KEY"]),
            "aws_session_token": None,
            "aws_profile": None,
        }
    )
    return config_from_dict(aws.config_dict(), env=env, source="embedded AWS")


def _secret(value: str) -> SecretStr:

    return SecretStr(value)


def isolate_from_real_aws() -> None:
    # A profile or region from the operator's shell must not steer the demo.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID"):
        os.environ.pop(name, None)


def summarise(snapshot: FleetSnapshot) -> str:
    lines = []
    for account in snapshot.accounts:
        services = [s for _, _, s in account.services()]
        cpus = [s.metrics.cpu_average.current(r.metrics_as_of(snapshot.generated_at)) for r, _, s in account.services()]
        clusters = sum(len(r.clusters) for r in account.regions)
        failed = sum(1 for s in services if s.rollout_state == "FAILED")
        below = sum(1 for s in services if s.running_count < s.desired_count)
        hot = sum(1 for cpu in cpus if (cpu or 0) >= 90)
        status = "ok" if account.status is AccountStatus.OK else "ERROR"
        lines.append(
            f"{account.display_name:<20} {account.id}  {status:<5}  "
            f"{_plural(clusters, 'cluster'):>11} {_plural(len(services), 'service'):>13}  "
            f"{_plural(failed, 'failed rollout')}, {below} below desired, {hot} CPU >= 90%"
        )
        if account.error:
            lines.append(f"{'':<20} ! {account.error}")
    return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def heartbeat_command() -> str:
    """How to run this `heartbeat` from here: the README's `.venv/bin/heartbeat` when
    it is the one running, else the script beside this Python, else `heartbeat`."""

    script = Path(sys.executable).parent / "heartbeat"
    if not script.exists():
        return "heartbeat"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def serve_demo(*, step_seconds: float = 2.0) -> int:
    from heartbeat_tui.tui.auth_gate import demo_password

    isolate_from_real_aws()
    stop = _stop_signal()  # before anything is printed: a caller may signal as soon as it reads
    password = demo_password()
    with EmbeddedAWS(FleetSpec.demo(), step_seconds=step_seconds) as aws:
        config = demo_config(aws)

        async def poll() -> FleetSnapshot:
            async with Collector(config) as collector:
                with heap.poll_window():
                    return await collector.poll()

        snapshot = asyncio.run(poll())
        print(f"HeartBeat demo: embedded AWS at {aws.endpoint_url}, {_plural(snapshot.service_count, 'service')}")
        print(visible_lines(summarise(snapshot)))
        path = _write_demo_config(aws)
        try:
            return asyncio.run(_serve(aws, config, path, password, stop))
        finally:
            path.unlink(missing_ok=True)  # valid only while this runs


async def _serve(aws: EmbeddedAWS, config: Config, path: Path, password: str, done: threading.Event) -> int:
    from heartbeat_tui.auth import AuthSecrets
    from heartbeat_tui.auth.service import open_auth
    from heartbeat_tui.serve.run import ServeOptions, serve
    from heartbeat_tui.tui.auth_gate import DEMO_ADMIN

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGHUP (and a signal before the service takes SIGTERM and SIGINT over) set `done`.
    watcher = loop.run_in_executor(None, done.wait)
    watcher.add_done_callback(lambda _: stop.set())
    heartbeat = heartbeat_command()
    credentials = aws.credentials()

    def ready(url: str) -> None:
        print(
            "\nServing until Ctrl-C. In another shell, from this folder:\n"
            f"  {heartbeat} --server {url} login --username {DEMO_ADMIN}   # password: {password}\n"
            f"  {heartbeat} --server {url} snapshot --format table\n"
            f"  {heartbeat} --server {url}                       # the dashboard, on this one poller\n"
            "Or straight on the embedded AWS, with your own users:\n"
            f"  export HEARTBEAT_CONFIG={path} AWS_ACCESS_KEY_ID={credentials['AWS_ACCESS_KEY_ID']}"
            f" AWS_SECRET_ACCESS_KEY={credentials['AWS_SECRET_ACCESS_KEY']}\n"
            f"  {heartbeat} doctor\n"
            f"  {heartbeat} keys generate --write .env   # JWT_SECRET and ENCRYPTION_KEY, in a 0600 .env\n"
            f"  {heartbeat} init --admin alice && {heartbeat} login --username alice\n"
            f"  {heartbeat} snapshot --format table",
            flush=True,
        )

    try:
        # Random secrets in memory: the demo's sessions end with it.
        async with open_auth(config, secrets=AuthSecrets.generate()) as auth:
            await auth.store.ensure_tables()
            if await auth.store.get(DEMO_ADMIN) is None:
                await auth.bootstrap_admin(DEMO_ADMIN, password)
            return await serve(config, ServeOptions(port=0), stop=stop, ready=ready, auth=auth)
    finally:
        done.set()  # the watcher's thread ends
        await watcher


def _write_demo_config(aws: EmbeddedAWS) -> Path:
    path = user_state_dir() / "demo" / "config.toml"
    checked_folder(path.parent.parent, "state folder", create=True, narrow=True)
    checked_folder(path.parent, "demo folder", create=True, narrow=True)
    text = "# Written by `heartbeat demo --serve`; valid while it runs.\n" + dump_toml(aws.config_dict())
    # Emptied only once checked: O_TRUNC would cut a planted hard link's target first.
    fd = open_written_file(path, os.O_WRONLY | os.O_CREAT, "demo config file")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.truncate(0)
        out.write(text)
    return path


def _stop_signal() -> threading.Event:
    """Set by SIGINT, SIGTERM or SIGHUP; installed before the lines are printed,
    so a caller that signals as soon as it reads them stops us cleanly."""

    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: done.set())
    return done
