"""`--server URL`: the commands that run against a shared `heartbeat serve`.

`heartbeat`, `login`, `logout`, `whoami`, `snapshot`, `aliases`, `refresh`
and `users ...` have a remote form; each prints exactly what the local command
prints, through the very functions the local commands print with, so the two
cannot drift apart. The server is `--server`, else `HEARTBEAT_SERVER` (or
`.env`), else `[server].url`; the other commands (`init`, `keys`, `doctor`,
`demo`, `serve`) work on AWS directly and refuse an explicit `--server`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from heartbeat_tui.errors import EXIT_OK, ConfigError, UsageError

if TYPE_CHECKING:
    from heartbeat_tui.config import Config
    from heartbeat_tui.remote.client import RemoteClient

T = TypeVar("T")
REMOTE_USER_ACTIONS = frozenset(
    {"create", "list", "disable", "enable", "set-role", "set-accounts", "update", "reset-password", "unlock"}
)
REMOTE_COMMANDS = frozenset({None, "login", "logout", "whoami", "snapshot", "aliases", "refresh", "users"})


def server_url(args: argparse.Namespace, config: Config) -> str | None:
    """The server to use (checked: one line, exit 2), or None for AWS and DynamoDB."""

    from heartbeat_tui.config import server_url_problem

    insecure = config.file.server.insecure_http
    for value, source, key in (
        (getattr(args, "server", None), "--server", None),
        (config.env.heartbeat_server, "environment", "HEARTBEAT_SERVER"),
    ):
        if value is not None:
            problem = server_url_problem(value, insecure)
            if problem:
                raise ConfigError(source, key, problem)
            return value.rstrip("/")
    return config.file.server.url  # checked when the file was read


def routed(
    args: argparse.Namespace, dashboard: Callable[[argparse.Namespace, Config, str], int]
) -> Callable[[], int] | None:
    """The remote form of the command `args` names, when a server is given; None: run it locally.
    `dashboard` is the remote dashboard (the Textual side, which the engine does not import)."""

    if args.command == "web":  # its sessions watch the server; `heartbeat web` itself serves pages
        return None
    if args.command not in REMOTE_COMMANDS:
        if getattr(args, "server", None) is not None:
            raise UsageError(f"`heartbeat {args.command}` works on AWS directly and takes no --server")
        return None
    from heartbeat_tui.cli_session import load_cli_config

    config = load_cli_config(args)
    url = server_url(args, config)
    if url is None and args.command == "logout":
        url = _session_server()  # a server's session is ended on that server
    if url is None:
        return None
    return partial(dashboard if args.command is None else REMOTE[args.command], args, config, url)


def _session_server() -> str | None:
    from heartbeat_tui.auth import SessionInvalid
    from heartbeat_tui.auth.session_file import load_token

    try:
        stored = load_token()
    except SessionInvalid:
        return None
    return None if stored is None else stored.server


def stored_token(url: str) -> str:
    """The token for `url`: `HEARTBEAT_TOKEN`, or the session file's when it is this server's."""

    from heartbeat_tui.auth import SessionInvalid
    from heartbeat_tui.auth.session_file import NO_SESSION, elsewhere, load_token

    stored = load_token()
    if stored is None:
        raise SessionInvalid(NO_SESSION.replace("heartbeat login", f"heartbeat login --server {url}"))
    if stored.server is None and stored.source != "HEARTBEAT_TOKEN":
        raise SessionInvalid(f"not logged in to {url}: run `heartbeat login --server {url}`")
    if stored.server is not None and stored.server != url:
        raise SessionInvalid(elsewhere(stored.server))
    return stored.token


def _run(url: str, work: Callable[[RemoteClient], Awaitable[T]], *, token: bool = True) -> T:
    from heartbeat_tui.remote.client import RemoteClient

    async def run() -> T:
        async with RemoteClient(url, stored_token(url) if token else None) as client:
            return await work(client)

    return asyncio.run(run())


# -- the commands ------------------------------------------------------------------------------------


def remote_login(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.auth.session_file import save_token
    from heartbeat_tui.cli_session import logged_in, read_credentials
    from heartbeat_tui.remote.auth import session_of

    username, password = read_credentials(args)

    async def work(client: RemoteClient) -> tuple[dict[str, Any], str]:
        data = await client.login(username, password)
        return await client.me(), data["token"]

    me, token = _run(url, work, token=False)
    session = session_of(me, token)
    return logged_in(session, save_token(token, server=url))


def remote_logout(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.auth.session_file import load_token
    from heartbeat_tui.cli_session import logged_out

    stored = load_token()
    if stored is None:
        print("not logged in")
        return EXIT_OK

    async def work(client: RemoteClient) -> str | None:
        from heartbeat_tui.auth import SessionInvalid

        try:
            data = await client.json("POST", "/api/v1/auth/logout")
        except SessionInvalid:  # expired or revoked already: nothing left to end on the server
            return None
        return data.get("username") if isinstance(data, dict) else None

    return logged_out(stored, _run(url, work))


def remote_whoami(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.cli_users import print_whoami
    from heartbeat_tui.remote.auth import session_of, user_of

    data = _run(url, lambda client: client.me())
    return print_whoami(session_of(data, ""), user_of(data), args)


async def _fleet(client: RemoteClient) -> Any:
    snapshot, _ = await client.fleet()
    return snapshot


def remote_snapshot(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.cli import print_snapshot

    # The server's latest poll, cut to the session's accounts; filtered and printed as a local poll is.
    return print_snapshot(_run(url, _fleet), args)


def remote_aliases(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.cli_fleet import print_aliases

    snapshot = _run(url, _fleet)
    # The server's collector read each alias (or the configuration gave it); one it could not read is
    # an error line, as locally, with the reason the server's poll gave.
    errors = [
        f"account {a.id}: alias not readable: {a.error or a.warnings[0]}"
        for a in snapshot.accounts
        if a.alias is None and (a.error or a.warnings)
    ]
    return print_aliases([(a.id, a.alias) for a in snapshot.accounts], errors, args)


def remote_refresh(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.cli_fleet import print_full_poll
    from heartbeat_tui.remote.client import MAX_WAIT_SECONDS

    async def work(client: RemoteClient) -> Any:
        _, etag = await client.fleet()
        await client.refresh()
        while True:  # the poll the refresh started (one already running counts: it is as new)
            snapshot, etag = await client.fleet(etag, wait=MAX_WAIT_SECONDS)
            if snapshot is not None:
                return snapshot

    return print_full_poll(_run(url, work))


def remote_users(args: argparse.Namespace, config: Config, url: str) -> int:
    from heartbeat_tui.cli_admin import check_update, user_done, users_listing
    from heartbeat_tui.cli_session import read_password
    from heartbeat_tui.remote.auth import user_of

    action = args.users_command
    if action is None:
        raise UsageError(
            "an action is needed: create, list, disable, enable, set-role, set-accounts, update,"
            " reset-password or unlock"
        )
    if action not in REMOTE_USER_ACTIONS:
        raise UsageError(f"`heartbeat users {action}` has no --server form: run it where the users table is reachable")
    if action == "update":
        check_update(args)
    password = None
    if action in ("create", "reset-password"):
        # The session and its role first: no password asked for that would not be used.
        _run(url, lambda client: client.users())
        password = read_password(args, confirm=True, prompt="New password: ")

    async def work(client: RemoteClient) -> str:
        if action == "list":
            return users_listing([user_of(u) for u in await client.users()], args)
        name = getattr(args, "username", None)
        calls: dict[str, tuple[str, str | None, str | None, Any]] = {
            "create": (
                "POST",
                None,
                None,
                {
                    "username": args.username if action == "create" else None,
                    "password": password,
                    "role": getattr(args, "role", None),
                    "accounts": getattr(args, "accounts", None),
                    "email": getattr(args, "email", None),
                    "full_name": getattr(args, "full_name", None),
                },
            ),
            "disable": ("POST", name, "disable", None),
            "enable": ("POST", name, "enable", None),
            "unlock": ("POST", name, "unlock", None),
            "set-role": ("POST", name, "role", {"role": getattr(args, "role", None)}),
            "set-accounts": ("POST", name, "accounts", {"accounts": getattr(args, "accounts", None)}),
            "reset-password": ("POST", name, "password", {"password": password}),
            "update": (
                "PATCH",
                name,
                None,
                {
                    key: value
                    for key, value in (
                        ("email", getattr(args, "email", None)),
                        ("full_name", getattr(args, "full_name", None)),
                    )
                    if value is not None
                },
            ),
        }
        method, user, verb, body = calls[action]
        if action == "create":
            body = {key: value for key, value in body.items() if value is not None or key == "password"}
        data = await client.user_call(method, None if action == "create" else user, verb, body)
        return user_done(action, user_of(data))

    print(_run(url, work))
    return EXIT_OK


REMOTE: dict[str, Callable[[argparse.Namespace, Config, str], int]] = {
    "login": remote_login,
    "logout": remote_logout,
    "whoami": remote_whoami,
    "snapshot": remote_snapshot,
    "aliases": remote_aliases,
    "refresh": remote_refresh,
    "users": remote_users,
}
