"""The `heartbeat` command line.

Every command ends with a defined exit code and, on failure, one clear line
on stderr: never a traceback (tracebacks go to the log file).

    0  success, every account OK
    1  the command ran but some account failed (the others are still printed)
    2  usage or configuration error
    3  no valid session, or a failed login
    4  the session's role does not allow the command
   75  the users store (DynamoDB) cannot be reached: try again later
   70  internal error (details in the log file)
  130  interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from heartbeat_tui import __version__
from heartbeat_tui.cli_logs import add_logs_command, cmd_logs
from heartbeat_tui.cli_session import load_cli_config, session_scope
from heartbeat_tui.cli_users import USER_COMMANDS, add_user_commands
from heartbeat_tui.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    HeartbeatError,
    UsageError,
    error_line,
)
from heartbeat_tui.untrusted import visible

if TYPE_CHECKING:
    from heartbeat_tui.config import Config
    from heartbeat_tui.models import FleetSnapshot

log = logging.getLogger("heartbeat")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block (an argument may hold a newline: escaped).
        message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="heartbeat",
        description="Watch AWS ECS across many AWS accounts from the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"heartbeat {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $HEARTBEAT_CONFIG, then the user config folder)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log file verbosity (logs never go to the screen)",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="use this `heartbeat serve` instead of AWS and DynamoDB (default: $HEARTBEAT_SERVER, then [server].url)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    snapshot = commands.add_parser("snapshot", help="poll the fleet once and print it (json, csv or a plain table)")
    snapshot.add_argument("--account", metavar="ID_OR_ALIAS", help="only this account (glob allowed)")
    snapshot.add_argument("--cluster", metavar="NAME", help="only clusters with this name (glob allowed)")
    snapshot.add_argument("--service", metavar="NAME", help="only services with this name (glob allowed)")
    snapshot.add_argument("--format", choices=["json", "csv", "table"], default="json")
    snapshot.add_argument(
        "--history",
        action="store_true",
        help="json: add each service's CPU and memory series (timestamps, average, maximum); csv stays one row",
    )

    commands.add_parser(
        "doctor", help="check configuration, credentials, every account and region, and the users table"
    )

    demo = commands.add_parser(
        "demo", help="run HeartBeat on an embedded AWS with a seeded, live fleet (no AWS account needed)"
    )
    demo.add_argument(
        "--step-seconds",
        type=float,
        default=2.0,
        help="seconds between simulator steps (default 2)",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep the embedded AWS running and print how to point other commands at it",
    )
    add_logs_command(commands)
    add_user_commands(commands)
    _add_serve_command(commands)
    _add_web_command(commands)
    return parser


def _add_web_command(commands: Any) -> None:
    web = commands.add_parser(
        "web", help="the dashboard in a browser: each visitor logs in for themselves (see README, `heartbeat web`)"
    )
    web.add_argument("--listen", metavar="HOST:PORT", help="default [web].listen, 127.0.0.1:8788")
    web.add_argument(
        "--public-url", metavar="URL", help="the address browsers use (a proxy's): only its Origin may connect"
    )
    web.add_argument("--max-sessions", metavar="N", type=int, help="browser sessions at once (default 20)")
    web.add_argument(
        "--server",
        dest="web_server",
        metavar="URL",
        help="sessions watch this `heartbeat serve` (default: the global --server, $HEARTBEAT_SERVER, [server].url)",
    )
    web.add_argument("--demo", action="store_true", help="one embedded AWS and one server, shared by every session")
    _add_listener_arguments(web, "web")


def _add_serve_command(commands: Any) -> None:
    serve = commands.add_parser("serve", help="poll the fleet once for everyone and serve it over HTTP (an API)")
    serve.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:8787", help="default 127.0.0.1:8787")
    _add_listener_arguments(serve, "serve")


def _add_listener_arguments(parser: Any, section: str) -> None:
    """TLS and proxy flags, the same for `serve` and `web` (one rule for both: see serve/run.py)."""

    parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain): serve HTTPS")
    parser.add_argument("--tls-key", metavar="FILE", help="its PEM private key")
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)",
    )
    parser.add_argument(
        "--trusted-proxy",
        metavar="ADDRESS_OR_CIDR",
        action="append",
        help=f"a proxy whose X-Forwarded-For names the client (repeatable; default [{section}].trusted_proxies)",
    )


def cmd_snapshot(args: argparse.Namespace) -> int:
    from heartbeat_tui import heap
    from heartbeat_tui.collector.workers import make_collector

    config = load_cli_config(args)
    # A session is needed (exit 3 without); a `user` session polls only its allow-list.
    scope = session_scope(config)

    async def run() -> FleetSnapshot:
        async with make_collector(config) as collector:
            only = None
            if args.account:
                # Poll just one account when the filter names it exactly, by id or
                # configured alias; a glob, or an alias only IAM knows, could match
                # accounts the configuration cannot tell: poll all, then filter.
                exact = [a.id for a in config.accounts if args.account in (a.id, a.alias)]
                only = exact if len(exact) == 1 else None
            if scope is not None:
                only = sorted(scope if only is None else scope.intersection(only))
            with heap.poll_window():
                return await collector.poll(only=only)

    return print_snapshot(asyncio.run(run()), args)


def print_snapshot(snapshot: FleetSnapshot, args: argparse.Namespace) -> int:
    """`heartbeat snapshot`'s output and exit code, whether polled here or by a server."""

    from heartbeat_tui.export import Filters, to_csv, to_json, to_table

    filters = Filters(account=args.account, cluster=args.cluster, service=args.service)
    selected = [a for a in snapshot.accounts if filters.account_matches(a)]
    if args.account and not selected:
        raise UsageError(f"no account matches --account {args.account!r}")
    if args.format == "json":
        sys.stdout.write(to_json(snapshot, filters, history=args.history))
    else:
        sys.stdout.write({"csv": to_csv, "table": to_table}[args.format](snapshot, filters))
    sys.stdout.flush()
    failed = [a for a in selected if a.status.value != "ok"]
    for account in failed:
        error_line(f"account {account.display_name}: {account.error}")
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from heartbeat_tui.doctor import run_doctor

    config = load_cli_config(args)
    checks = asyncio.run(run_doctor(config))
    for check in checks:
        print(visible(check.line()))  # a check quotes AWS's errors
    return EXIT_PARTIAL if any(c.status == "FAIL" for c in checks) else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    if args.step_seconds <= 0:
        raise UsageError("--step-seconds must be positive")
    if args.serve:
        from heartbeat_tui.demo import serve_demo

        return serve_demo(step_seconds=args.step_seconds)
    from heartbeat_tui.tui.launch import run_demo_dashboard

    return run_demo_dashboard(step_seconds=args.step_seconds)


def cmd_dashboard(args: argparse.Namespace) -> int:
    """No command: the live dashboard on the configured fleet."""

    from heartbeat_tui.tui.launch import run_dashboard

    return run_dashboard(load_cli_config(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from heartbeat_tui.serve.run import cmd_serve as serve

    return serve(
        load_cli_config(args), args.listen, args.tls_cert, args.tls_key, args.insecure_http, args.trusted_proxy
    )


def cmd_web(args: argparse.Namespace) -> int:
    from heartbeat_tui.cli_remote import server_url
    from heartbeat_tui.web.run import cmd_web as web
    from heartbeat_tui.web.run import web_options

    config = load_cli_config(args)
    if args.web_server is not None:
        args.server = args.web_server
    if args.demo and args.server is not None:
        raise UsageError("--demo runs its own server: give --demo or --server, not both")
    url = None if args.demo else server_url(args, config)
    options = web_options(
        config,
        listen=args.listen,
        public_url=args.public_url,
        max_sessions=args.max_sessions,
        trusted_proxies=args.trusted_proxy,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure_http=args.insecure_http,
        server_url=url,
        demo=args.demo,
    )
    return web(config, options, args.log_level)


def cmd_remote_dashboard(args: argparse.Namespace, config: Config, url: str) -> int:
    """No command, with a server: the dashboard on that server's polls."""

    from heartbeat_tui.tui.launch import run_remote_dashboard

    return run_remote_dashboard(config, url)


COMMANDS = {
    "snapshot": cmd_snapshot,
    "doctor": cmd_doctor,
    "demo": cmd_demo,
    "serve": cmd_serve,
    "web": cmd_web,
    "logs": cmd_logs,
    **USER_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    from heartbeat_tui.logs import log_path, setup_logging

    try:
        args = build_parser().parse_args(argv)
        setup_logging(args.log_level)
        from heartbeat_tui.cli_remote import routed

        # --server, HEARTBEAT_SERVER or [server].url: the commands that have a remote form run there.
        remote = routed(args, cmd_remote_dashboard)
        if remote is not None:
            log.info("heartbeat %s: %s on a server", __version__, args.command or "dashboard")
            return remote()
        if args.command is None:
            log.info("heartbeat %s: dashboard", __version__)
            return cmd_dashboard(args)
        log.info("heartbeat %s: %s", __version__, args.command)
        return COMMANDS[args.command](args)
    except HeartbeatError as exc:
        error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error_line("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `heartbeat snapshot | head`: the reader left; not an error worth a message.
        try:
            sys.stdout = open(__import__("os").devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return EXIT_OK
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    except Exception as exc:  # the last line of defence
        log.exception("unexpected error")
        from heartbeat_tui.reasons import one_line

        summary = one_line((str(exc).strip().splitlines() or [""])[0])
        error_line(f"internal error: {type(exc).__name__}: {summary} (details in {log_path()})")
        return EXIT_INTERNAL


__all__ = ["EXIT_USAGE", "build_parser", "main"]
