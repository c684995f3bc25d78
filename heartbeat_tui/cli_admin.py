"""`heartbeat users ...` and `heartbeat keys ...`: administration of the users and
of the secrets that protect them.

Every action that needs a role checks the session against the store first, and
`create` and `reset-password` do so before asking for a password they would not
use. An allow-list names only accounts HeartBeat watches. The listing and the
line each action prints are shared with `--server` (cli_remote.py) and the
server's API (serve/users.py), so the three agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from heartbeat_tui.cli_session import iso, load_cli_config, read_password, when, with_session
from heartbeat_tui.errors import EXIT_OK, EXIT_PARTIAL, UsageError, error_line
from heartbeat_tui.untrusted import visible

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService, Session, UserView
    from heartbeat_tui.config import Config


def user_json(view: UserView) -> dict[str, Any]:
    """A user as `heartbeat users list --format json` and the server's API show it."""

    return {
        "username": view.username,
        "role": view.role.value,
        "active": view.active,
        "locked": view.locked,
        "locked_until": iso(view.locked_until),
        "failed_attempts": view.failed_attempts,
        "last_login_at": iso(view.last_login_at),
        "accounts": list(view.accounts),
        # Admins and monitors see every account whatever `accounts` holds (it is empty).
        "all_accounts": view.role.value != "user",
        "email": view.email,
        "full_name": view.full_name,
        "created_at": iso(view.created_at),
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
                when(v.locked_until) if v.locked else "no",
                when(v.last_login_at),
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
        return json.dumps([user_json(v) for v in views], indent=2)
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

        with_session(config, precheck)
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

    print(with_session(config, run))
    return EXIT_OK


def _migrate(config: Config, *, dry_run: bool) -> int:
    """`users migrate`: exit 1 when some legacy email stays unreadable (nothing lost: kept as it was)."""

    async def run(auth: AuthService, session: Session) -> Any:
        return await auth.migrate_legacy(session, dry_run=dry_run)

    report = with_session(config, run)
    for line in report.lines():
        print(visible(line))  # usernames the original never validated
    if report.unreadable:
        error_line(
            f"{len(report.unreadable)} legacy email(s) not readable (kept as they are):"
            " set HEARTBEAT_LEGACY_ENCRYPTION_KEY to the original's ENCRYPTION_KEY and run it again"
        )
        return EXIT_PARTIAL
    return EXIT_OK


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

    report = with_session(config, run)
    print(report.line())
    if report.failed:
        print(
            "heartbeat: some users are not readable with any configured key; add the key they were written with",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK
