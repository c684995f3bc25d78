"""The Dockerfile, read as Docker reads it (there is no Docker daemon in CI): a pinned
slim base, a non-root user, no secret baked in, a HEALTHCHECK that asks /health
(and, run against a real service, passes and fails when it should), and the
`heartbeat serve` command for a proxy in front."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from aiohttp.test_utils import TestServer

from heartbeat_tui.serve.app import build_app
from tests.serve.conftest import Served

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|ENCRYPTION|CREDENTIAL|ACCESS_KEY|PRIVATE|_KEY\b", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""

    found: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        found.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def of(keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions() if name == keyword]


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) command: Docker parses it as JSON, so must we."""

    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(part, str) for part in command)
    return command


def healthcheck_command() -> list[str]:
    (check,) = of("HEALTHCHECK")
    _, _, command = check.partition("CMD ")
    return exec_form(command)


def test_base_image_is_slim_python_pinned_by_tag() -> None:
    for image in of("FROM"):
        name = image.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?", name), name


def test_the_service_runs_as_a_non_root_user() -> None:
    users = of("USER")
    assert users, "no USER: the service would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # The user is set after the last FROM, so it applies to the final image.
    names = [name for name, _ in instructions()]
    assert max(i for i, n in enumerate(names) if n == "USER") > max(i for i, n in enumerate(names) if n == "FROM")


def test_no_secret_is_baked_into_the_image() -> None:
    for keyword in ("ENV", "ARG", "LABEL"):
        for arguments in of(keyword):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", " " + arguments) or [arguments.split()[0]]
            for name in names:
                assert not SECRET_NAME.search(name), f"{keyword} {name}: secrets come from the environment at run time"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "*" in ignored and "**/.env" in ignored  # nothing but the package reaches the build context
    assert not any(line.startswith("!.env") for line in ignored)


def test_the_command_is_serve_for_a_proxy_in_front() -> None:
    assert exec_form(of("ENTRYPOINT")[-1]) == ["heartbeat"]
    assert exec_form(of("CMD")[-1]) == ["serve", "--listen", "0.0.0.0:8787", "--insecure-http"]
    assert of("EXPOSE") == ["8787"]
    assert "http://127.0.0.1:8787/health" in healthcheck_command()[-1]


async def run_healthcheck(port: int) -> int:
    """The HEALTHCHECK's own command, pointed at `port` instead of 8787."""

    command = healthcheck_command()
    assert command[0] == "python" and "urllib" in command[-1]  # slim images have no curl
    code = command[-1].replace("127.0.0.1:8787", f"127.0.0.1:{port}")
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:-1], code, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert b"Traceback" not in stderr
    assert process.returncode is not None
    return process.returncode


async def test_the_healthcheck_fails_while_starting_and_passes_after_a_poll(served: Served) -> None:
    server = TestServer(build_app(served.hub, served.auth, served.config), host="127.0.0.1")
    await server.start_server()
    try:
        assert server.port is not None
        assert await run_healthcheck(server.port) != 0  # 503 starting
        await served.poll()
        assert await run_healthcheck(server.port) == 0  # 200 degraded: one demo account denies AssumeRole
    finally:
        await server.close()
