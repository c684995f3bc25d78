"""Logging goes to a file in the user's state folder, never onto the screen.

The log is never followed blindly (see `heartbeat_tui.localfiles`): its folder
must be the user's and writable by them alone, and every log file, the ones
made at rotation too, is opened without following a symlink and must be a
regular file of the user's. A log that cannot be opened safely stops the
command with one line (exit code 2); one that merely cannot be written (a
read-only disk, no permission) leaves the command running without a log.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from pathlib import Path

from heartbeat_tui.config import user_state_dir
from heartbeat_tui.localfiles import UnsafeLocalFile, checked_folder, open_written_file
from heartbeat_tui.untrusted import visible, visible_lines

LOG_FILE_NAME = "heartbeat.log"
LOG_FILE_ENV = "HEARTBEAT_LOG_FILE"


def log_path() -> Path:
    override = os.environ.get(LOG_FILE_ENV)
    return Path(override) if override else user_state_dir() / LOG_FILE_NAME


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file, the ones made at rotation too, is opened without following a
    symlink, refused unless a regular file of ours, and made 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = open_written_file(Path(self.baseFilename), os.O_WRONLY | os.O_CREAT | os.O_APPEND, "log file")
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)  # a file made by an older version keeps its mode otherwise
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)

    def handleError(self, record: logging.LogRecord) -> None:  # logging's name
        """A record that cannot be written (a full disk, a file refused at rotation)
        is dropped: the default prints a traceback on stderr, which is the
        dashboard's screen. Logging never stops the app."""


class VisibleFormatter(logging.Formatter):
    """Log lines quote others' text (AWS errors, names): a message is one line
    with every control character a visible escape (no forged log lines, no
    escape sequences for whoever `tail`s the file); a traceback keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # logging's name
        record.message = visible(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return visible_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return visible_lines(super().formatStack(stack_info))


def setup_logging(level: str = "INFO") -> Path | None:
    """Send every log record to a rotating file; returns its path (None if unwritable).

    Raises `UnsafeLocalFile` (exit code 2) for a log or a folder another user
    could have planted or could change."""

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    path = log_path()
    override = bool(os.environ.get(LOG_FILE_ENV))
    try:
        # The state folder is ours alone (0700); a folder named by HEARTBEAT_LOG_FILE
        # keeps its mode, as long as no one else can write in it.
        checked_folder(path.parent, "log folder" if override else "state folder", create=True, narrow=not override)
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except UnsafeLocalFile:
        root.addHandler(logging.NullHandler())  # nothing reaches the screen meanwhile
        raise
    except OSError:
        handler = logging.NullHandler()
        path = None  # type: ignore[assignment]
    handler.setFormatter(VisibleFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # botocore at DEBUG logs request headers (signatures): never below INFO.
    for noisy in ("botocore", "aiobotocore", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
    # A failing AssumeRole is reported once per poll by the collector; botocore
    # would add a warning with a traceback for every attempt.
    for repeated in ("botocore.credentials", "aiobotocore.credentials"):
        logging.getLogger(repeated).setLevel(logging.ERROR)
    logging.captureWarnings(True)
    return path
