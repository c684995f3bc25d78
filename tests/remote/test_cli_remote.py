"""`--server`: the commands answered by a real `heartbeat serve` print what the
local commands print, end with the same exit codes, and keep the token bound
to the server it came from."""

from __future__ import annotations

import json

import pytest

from tests.auth.cli_support import CliEnv
from tests.remote.support import ThreadedServer
from tests.support.auth import ADMIN, ADMIN_PASSWORD, PASSWORD
from tests.support.configs import PAYMENTS


def remote_login(cli: CliEnv, server: ThreadedServer, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
    result = cli.run("--server", server.url, "login", "--username", username, "--password-stdin", stdin=password + "\n")
    assert result.code == 0, result.err


def test_whoami_and_users_list_equal_the_local_output(cli: CliEnv, server: ThreadedServer) -> None:
    cli.create("uma", "user", PASSWORD, PAYMENTS)
    # One session for both (the server shares the users table and secrets): the same times.
    cli.monkeypatch.setenv("HEARTBEAT_TOKEN", cli.admin_session().token)
    local = {
        args: cli.run(*args)
        for args in (
            ("whoami",),
            ("whoami", "--format", "json"),
            ("users", "list"),
            ("users", "list", "--format", "json"),
        )
    }
    for args, expected in local.items():
        got = cli.run("--server", server.url, *args)
        assert (got.code, got.out, got.err) == (expected.code, expected.out, expected.err), args
    assert "uma" in local[("users", "list")].out


def test_the_session_file_is_bound_to_its_server(cli: CliEnv, server: ThreadedServer) -> None:
    remote_login(cli, server)
    # The local commands never use (or send) the server's token.
    local = cli.run("whoami")
    assert local.code == 3 and server.url in local.err
    # Nor does another server get it.
    other = "http://127.0.0.1:9"
    elsewhere = cli.run("--server", other, "whoami")
    assert elsewhere.code == 3 and f"--server {server.url}" in elsewhere.err
    assert cli.run("--server", server.url, "whoami").code == 0
    # HEARTBEAT_SERVER and [server].url route the same way as --server.
    cli.monkeypatch.setenv("HEARTBEAT_SERVER", server.url)
    assert cli.run("whoami").out.startswith(f"{ADMIN}  role=admin")
    logout = cli.run("logout")
    assert logout.code == 0 and logout.out.startswith(f"logged out {ADMIN}")
    assert cli.run("whoami").code == 3


def test_refused_sessions_roles_and_an_absent_server_map_to_exit_codes(cli: CliEnv, server: ThreadedServer) -> None:
    cli.create("uma", "user", PASSWORD, PAYMENTS)
    no_session = cli.run("--server", server.url, "whoami")
    assert no_session.code == 3
    bad_login = cli.run("--server", server.url, "login", "--username", "uma", "--password-stdin", stdin="wrong\n")
    assert (bad_login.code, bad_login.err.strip()) == (3, "heartbeat: invalid username or password")
    remote_login(cli, server, "uma", PASSWORD)
    forbidden = cli.run("--server", server.url, "users", "list")
    assert forbidden.code == 4 and forbidden.err.startswith("heartbeat: ") and forbidden.err.count("\n") == 1
    assert cli.run("--server", server.url, "refresh").code == 4
    # The server revokes the token (logout): the next call is refused with exit 3.
    assert cli.run("--server", server.url, "logout").code == 0
    assert cli.run("--server", server.url, "snapshot").code == 3
    # Nothing listens: one line, exit 75.
    server.stop()
    remote_login_result = cli.run(
        "--server", server.url, "login", "--username", "uma", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert remote_login_result.code == 75
    assert remote_login_result.err.count("\n") == 1 and "cannot reach the HeartBeat server" in remote_login_result.err
    server.start()


def test_a_bad_server_url_is_one_line_and_exit_2(cli: CliEnv) -> None:
    plain = cli.run("--server", "http://10.1.2.3:8787", "whoami")
    assert plain.code == 2 and "https" in plain.err and plain.err.count("\n") == 1
    cli.monkeypatch.setenv("HEARTBEAT_SERVER", "ftp://x")
    assert cli.run("whoami").code == 2
    assert cli.run("--server", "https://example.com", "doctor").code == 2


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_snapshot_equals_the_local_rendering_of_the_servers_poll(cli: CliEnv, server: ThreadedServer, fmt: str) -> None:
    from heartbeat_tui.controller import scoped
    from heartbeat_tui.export import Filters, to_csv, to_json, to_table

    cli.create("uma", "user", PASSWORD, PAYMENTS)
    remote_login(cli, server, "uma", PASSWORD)
    got = cli.run("--server", server.url, "snapshot", "--format", fmt, "--cluster", "*")
    render = {"json": to_json, "csv": to_csv, "table": to_table}[fmt]
    snapshot = server.hub.snapshot
    assert snapshot is not None
    expected = render(scoped(snapshot, frozenset({PAYMENTS})), Filters(cluster="*"))
    assert got.out == expected
    assert got.code == (1 if any(a.error for a in snapshot.accounts if a.id == PAYMENTS) else 0)
    if fmt == "json":
        assert {a["id"] for a in json.loads(got.out)["accounts"]} == {PAYMENTS}


def test_aliases_equal_the_local_output_and_refresh_polls_the_server_once(cli: CliEnv, server: ThreadedServer) -> None:
    from heartbeat_tui.cli_users import print_full_poll

    cli.monkeypatch.setenv("HEARTBEAT_TOKEN", cli.admin_session().token)
    for fmt in ("table", "json"):
        local = cli.run("aliases", "--format", fmt)
        got = cli.run("--server", server.url, "aliases", "--format", fmt)
        assert (got.code, got.out) == (local.code, local.out), fmt
        # The same accounts' aliases unreadable (the reason is the server poll's wording).
        assert [line.split(": alias not readable")[0] for line in got.lines] == [
            line.split(": alias not readable")[0] for line in local.lines
        ]
    before = server.hub.generation
    refreshed = cli.run("--server", server.url, "refresh")
    assert server.hub.generation == before + 1  # one poll, by the server, for this refresh
    snapshot = server.hub.snapshot
    assert snapshot is not None
    cli.capsys.readouterr()
    code = print_full_poll(snapshot)
    assert (refreshed.code, refreshed.out) == (code, cli.capsys.readouterr().out)


def test_user_administration_through_the_server_prints_the_local_lines(cli: CliEnv, server: ThreadedServer) -> None:
    cli.monkeypatch.setenv("HEARTBEAT_TOKEN", cli.admin_session().token)
    steps = [
        (
            ("users", "create", "--username", "{u}", "--role", "user", "--accounts", PAYMENTS, "--password-stdin"),
            PASSWORD,
        ),
        (("users", "set-accounts", "{u}", ""), ""),
        (("users", "set-role", "{u}", "monitor"), ""),
        (("users", "update", "{u}", "--full-name", "Some One"), ""),
        (("users", "disable", "{u}"), ""),
        (("users", "enable", "{u}"), ""),
        (("users", "unlock", "{u}"), ""),
        (("users", "reset-password", "{u}", "--password-stdin"), PASSWORD + "!"),
        (("users", "create", "--username", "{u}", "--role", "user", "--password-stdin"), PASSWORD),  # exists
        (("users", "set-role", "{u}", "emperor"), ""),  # invalid role
        (("users", "disable", "nobody-{u}"), ""),  # no such user
    ]
    for args, stdin in steps:
        local = cli.run(*(a.format(u="carl") for a in args), stdin=stdin + "\n" if stdin else "")
        remote = cli.run(
            "--server", server.url, *(a.format(u="bob") for a in args), stdin=stdin + "\n" if stdin else ""
        )
        assert remote.code == local.code, (args, local, remote)
        assert remote.out == local.out.replace("carl", "bob"), args
        assert bool(remote.err) == bool(local.err), args
    listing = cli.run("--server", server.url, "users", "list", "--format", "json")
    bob = next(u for u in json.loads(listing.out) if u["username"] == "bob")
    assert (bob["role"], bob["full_name"], bob["active"]) == ("monitor", "Some One", True)
