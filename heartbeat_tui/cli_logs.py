"""`heartbeat logs`: a service's CloudWatch Logs lines, as the dashboard's logs screen shows them.

One line per log line: `2026-12-03T12:00:01.250Z container/task-id message`,
oldest first, the message's control characters as visible escapes (a log line
is the most hostile text there is: it never drives the terminal). A container
whose log driver is not awslogs is named on stderr with the reason it has no
lines. Role-scoped like `heartbeat snapshot`: a `user` session reads only its
accounts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from heartbeat_tui.cli_session import load_cli_config, session_scope
from heartbeat_tui.errors import EXIT_OK, EXIT_PARTIAL, UsageError, error_line
from heartbeat_tui.logtail import LogFollower, parse_since
from heartbeat_tui.models import LogBatch, LogLine, LogQuery, utcnow
from heartbeat_tui.untrusted import visible

FOLLOW_SECONDS = 5.0


def add_logs_command(commands: Any) -> None:
    logs = commands.add_parser("logs", help="print a service's CloudWatch Logs lines (from its task definition)")
    logs.add_argument("--account", metavar="ID_OR_ALIAS", required=True, help="the account, by id or alias")
    logs.add_argument("--cluster", metavar="NAME", required=True, help="the service's cluster")
    logs.add_argument("--service", metavar="NAME", required=True, help="the service")
    logs.add_argument("--container", metavar="NAME", help="only this container (default: every container)")
    logs.add_argument("--since", metavar="DURATION", default="15m", help="how far back: 90s, 15m, 2h, 1d (default 15m)")
    logs.add_argument(
        "--follow", action="store_true", help=f"keep printing new lines (read every {FOLLOW_SECONDS:g} s)"
    )


def format_line(line: LogLine) -> str:
    stamp = line.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {visible(line.container)}/{visible(line.task_id)} {visible(line.message)}"


def cmd_logs(args: argparse.Namespace) -> int:
    from heartbeat_tui.collector import Collector
    from heartbeat_tui.collector.steps import StepFailed

    config = load_cli_config(args)
    since = parse_since(args.since)  # a usage error before any session or AWS call
    scope = session_scope(config)  # exit 3 without a session

    async def run() -> int:
        async with Collector(config) as collector:
            accounts = [a for a in await collector.accounts() if scope is None or a.id in scope]
            account = next((a for a in accounts if args.account in (a.id, a.alias)), None)
            for candidate in accounts if account is None else ():
                # An alias the configuration does not give: IAM's, as the dashboard shows it.
                if candidate.alias is None and await collector.account_alias(candidate.id) == args.account:
                    account = candidate
                    break
            if account is None or (scope is not None and account.id not in scope):
                raise UsageError(f"no account matches --account {args.account!r}")
            try:
                region, service = await collector.locate_service(account.id, args.cluster, args.service)
            except StepFailed as failure:
                error_line(f"account {account.alias or account.id}: {failure}")
                return EXIT_PARTIAL
            follower = LogFollower(utcnow() - since)

            async def read() -> LogBatch:
                query = LogQuery(
                    account_id=account.id,
                    region=region,
                    cluster_arn=service.cluster_arn,
                    service_name=service.name,
                    start=follower.next_start,
                    container=args.container,
                    task_definition=service.task_definition,
                )
                return await collector.fetch_logs(query)

            try:
                batch = await read()
            except StepFailed as failure:
                error_line(str(failure))
                return EXIT_PARTIAL
            for note in batch.notes:
                error_line(note)
            failed = _print(batch, follower)
            while args.follow:
                await asyncio.sleep(FOLLOW_SECONDS)
                try:
                    failed = _print(await read(), follower) or failed
                except StepFailed as failure:  # said, and the next read tries again
                    error_line(str(failure))
                    failed = True
            return EXIT_PARTIAL if failed else EXIT_OK

    return asyncio.run(run())


def _print(batch: LogBatch, follower: LogFollower) -> bool:
    """Print what is new in `batch`; True when part of it could not be read."""

    for line in follower.new_lines(batch.lines):
        sys.stdout.write(format_line(line) + "\n")
    sys.stdout.flush()
    if batch.truncated:
        error_line("only the newest lines were printed: shorten --since")
    for error in batch.errors:
        error_line(error)
    return bool(batch.errors)


__all__ = ["add_logs_command", "cmd_logs", "format_line"]
