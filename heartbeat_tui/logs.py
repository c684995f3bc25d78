"""Logging goes to a file in the user's state folder, never onto the screen."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from heartbeat_tui.config import user_state_dir
from heartbeat_tui.untrusted import visible, visible_lines

LOG_FILE_NAME = "heartbeat.log"


def log_path() -> Path:
    override = os.environ.get("HEARTBEAT_LOG_FILE")
    return Path(override) if override else user_state_dir() / LOG_FILE_NAME


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file, the ones made at rotation too, is created 0600."""

    def _open(self):  # type: ignore[no-untyped-def]  # noqa: ANN202
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


class VisibleFormatter(logging.Formatter):
    """Log lines quote others' text (AWS errors, names): a message is one line
    with every control character a visible escape (no forged log lines, no
    escape sequences for whoever `tail`s the file); a traceback keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = visible(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]  # noqa: N802, ANN001
        return visible_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return visible_lines(super().formatStack(stack_info))


def setup_logging(level: str = "INFO") -> Path | None:
    """Send every log record to a rotating file; returns its path (None if unwritable)."""

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        os.chmod(path, 0o600)  # a file made by an older version keeps its mode otherwise
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
