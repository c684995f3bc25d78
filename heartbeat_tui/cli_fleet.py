"""`heartbeat aliases` and `heartbeat refresh`: the fleet as the session may see it.

Both check the session first; `refresh` needs a role that may force a full
poll. Their output is shared with `--server` (cli_remote.py), which prints a
server's answer the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING, Any

from heartbeat_tui.cli_session import load_cli_config, with_session
from heartbeat_tui.errors import EXIT_OK, EXIT_PARTIAL, error_line
from heartbeat_tui.untrusted import visible

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService, Session
    from heartbeat_tui.models import FleetSnapshot


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

    rows, errors = with_session(config, run)
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

    return print_full_poll(with_session(config, run))


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
