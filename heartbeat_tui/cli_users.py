"""The command line for users and sessions: `init`, `login`, `logout`, `whoami`,
`users ...` (cli_admin.py), `aliases`, `refresh` (cli_fleet.py), `keys ...`
(cli_admin.py), their parsers, and the session that `heartbeat snapshot` needs
(`session_scope`, cli_session.py).

Same rules as the screens, because the rules live in `heartbeat_tui.auth`:
every command that needs a role checks the session against the store first.
Passwords are read from a prompt (getpass, no echo) or, for scripts, from one
line of standard input (`--password-stdin`); never from argv. Failures are one
line on stderr with a defined exit code (2 bad input, 3 no valid session,
4 the role does not allow it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from heartbeat_tui.cli_admin import cmd_keys, cmd_users
from heartbeat_tui.cli_fleet import cmd_aliases, cmd_refresh, print_full_poll
from heartbeat_tui.cli_session import (
    load_cli_config,
    logged_in,
    logged_out,
    read_credentials,
    read_password,
    session_scope,
    when,
    with_auth,
    with_session,
)
from heartbeat_tui.errors import EXIT_OK, UsageError
from heartbeat_tui.untrusted import visible

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService, Session, UserView

NEVER_ARGV = "passwords are never taken from the command line: use the prompt or --password-stdin"


class _RefusePassword(argparse.Action):
    """`--password VALUE` stops parsing without echoing VALUE anywhere."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        raise UsageError(NEVER_ARGV)


def _password_options(parser: argparse.ArgumentParser, what: str = "the password") -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read {what} from one line of standard input instead of a prompt",
    )
    parser.add_argument("--password", "-p", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)


def _add(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    # No abbreviations: `--pass` must not quietly mean `--password-stdin`.
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, allow_abbrev=False)
    return parser


def add_user_commands(commands: Any) -> None:
    """Add the users and sessions commands to the `heartbeat` subparsers."""

    init = _add(commands, "init", "create the users and auth tables (idempotent); --admin makes the first admin")
    init.add_argument("--admin", metavar="NAME", help="create this first admin (refused when an admin exists)")
    init.add_argument("--email", metavar="ADDR", help="the admin's email (stored encrypted)")
    init.add_argument("--full-name", metavar="TEXT", help="the admin's full name (stored encrypted)")
    _password_options(init, "the admin's password")

    login = _add(commands, "login", "log in and keep the session in the user state folder (mode 0600)")
    login.add_argument("--username", metavar="NAME", help="instead of a prompt")
    _password_options(login)

    _add(commands, "logout", "end the session (revoked until it would have expired) and delete the session file")

    whoami = _add(commands, "whoami", "show the session's user, role, accounts and expiry")
    whoami.add_argument("--format", choices=["text", "json"], default="text")

    users = _add(commands, "users", "user administration (admin)")
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", parser_class=type(users))
    users.set_defaults(users_command=None)

    create = _add(actions, "create", "create a user (never overwrites one)")
    create.add_argument("--username", metavar="NAME", required=True)
    create.add_argument("--role", metavar="ROLE", required=True, help="admin, monitor or user")
    create.add_argument("--accounts", metavar="ID,...", help="allow-list of account ids (role user)")
    create.add_argument("--email", metavar="ADDR", help="stored encrypted")
    create.add_argument("--full-name", metavar="TEXT", help="stored encrypted")
    _password_options(create)

    listing = _add(actions, "list", "list users")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    for name, text in (
        ("disable", "disable a user (their sessions end at once)"),
        ("enable", "enable a user"),
        ("unlock", "clear a lockout"),
    ):
        _add(actions, name, text).add_argument("username", metavar="NAME")
    set_role = _add(actions, "set-role", "change a user's role (their sessions end at once)")
    set_role.add_argument("username", metavar="NAME")
    set_role.add_argument("role", metavar="ROLE", help="admin, monitor or user")
    set_accounts = _add(actions, "set-accounts", "replace a user's account allow-list ('' for none)")
    set_accounts.add_argument("username", metavar="NAME")
    set_accounts.add_argument("accounts", metavar="ID,...")
    update = _add(actions, "update", "change email or full name ('' removes one)")
    update.add_argument("username", metavar="NAME")
    update.add_argument("--email", metavar="ADDR")
    update.add_argument("--full-name", metavar="TEXT")
    reset = _add(actions, "reset-password", "set a new password (lockout cleared, sessions ended)")
    reset.add_argument("username", metavar="NAME")
    _password_options(reset, "the new password")
    migrate = _add(actions, "migrate", "upgrade the original HeartBeat's user records (what needs no password)")
    migrate.add_argument("--dry-run", action="store_true", help="report the legacy records, change nothing")

    aliases = _add(commands, "aliases", "account id -> alias of the accounts this session may see")
    aliases.add_argument("--format", choices=["table", "json"], default="table")

    _add(commands, "refresh", "a forced full poll of every account (admin)")

    keys = _add(commands, "keys", "secrets: generate new ones, rotate ENCRYPTION_KEY")
    key_actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", parser_class=type(keys))
    keys.set_defaults(keys_command=None)
    generate = _add(key_actions, "generate", "print a new JWT_SECRET and ENCRYPTION_KEY for .env or a secret store")
    generate.add_argument(
        "--write",
        metavar="PATH",
        help="append them to PATH instead (created 0600, or an existing 0600 file of yours; never printed)",
    )
    _add(key_actions, "rotate", "re-encrypt every user with the newest ENCRYPTION_KEY (admin; resumable)")


# -- commands --------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from heartbeat_tui.auth.store import UserStore, store_client
    from heartbeat_tui.aws.access import AwsAccess
    from heartbeat_tui.cluster import ensure_cluster

    config = load_cli_config(args)
    password = None
    if args.admin is not None:
        from heartbeat_tui.auth import AuthSecrets, Role
        from heartbeat_tui.auth.validation import PASSWORD_RULE, validate_new_user, validate_username

        AuthSecrets.from_config(config)  # before any prompt: fail early without secrets
        validate_username(args.admin)
        password = read_password(args, confirm=True, prompt=f"Password for {args.admin} ({PASSWORD_RULE}): ")
        # Everything checked before anything is created: a bad password leaves no table behind.
        validate_new_user(
            username=args.admin, password=password, role=Role.ADMIN, email=args.email, full_name=args.full_name
        )
    elif args.password_stdin or args.email or args.full_name:
        raise UsageError("--password-stdin, --email and --full-name go with --admin NAME")

    async def run() -> list[str]:
        async with AwsAccess(config) as access:
            deadline = config.file.auth.store_timeout_seconds
            store = UserStore(await store_client(access, deadline), config.users_table, call_seconds=deadline)
            done = await store.ensure_tables()
        done += await ensure_cluster(config)  # [cluster]: the lease table, and a check of the bucket
        if args.admin is not None:
            from heartbeat_tui.auth.service import open_auth

            async with open_auth(config) as auth:
                await auth.bootstrap_admin(args.admin, password or "", email=args.email, full_name=args.full_name)
            done.append(f"created admin {args.admin}")
        return done

    done = asyncio.run(run())
    for line in done or ["nothing to do: the tables exist"]:
        print(line)
    return EXIT_OK


def cmd_login(args: argparse.Namespace) -> int:
    from heartbeat_tui.auth.session_file import save_token

    config = load_cli_config(args)
    from heartbeat_tui.auth import AuthSecrets

    AuthSecrets.from_config(config)  # a clear error before any prompt
    username, password = read_credentials(args)

    async def run(auth: AuthService) -> Session:
        return await auth.login(username, password)

    session = with_auth(config, run)
    return logged_in(session, save_token(session.token))


def cmd_logout(args: argparse.Namespace) -> int:
    from heartbeat_tui.auth.session_file import load_token

    config = load_cli_config(args)
    stored = load_token()
    if stored is None:
        print("not logged in")
        return EXIT_OK

    async def run(auth: AuthService) -> str | None:
        return await auth.logout(stored.token)

    return logged_out(stored, with_auth(config, run))


def cmd_whoami(args: argparse.Namespace) -> int:
    config = load_cli_config(args)

    async def run(auth: AuthService, session: Session) -> tuple[Session, UserView]:
        return session, await auth.own_view(session)

    return print_whoami(*with_session(config, run), args)


def print_whoami(session: Session, me: UserView, args: argparse.Namespace) -> int:
    """`heartbeat whoami`'s output, whether the session was checked here or by a server."""

    accounts = "all" if session.account_scope is None else (",".join(session.accounts) or "none")
    if args.format == "json":
        from heartbeat_tui.auth.models import whoami_json

        data = whoami_json(session, me)
        print(json.dumps(data, indent=2))
    else:
        print(f"{session.username}  role={session.role}  accounts={accounts}  until {when(session.expires_at)}")
        print(visible(f"email: {me.email or '-'}  last login: {when(me.last_login_at)}"))  # typed by an admin
    return EXIT_OK


USER_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": cmd_init,
    "login": cmd_login,
    "logout": cmd_logout,
    "whoami": cmd_whoami,
    "users": cmd_users,
    "aliases": cmd_aliases,
    "refresh": cmd_refresh,
    "keys": cmd_keys,
}


__all__ = [
    "NEVER_ARGV",
    "USER_COMMANDS",
    "add_user_commands",
    "load_cli_config",  # cli_session.py
    "print_full_poll",  # cli_fleet.py
    "print_whoami",
    "session_scope",  # cli_session.py
]
