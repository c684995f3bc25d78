"""`heartbeat serve` as a real process: what it refuses before listening, TLS,
and SIGTERM draining in-flight requests then exiting 0 with an access log that
holds no token."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.config import dump_toml
from heartbeat_tui.errors import UsageError
from heartbeat_tui.serve.run import ServeOptions, check_options, is_loopback
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, environment
from tests.support.tls import self_signed

pytestmark = pytest.mark.slow


@dataclass
class Setup:
    config_path: Path
    env: dict[str, str]
    log: Path


@pytest.fixture
def setup(clean_aws: Any, tmp_path: Path) -> Setup:
    config = auth_config(clean_aws)

    async def tables() -> None:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)

    asyncio.run(tables())
    data = clean_aws.config_dict()
    data["aws"]["max_attempts"] = 2
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update(environment(clean_aws, config))
    log = tmp_path / "heartbeat.log"
    env["HEARTBEAT_LOG_FILE"] = str(log)
    env["PYTHONUNBUFFERED"] = "1"
    return Setup(path, env, log)


def heartbeat(setup: Setup, *args: str) -> list[str]:
    return [sys.executable, "-m", "heartbeat_tui", "--config", str(setup.config_path), *args]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--listen", "0.0.0.0:8787"), "refusing to serve 0.0.0.0 without TLS"),
        (("--listen", "[::]:8787"), "refusing to serve :: without TLS"),
        (("--listen", "example.com:8787"), "refusing to serve example.com without TLS"),
        (("--listen", "127.0.0.1"), "expected HOST:PORT"),
        (("--listen", "127.0.0.1:99999"), "expected HOST:PORT"),
        (("--tls-cert", "cert.pem"), "--tls-cert and --tls-key go together"),
        (("--tls-cert", "missing.pem", "--tls-key", "missing.key"), "cannot load missing.pem"),
    ],
)
def test_refused_before_listening_one_line_exit_2(setup: Setup, args: tuple[str, ...], message: str) -> None:
    result = subprocess.run(
        heartbeat(setup, "serve", *args),
        capture_output=True,
        text=True,
        env=setup.env,
        timeout=60,
        cwd=setup.log.parent,
    )
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_loopback_rules() -> None:
    for host in ("127.0.0.1", "127.9.9.9", "::1", "localhost"):
        assert is_loopback(host)
        check_options(ServeOptions(host=host))
    for host in ("0.0.0.0", "::", "10.0.0.1", "localhost.example.com"):
        assert not is_loopback(host)
        with pytest.raises(UsageError):
            check_options(ServeOptions(host=host))
        check_options(ServeOptions(host=host, insecure_http=True))
        check_options(ServeOptions(host=host, tls_cert=Path("c"), tls_key=Path("k")))


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    context: ssl.SSLContext | None = None

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        body: object = None,
        headers: dict[str, str] | None = None,
        timeout: float = 90,
    ) -> tuple[int, dict[str, str], bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.context) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def until_polled(self) -> None:
        """/health answers 200 once the first poll is in (a real process: its own clock)."""

        deadline = datetime.datetime.now() + datetime.timedelta(seconds=90)
        while datetime.datetime.now() < deadline:
            status, _, _ = self.request("/health")
            if status == 200:
                return
            threading.Event().wait(0.2)
        pytest.fail("no poll within 90 s")


@pytest.fixture
def start(setup: Setup) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def run(*args: str, context: ssl.SSLContext | None = None) -> Running:
        process = subprocess.Popen(
            heartbeat(setup, "serve", "--listen", "127.0.0.1:0", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=setup.env,
            cwd=setup.log.parent,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on" not in line:
            pytest.fail(f"serve did not start: {line!r} {process.stderr.read() if process.stderr else ''}")
        return Running(process, line.rsplit(" ", 1)[1].strip(), context)

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_sigterm_drains_a_long_poll_and_exits_0(setup: Setup, start: Any) -> None:
    served = start()
    assert served.url.startswith("http://127.0.0.1:")
    served.until_polled()
    status, _, body = served.request(
        "/api/v1/auth/login", method="POST", body={"username": ADMIN, "password": ADMIN_PASSWORD}
    )
    assert status == 200
    token = json.loads(body)["token"]
    auth = {"Authorization": f"Bearer {token}"}
    status, headers, _ = served.request("/api/v1/snapshot?service=*", headers=auth)
    assert status == 200
    hostile = "/api/v1/accounts/1/regions/r/clusters/c/services/%1b%5b2J%0aforged"
    assert served.request(hostile, headers=auth)[0] == 404
    # The long-poll's bytes are all sent before the next request connects, so the server
    # has it parked (waiting for the next poll) by the time it answers that one.
    host, port = served.url.removeprefix("http://").split(":")
    waiting = socket.create_connection((host, int(port)), timeout=30)
    waiting.sendall(
        (
            "GET /api/v1/snapshot?service=*&wait=60 HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {token}\r\nIf-None-Match: {headers['ETag']}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
    )
    assert served.request("/health")[0] == 200
    started = datetime.datetime.now()
    served.process.send_signal(signal.SIGTERM)
    answer = b""
    while chunk := waiting.recv(65536):
        answer += chunk
    waiting.close()
    assert answer.startswith(b"HTTP/1.1 304 "), answer  # drained: answered, not cut off
    assert served.process.wait(30) == 0
    assert (datetime.datetime.now() - started).total_seconds() < 20
    log = setup.log.read_text()
    access = [line for line in log.splitlines() if "heartbeat.access" in line]
    assert any(" root-admin GET /api/v1/snapshot 304 " in line for line in access), access
    assert any(
        " - POST /api/v1/auth/login 200 " in line or " root-admin POST /api/v1/auth/login 200 " in line
        for line in access
    ), access
    assert token not in log and token.split(".")[2] not in log and "wait=60" not in log and "service=*" not in log
    assert ADMIN_PASSWORD not in log
    assert "\x1b" not in log and "\nforged" not in log and any("%1b%5b2J%0aforged 404" in line for line in access)


def test_tls(setup: Setup, start: Any, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    served = start("--tls-cert", str(cert), "--tls-key", str(key), context=context)
    assert served.url.startswith("https://127.0.0.1:")
    status, headers, body = served.request("/health")
    assert status in (200, 503) and json.loads(body)["status"] in ("starting", "ok", "degraded")
    assert headers["X-Content-Type-Options"] == "nosniff"
    plain = Running(served.process, served.url.replace("https://", "http://"))
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        plain.request("/health", timeout=10)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0


def test_no_secrets_no_listening(setup: Setup) -> None:
    env = {k: v for k, v in setup.env.items() if k not in ("JWT_SECRET", "ENCRYPTION_KEY")}
    result = subprocess.run(
        heartbeat(setup, "serve", "--listen", "127.0.0.1:0"),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=setup.log.parent,
    )
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "JWT_SECRET" in result.stderr and "listening" not in result.stdout
