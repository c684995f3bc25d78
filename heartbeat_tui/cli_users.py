"""The command line for users and sessions: `init`, `login`, `logout`, `whoami`,
`users ...`, `aliases`, `refresh`, `keys ...`, and the session that
`heartbeat snapshot` needs (`session_scope`).

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
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from heartbeat_tui.errors import EXIT_OK, EXIT_PARTIAL, UsageError, error_line
from heartbeat_tui.untrusted import visible

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService, Session, UserView
    from heartbeat_tui.config import Config
    from heartbeat_tui.models import FleetSnapshot

T = TypeVar("T")
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


# -- shared plumbing -------------------------------------------------------------------------------


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


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _with_auth(config: Config, work: Callable[[AuthService], Awaitable[T]]) -> T:
    from heartbeat_tui.auth.service import open_auth

    async def run() -> T:
        async with open_auth(config) as auth:
            return await work(auth)

    return asyncio.run(run())


def _with_session(config: Config, work: Callable[[AuthService, Session], Awaitable[T]]) -> T:
    async def run(auth: AuthService) -> T:
        return await work(auth, await current_session(auth))

    return _with_auth(config, run)


def session_scope(config: Config) -> frozenset[str] | None:
    """For `heartbeat snapshot`: the accounts the session may see (None: all).

    Raises `SessionInvalid` (exit code 3) without a valid session."""

    async def scope(auth: AuthService, session: Session) -> frozenset[str] | None:
        return session.account_scope

    return _with_session(config, scope)


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
    import os

    from heartbeat_tui.auth.session_file import TOKEN_ENV, save_token

    config = load_cli_config(args)
    from heartbeat_tui.auth import AuthSecrets

    AuthSecrets.from_config(config)  # a clear error before any prompt
    username, password = read_credentials(args)

    async def run(auth: AuthService) -> Session:
        return await auth.login(username, password)

    session = _with_auth(config, run)
    path = save_token(session.token)
    print(f"logged in as {session.username} ({session.role}) until {_when(session.expires_at)}")
    print(f"session kept in {path} (mode 0600)")
    if os.environ.get(TOKEN_ENV):
        print(f"heartbeat: note: {TOKEN_ENV} is set and overrides this session", file=sys.stderr)
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    from heartbeat_tui.auth.session_file import TOKEN_ENV, delete_token, load_token

    config = load_cli_config(args)
    stored = load_token()
    if stored is None:
        print("not logged in")
        return EXIT_OK

    async def run(auth: AuthService) -> str | None:
        return await auth.logout(stored.token)

    username = _with_auth(config, run)
    if stored.source == TOKEN_ENV:
        print(f"{TOKEN_ENV} session {'of ' + username + ' ' if username else ''}revoked; unset the variable")
        return EXIT_OK
    delete_token()
    print(f"logged out{' ' + username if username else ''}; session file deleted")
    return EXIT_OK


def cmd_whoami(args: argparse.Namespace) -> int:
    config = load_cli_config(args)

    async def run(auth: AuthService, session: Session) -> tuple[Session, UserView]:
        return session, await auth.own_view(session)

    return print_whoami(*_with_session(config, run), args)


def print_whoami(session: Session, me: UserView, args: argparse.Namespace) -> int:
    """`heartbeat whoami`'s output, whether the session was checked here or by a server."""

    accounts = "all" if session.account_scope is None else (",".join(session.accounts) or "none")
    if args.format == "json":
        from heartbeat_tui.auth.models import whoami_json

        data = whoami_json(session, me)
        print(json.dumps(data, indent=2))
    else:
        print(f"{session.username}  role={session.role}  accounts={accounts}  until {_when(session.expires_at)}")
        print(visible(f"email: {me.email or '-'}  last login: {_when(me.last_login_at)}"))  # typed by an admin
    return EXIT_OK


def _user_json(view: UserView) -> dict[str, Any]:
    return {
        "username": view.username,
        "role": view.role.value,
        "active": view.active,
        "locked": view.locked,
        "locked_until": _iso(view.locked_until),
        "failed_attempts": view.failed_attempts,
        "last_login_at": _iso(view.last_login_at),
        "accounts": list(view.accounts),
        # Admins and monitors see every account whatever `accounts` holds (it is empty).
        "all_accounts": view.role.value != "user",
        "email": view.email,
        "full_name": view.full_name,
        "created_at": _iso(view.created_at),
        "created_by": view.created_by,
        "legacy": view.legacy,
    }


def _user_rows(views: list[UserView]) -> str:
    header = ("USERNAME", "ROLE", "ACTIVE", "LOCKED", "LAST LOGIN", "ACCOUNTS", "EMAIL", "FULL NAME")
    rows: list[tuple[str, ...]] = [header]
    for v in views:
        accounts = "all" if v.role.value != "user" else (",".join(v.accounts) or "none")
        rows.append(
            (
                v.username,
                v.role.value,
                "yes" if v.active else "no",
                _when(v.locked_until) if v.locked else "no",
                _when(v.last_login_at),
                accounts,
                v.email or "-",
                v.full_name or "-",
            )
        )
    rows = [tuple(visible(cell) for cell in row) for row in rows]  # names and emails users typed
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows) + "\n"


async def _refuse_unknown_accounts(config: Config, accounts: str | None) -> None:
    """An allow-list names only accounts HeartBeat watches: the configured ones, or
    (with none configured) the base credentials' own. A typo would otherwise
    grant nothing and say nothing."""

    from heartbeat_tui.auth.validation import parse_accounts

    ids = parse_accounts(accounts)  # the format first: its own message
    if not ids:
        return
    known = {account.id for account in config.accounts}
    if not known:
        from heartbeat_tui.aws.access import AwsAccess
        from heartbeat_tui.aws.errors import describe_error

        try:
            async with AwsAccess(config) as access:
                known = {await access.caller_account_id()}
        except Exception as exc:  # no credentials, STS refused: one line, nothing changed
            raise UsageError(f"accounts: cannot tell which account is watched: {describe_error(exc)}") from None
    unknown = [account for account in ids if account not in known]
    if unknown and config.discovery is not None:
        # Discovery may list it at its next refresh: granted ahead, said once.
        error_line(
            f"warning: accounts: {', '.join(unknown)} not in {config.source};"
            " kept, as [discovery] may list it at its next refresh"
        )
        return
    if unknown:
        where = f"in {config.source}" if config.accounts else "watched (no [[accounts]] configured)"
        raise UsageError(
            f"accounts: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not {where};"
            " add it as an [[accounts]] entry first (nothing was changed)"
        )


def check_update(args: argparse.Namespace) -> None:
    if args.email is None and args.full_name is None:
        raise UsageError("nothing to change: give --email and/or --full-name")


def users_listing(views: list[UserView], args: argparse.Namespace) -> str:
    """`heartbeat users list`'s output, whether the users came from the store or a server."""

    if args.format == "json":
        return json.dumps([_user_json(v) for v in views], indent=2)
    return _user_rows(views).rstrip("\n")


def user_done(action: str, view: UserView) -> str:
    """The line a `heartbeat users ACTION` prints once done (here or on a server)."""

    return {
        "create": f"created {view.username} ({view.role})",
        "disable": f"{view.username} disabled",
        "enable": f"{view.username} enabled",
        "set-role": f"{view.username} is now {view.role}",
        "set-accounts": f"{view.username} may see {','.join(view.accounts) or 'no account'}",
        "update": f"{view.username} updated",
        "reset-password": f"password of {view.username} reset; their sessions have ended",
        "unlock": f"{view.username} unlocked",
    }[action]


def cmd_users(args: argparse.Namespace) -> int:
    if args.users_command is None:
        raise UsageError(
            "an action is needed: create, list, disable, enable, set-role, set-accounts, update,"
            " reset-password, unlock or migrate"
        )
    config = load_cli_config(args)
    from heartbeat_tui.auth import AuthSecrets, Permission

    AuthSecrets.from_config(config)
    action = args.users_command
    if action == "migrate":
        return _migrate(config, dry_run=args.dry_run)
    password = None
    if action in ("create", "reset-password"):
        # Check the session (and its role) before asking for a password it would not use.
        async def precheck(auth: AuthService, session: Session) -> None:
            await auth.authorize(session, Permission.MANAGE_USERS)
            if action == "create":
                await _refuse_unknown_accounts(config, args.accounts)

        _with_session(config, precheck)
        from heartbeat_tui.auth.validation import PASSWORD_RULE

        password = read_password(args, confirm=True, prompt=f"New password ({PASSWORD_RULE}): ")

    async def run(auth: AuthService, session: Session) -> str:
        if action == "create":
            view = await auth.create_user(
                session,
                username=args.username,
                password=password or "",
                role=args.role,
                accounts=args.accounts,
                email=args.email,
                full_name=args.full_name,
            )
        elif action == "list":
            return users_listing(await auth.list_users(session), args)
        elif action in ("disable", "enable"):
            view = await auth.set_active(session, args.username, action == "enable")
        elif action == "set-role":
            view = await auth.set_role(session, args.username, args.role)
        elif action == "set-accounts":
            await _refuse_unknown_accounts(config, args.accounts)
            view = await auth.set_accounts(session, args.username, args.accounts)
        elif action == "update":
            from heartbeat_tui.auth.service import UNSET

            check_update(args)
            view = await auth.update_profile(
                session,
                args.username,
                email=UNSET if args.email is None else args.email,
                full_name=UNSET if args.full_name is None else args.full_name,
            )
        elif action == "reset-password":
            view = await auth.reset_password(session, args.username, password or "")
        elif action == "unlock":
            view = await auth.unlock(session, args.username)
        else:
            raise UsageError(f"unknown action {action!r}")
        return user_done(action, view)

    print(_with_session(config, run))
    return EXIT_OK


def _migrate(config: Config, *, dry_run: bool) -> int:
    """`users migrate`: exit 1 when some legacy email stays unreadable (nothing lost: kept as it was)."""

    async def run(auth: AuthService, session: Session) -> Any:
        return await auth.migrate_legacy(session, dry_run=dry_run)

    report = _with_session(config, run)
    for line in report.lines():
        print(visible(line))  # usernames the original never validated
    if report.unreadable:
        error_line(
            f"{len(report.unreadable)} legacy email(s) not readable (kept as they are):"
            " set HEARTBEAT_LEGACY_ENCRYPTION_KEY to the original's ENCRYPTION_KEY and run it again"
        )
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_aliases(args: argparse.Namespace) -> int:
    from heartbeat_tui.aws.access import AwsAccess
    from heartbeat_tui.aws.errors import describe_error
    from heartbeat_tui.aws.services import IAM
    from heartbeat_tui.config import AccountConfig

    config = load_cli_config(args)

    async def run(auth: AuthService, session: Session) -> tuple[list[tuple[str, str | None]], list[str]]:
        async with AwsAccess(config) as access:
            accounts = config.accounts or (AccountConfig(id=await access.caller_account_id()),)
            visible = [a for a in accounts if session.may_see(a.id)]

            async def alias(account: AccountConfig) -> tuple[str, str | None, str | None]:
                if account.alias:
                    return account.id, account.alias, None
                try:
                    iam = await access.client(account, IAM, config.region)
                    names = (await iam.list_account_aliases()).get("AccountAliases") or []
                except Exception as exc:  # one line per account, the others still print
                    return account.id, None, f"account {account.id}: alias not readable: {describe_error(exc)}"
                return account.id, (names[0] if names else None), None

            results = await asyncio.gather(*(alias(a) for a in visible))
        return [(i, a) for i, a, _ in results], [e for _, _, e in results if e]

    rows, errors = _with_session(config, run)
    return print_aliases(rows, errors, args)


def print_aliases(rows: list[tuple[str, str | None]], errors: list[str], args: argparse.Namespace) -> int:
    """`heartbeat aliases`'s output (here or from a server's snapshot)."""

    if args.format == "json":
        print(json.dumps([{"id": i, "alias": a} for i, a in rows], indent=2))
    else:
        for account_id, alias in rows:
            print(visible(f"{account_id}  {alias or '-'}"))  # an alias from IAM: others' text
    for error in errors:
        error_line(str(error))
    return EXIT_PARTIAL if errors else EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    from heartbeat_tui.collector.workers import make_collector

    config = load_cli_config(args)

    async def run(auth: AuthService, session: Session) -> Any:
        await auth.authorize_refresh(session)
        async with make_collector(config) as collector:
            return await collector.poll()

    return print_full_poll(_with_session(config, run))


def print_full_poll(snapshot: FleetSnapshot) -> int:
    """`heartbeat refresh`'s output: one line an account, then the poll's time."""

    failed = 0
    for account in snapshot.accounts:
        services = sum(1 for _ in account.services())
        status = "ok" if account.status.value == "ok" else "ERROR"
        line = f"{status:<5}  {account.display_name}  {len(account.regions)} region(s)  {services} service(s)"
        if account.error:
            failed += 1
            line += f"  {account.error}"
        print(visible(line))  # an alias and an AWS error: others' text
    print(f"full poll of {len(snapshot.accounts)} account(s) in {snapshot.stats.duration_seconds:.1f} s")
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_keys(args: argparse.Namespace) -> int:
    if args.keys_command is None:
        raise UsageError("an action is needed: generate or rotate")
    if args.keys_command == "generate":
        import secrets

        from cryptography.fernet import Fernet

        values = {"JWT_SECRET": secrets.token_urlsafe(48), "ENCRYPTION_KEY": Fernet.generate_key().decode()}
        if args.write is not None:
            from pathlib import Path

            from heartbeat_tui.envfile import add_secrets

            if not args.write:
                raise UsageError("--write needs a file name, such as .env")
            add_secrets(Path(args.write), values)
            print(f"wrote JWT_SECRET and ENCRYPTION_KEY to {args.write} (mode 0600)")
            return EXIT_OK
        for name, value in values.items():
            print(f"{name}={value}")
        print(
            "heartbeat: keep these in .env (mode 0600: `heartbeat keys generate --write .env`) or a secret store;"
            " to rotate ENCRYPTION_KEY,"
            " put the new key first (ENCRYPTION_KEY=new,old) then run `heartbeat keys rotate`",
            file=sys.stderr,
        )
        return EXIT_OK
    config = load_cli_config(args)

    async def run(auth: AuthService, session: Session) -> Any:
        return await auth.rotate_keys(session)

    report = _with_session(config, run)
    print(report.line())
    if report.failed:
        print(
            "heartbeat: some users are not readable with any configured key; add the key they were written with",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
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
