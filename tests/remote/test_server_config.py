"""Where the server is: `[server]` in the config file, `HEARTBEAT_SERVER`, `--server`.
Tokens and passwords go to it, so plain http is for this machine only, unless
the configuration says a TLS-terminating proxy is in front (`insecure_http`)."""

from __future__ import annotations

import pytest

from heartbeat_tui.config import ConfigError, config_from_dict, dump_toml
from tests.auth.cli_support import CliEnv
from tests.remote.support import ThreadedServer
from tests.support.auth import ADMIN


@pytest.mark.parametrize(
    ("url", "insecure", "expected"),
    [
        ("https://heartbeat.example.com/", False, "https://heartbeat.example.com"),
        ("https://heartbeat.example.com/prefix", False, "https://heartbeat.example.com/prefix"),
        ("http://127.0.0.1:8787", False, "http://127.0.0.1:8787"),
        ("http://[::1]:8787/", False, "http://[::1]:8787"),
        ("http://localhost:8787", False, "http://localhost:8787"),
        ("http://10.0.0.5:8787", True, "http://10.0.0.5:8787"),
    ],
)
def test_accepted_server_urls(url: str, insecure: bool, expected: str) -> None:
    server = config_from_dict({"server": {"url": url, "insecure_http": insecure}}).file.server
    assert server.url == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.5:8787", "plain http"),
        ("http://heartbeat.example.com", "plain http"),
        ("ftp://heartbeat.example.com", "http(s) URL"),
        ("https://", "http(s) URL"),
        ("https://user:secret@heartbeat.example.com", "user name or password"),
        ("https://heartbeat.example.com/?token=x", "query"),
        ("https://heartbeat.example.com:port", "not a URL"),
        ("https://héartbeat.example.com", "ASCII"),
    ],
)
def test_refused_server_urls_name_the_key(url: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"server": {"url": url}})
    message = str(caught.value)
    assert message.startswith("<dict>: server.url: ") and reason in message and "\n" not in message
    assert "secret" not in message  # never echoed


def test_the_config_file_and_the_environment_route_like_the_option(cli: CliEnv, server: ThreadedServer) -> None:
    data = cli.aws.config_dict()
    data["server"] = {"url": server.url}
    cli.config_path.write_text(dump_toml(data))
    cli.monkeypatch.setenv("HEARTBEAT_TOKEN", cli.admin_session().token)
    whoami = cli.run("whoami")
    assert whoami.code == 0 and whoami.out.startswith(f"{ADMIN}  role=admin")
    # It went to the server: with the server gone, the same command is "try again later".
    server.stop()
    gone = cli.run("whoami")
    assert gone.code == 75 and server.url in gone.err
    # The option wins over the file; a bad one is one line, exit 2, before anything is sent.
    refused = cli.run("--server", "http://192.0.2.1:8787", "whoami")
    assert refused.code == 2 and refused.err.startswith("heartbeat: --server: ") and refused.err.count("\n") == 1
    cli.monkeypatch.setenv("HEARTBEAT_SERVER", "http://192.0.2.1:8787")
    env = cli.run("whoami")
    assert env.code == 2 and env.err.startswith("heartbeat: environment: HEARTBEAT_SERVER: ")
    server.start()
