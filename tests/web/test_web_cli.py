"""`heartbeat web`'s refusals: one line on stderr, exit code 2, before anything
listens; and the web mode is the browser session's only (a plain `heartbeat`
with textual-serve's driver variable but no terminal still refuses)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from heartbeat_tui.cli import main
from tests.web.support import HEARTBEAT, clean_environment


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--listen", "0.0.0.0:8788"], "refusing to serve 0.0.0.0 without TLS"),
        (["--listen", "[::]:8788"], "refusing to serve :: without TLS"),
        (["--listen", "10.1.2.3:8788", "--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["--listen", "nonsense"], "--listen 'nonsense': expected HOST:PORT"),
        (["--listen", "0.0.0.0:8788", "--insecure-http"], "listening on 0.0.0.0 needs --public-url"),
        (["--insecure-http", "--tls-cert", "c.pem", "--tls-key", "k.pem"], "contradict each other"),
        (["--max-sessions", "0"], "--max-sessions 0: expected 1 to 1000"),
        (["--public-url", "ftp://heartbeat.example.com"], "expected http(s)://HOST[:PORT][/PATH]"),
        (["--public-url", "https://heartbeat.example.com/?a=b"], "no user, password, query or fragment"),
        (["--trusted-proxy", "proxy.example.com"], "--trusted-proxy 'proxy.example.com': not an IP address"),
        (["--demo", "--server", "https://hb.example.com"], "give --demo or --server, not both"),
        (["--server", "http://hb.example.com"], "plain http to a host that is not this machine"),
        # Without a server, each session opens the users store itself: its secrets must be here.
        ([], "JWT_SECRET is not set"),
    ],
)
def test_refusals_are_one_line_and_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["web", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("heartbeat: ") and message in err[0], err


def test_a_bad_trusted_proxy_in_the_configuration_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[web]\ntrusted_proxies = ["10.0.0.0/8", "the proxy"]\n')
    assert main(["--config", str(config), "web", "--server", "https://hb.example.com"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "web.trusted_proxies" in err[0] and "'the proxy'" in err[0], err


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["web", "--server", "https://hb.example.com", "--listen", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot listen on 127.0.0.1:{port}" in err[0], err


def test_the_session_module_refuses_to_run_unless_started_by_heartbeat_web(tmp_path: Path) -> None:
    run = subprocess.run(
        [HEARTBEAT[0], "-m", "heartbeat_tui.web.session"],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "heartbeat: this module is started by `heartbeat web`, one per browser session"
    ]


def test_textual_serves_driver_variable_does_not_bypass_the_terminal_check(tmp_path: Path) -> None:
    environment = clean_environment(tmp_path, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver")
    run = subprocess.run(HEARTBEAT, env=environment, capture_output=True, text=True, timeout=60, input="")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "heartbeat: the dashboard needs a terminal; for scripts use `heartbeat snapshot` (json, csv or table)"
    ]
    assert "Traceback" not in run.stderr
