"""Errors that end a command with a clear one-line message and a defined exit code."""

from __future__ import annotations

import sys

from heartbeat_tui.untrusted import visible

# Exit codes shared by every command (documented in the README).
EXIT_OK = 0
EXIT_PARTIAL = 1  # the command ran, but some account failed
EXIT_USAGE = 2  # bad arguments or bad configuration
EXIT_AUTH = 3  # no valid session (users issue)
EXIT_FORBIDDEN = 4  # a valid session whose role does not allow the command
EXIT_UNAVAILABLE = 75  # the users store (DynamoDB) cannot be reached: try again later (sysexits EX_TEMPFAIL)
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70  # unexpected failure; the traceback goes to the log file


def error_line(message: str) -> None:
    """The one printer of the CLI's error lines: `heartbeat: <message>` on stderr,
    one line. Messages quote others' text (an alias, an AWS error), so control
    characters are shown as visible escapes, never sent to the terminal."""

    print(f"heartbeat: {visible(message)}", file=sys.stderr)


class HeartbeatError(Exception):
    """Base class: `str(error)` is the one line shown to the operator."""

    exit_code = EXIT_INTERNAL


class ConfigError(HeartbeatError):
    """Bad configuration: names the file, the key and the reason."""

    exit_code = EXIT_USAGE

    def __init__(self, source: str, key: str | None, reason: str) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {reason}")


class UsageError(HeartbeatError):
    exit_code = EXIT_USAGE
