"""`heartbeat demo` without the dashboard: the embedded AWS's configuration
for the engine (also used by the dashboard's demo), and `heartbeat demo
--serve`, which keeps the embedded AWS running and prints how to point the
other commands (`snapshot`, `doctor`) at it.
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
from heartbeat_tui.errors import EXIT_OK
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
            f"{clusters:>2} clusters {len(services):>4} services  "
            f"{failed} failed rollouts, {below} below desired, {hot} CPU >= 90%"
        )
        if account.error:
            lines.append(f"{'':<20} ! {account.error}")
    return "\n".join(lines)


def serve_demo(*, step_seconds: float = 2.0) -> int:
    isolate_from_real_aws()
    with EmbeddedAWS(FleetSpec.demo(), step_seconds=step_seconds) as aws:
        config = demo_config(aws)

        async def poll() -> FleetSnapshot:
            async with Collector(config) as collector:
                with heap.poll_window():
                    return await collector.poll()

        snapshot = asyncio.run(poll())
        print(f"HeartBeat demo: embedded AWS at {aws.endpoint_url}, {snapshot.service_count} services")
        print(visible_lines(summarise(snapshot)))
        path = _write_demo_config(aws)
        credentials = aws.credentials()
        stop = _stop_signal()
        print(
            "\nServing until Ctrl-C. In another shell:\n"
            f"  export HEARTBEAT_CONFIG={path} AWS_ACCESS_KEY_ID={credentials['AWS_ACCESS_KEY_ID']}"
            f" AWS_SECRET_ACCESS_KEY={credentials['AWS_SECRET_ACCESS_KEY']}\n"
            "  heartbeat doctor\n"
            "  export $(heartbeat keys generate)      # secrets for this shell's sessions\n"
            "  heartbeat init --admin admin && heartbeat login --username admin\n"
            "  heartbeat snapshot --format table"
        )
        sys.stdout.flush()
        _wait_for(stop)
    return EXIT_OK


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


def _wait_for(done: threading.Event) -> None:
    while not done.wait(1.0):
        pass
