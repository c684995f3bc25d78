"""What the users and sessions commands share: the configuration a command runs
with, passwords read from a prompt or one line of standard input (never argv),
the session checked against the store, and times printed for people or programs.

The commands themselves are in cli_users.py (init, login, logout, whoami),
cli_admin.py (users, keys) and cli_fleet.py (aliases, refresh); `heartbeat
snapshot` and `heartbeat logs` use `session_scope` from here.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from heartbeat_tui.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService, Session
    from heartbeat_tui.auth.session_file import StoredToken
    from heartbeat_tui.config import Config

T = TypeVar("T")


def load_cli_config(args: argparse.Namespace) -> Config:
    """The configuration a command runs with; an ignored `.env` is one line on stderr."""

    from heartbeat_tui.config import load_config

    loaded: Config | None = getattr(args, "loaded_config", None)
    if loaded is not None:  # read once per run (the --server routing reads it first)
        return loaded
    config = load_config(args.config)
    if config.dotenv.warning:
        print(f"heartbeat: {config.dotenv.warning}", file=sys.stderr)
    args.loaded_config = config
    return config


def when(timestamp: float | None) -> str:
    """A time for people, to the minute (UTC); "-" for none."""

    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def iso(timestamp: float | None) -> str | None:
    """A time for programs: ISO 8601 in UTC, to the second."""

    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def logged_in(session: Session, path: Path) -> int:
    """What `heartbeat login` says, here or against a server (`--server`): who, until
    when, where the session is kept, and that a token in the environment overrides it."""

    from heartbeat_tui.auth.session_file import TOKEN_ENV

    print(f"logged in as {session.username} ({session.role}) until {when(session.expires_at)}")
    print(f"session kept in {path} (mode 0600)")
    if os.environ.get(TOKEN_ENV):
        print(f"heartbeat: note: {TOKEN_ENV} is set and overrides this session", file=sys.stderr)
    return EXIT_OK


def logged_out(stored: StoredToken, username: str | None) -> int:
    """What `heartbeat logout` does once the session was ended (here or on a server): the
    session file is deleted; a token from the environment cannot be, so it says to unset it."""

    from heartbeat_tui.auth.session_file import TOKEN_ENV, delete_token

    if stored.source == TOKEN_ENV:
        print(f"{TOKEN_ENV} session {'of ' + username + ' ' if username else ''}revoked; unset the variable")
        return EXIT_OK
    delete_token()
    print(f"logged out{' ' + username if username else ''}; session file deleted")
    return EXIT_OK


def _read_stdin_line() -> str:
    try:
        line = sys.stdin.readline()
    except (UnicodeDecodeError, ValueError, OSError):
        raise UsageError("--password-stdin: standard input is not readable text") from None
    if not line:
        raise UsageError("--password-stdin: nothing on standard input")
    return line.removesuffix("\n").removesuffix("\r")


def read_credentials(args: argparse.Namespace) -> tuple[str, str]:
    """`login`'s username (`--username`, else asked on the terminal) and password."""

    username = args.username
    if username is None:
        if args.password_stdin:
            raise UsageError("--password-stdin needs --username NAME")
        if not sys.stdin.isatty():
            raise UsageError("no terminal to ask for the username: use --username NAME --password-stdin")
        username = input("Username: ").strip()
    password = read_password(args, confirm=False)
    return username, password


def read_password(args: argparse.Namespace, *, confirm: bool, prompt: str = "Password: ") -> str:
    if getattr(args, "password_stdin", False):
        return _read_stdin_line()
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: use --password-stdin")
    password = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat the password: ") != password:
        raise UsageError("the two passwords differ; nothing was changed")
    return password


async def current_session(auth: AuthService) -> Session:
    """The session from HEARTBEAT_TOKEN or the session file, fully checked."""

    from heartbeat_tui.auth import SessionInvalid, StoreError, StoreMissing, StoreUnavailable
    from heartbeat_tui.auth.session_file import NO_SESSION, elsewhere, load_token

    stored = load_token()
    if stored is None:
        raise SessionInvalid(NO_SESSION)
    if stored.server is not None:
        raise SessionInvalid(elsewhere(stored.server))
    try:
        return await auth.check(stored.token)
    except (StoreMissing, StoreUnavailable):
        # A store that cannot be reached is not a refused session: its own exit code
        # (75, try again later), and nothing runs unverified.
        raise
    except StoreError as exc:  # e.g. no AWS credentials: no session can be checked (exit 3)
        raise SessionInvalid(f"cannot check the session: {exc}") from None


def with_auth(config: Config, work: Callable[[AuthService], Awaitable[T]]) -> T:
    """Run `work` with the users store open, in a fresh event loop (one per command)."""

    from heartbeat_tui.auth.service import open_auth

    async def run() -> T:
        async with open_auth(config) as auth:
            return await work(auth)

    return asyncio.run(run())


def with_session(config: Config, work: Callable[[AuthService, Session], Awaitable[T]]) -> T:
    """`with_auth`, with the caller's session checked first (exit 3 without a valid one)."""

    async def run(auth: AuthService) -> T:
        return await work(auth, await current_session(auth))

    return with_auth(config, run)


def session_scope(config: Config) -> frozenset[str] | None:
    """For `heartbeat snapshot`: the accounts the session may see (None: all).

    Raises `SessionInvalid` (exit code 3) without a valid session."""

    async def scope(auth: AuthService, session: Session) -> frozenset[str] | None:
        return session.account_scope

    return with_session(config, scope)
