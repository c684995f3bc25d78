"""Running `heartbeat` in-process (fast: hashing at FAST_ITERATIONS) or as a real process.

`CliEnv` holds one deployment on the embedded AWS: a config file, the secrets
and a users table of its own, put in the environment of the test.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import heartbeat_tui.auth.service as auth_service
from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.cli import main
from heartbeat_tui.config import Config, dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, environment

_real_open_auth = auth_service.open_auth


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.strip().splitlines()


@dataclass
class CliEnv:
    aws: Any
    config: Config
    config_path: Path
    env: dict[str, str]
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str, stdin: str = "") -> Result:
        """`heartbeat --config PATH ARGS` in this process; stdin is not a terminal."""

        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--config", str(self.config_path), *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def process(self, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None) -> Result:
        """The real thing: `python -m heartbeat_tui` in a child process (real hashing cost)."""

        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
        env.update(self.env)
        env.update(extra_env or {})
        result = subprocess.run(
            [sys.executable, "-m", "heartbeat_tui", "--config", str(self.config_path), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
        )
        return Result(result.returncode, result.stdout, result.stderr)

    def service(self, work: Any) -> Any:
        """Run `await work(auth)` against this deployment (fast hashing)."""

        async def go() -> Any:
            async with _real_open_auth(self.config, iterations=FAST_ITERATIONS) as auth:
                return await work(auth)

        return asyncio.run(go())

    def login(self, username: str, password: str) -> Result:
        return self.run("login", "--username", username, "--password-stdin", stdin=password + "\n")

    def create(self, username: str, role: str, password: str = "a long enough password", *extra: str) -> None:
        async def work(auth: AuthService) -> None:
            admin = await auth.login(ADMIN, ADMIN_PASSWORD)
            accounts = None
            if extra:
                accounts = extra[0]
            await auth.create_user(admin, username=username, password=password, role=role, accounts=accounts)

        self.service(work)

    def admin_session(self) -> Session:
        async def work(auth: AuthService) -> Session:
            return await auth.login(ADMIN, ADMIN_PASSWORD)

        return self.service(work)


def make_cli_env(
    aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *, admin: bool = True
) -> CliEnv:
    config = auth_config(aws)
    data = aws.config_dict()
    data["aws"]["max_attempts"] = 2
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(data))
    env = environment(aws, config)
    env["HEARTBEAT_LOG_FILE"] = str(tmp_path / "heartbeat.log")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(auth_service, "open_auth", functools.partial(_real_open_auth, iterations=FAST_ITERATIONS))
    cli = CliEnv(aws, config, path, env, monkeypatch, capsys)
    if admin:

        async def work(auth: AuthService) -> None:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)

        cli.service(work)
    return cli
