"""`.env`: the one place that decides whether it is trusted, and the one way to write it.

A `.env` in the working directory sets the secrets (`JWT_SECRET`,
`ENCRYPTION_KEY`), the AWS keys and where the configuration is
(`HEARTBEAT_CONFIG`). One that another user planted, or can edit, would hand
them the operator's sessions and signed AWS requests. So it is read only from
a file the user owns that neither group nor others can write, checked on the
opened descriptor (a symlinked `.env` counts as its target); anything else is
ignored, with one warning that names the file and the reason. Nothing reads
`.env` but `read_dotenv` (`EnvSettings` itself never does).

`add_secrets` (`heartbeat keys generate --write PATH`) creates the file 0600,
or appends to a regular 0600 file of the user's, never through a symlink.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from heartbeat_tui.errors import ConfigError
from heartbeat_tui.localfiles import (
    CLOEXEC,
    NOFOLLOW,
    NONBLOCK,
    UnsafeLocalFile,
    current_uid,
    open_written_file,
    owner_problem,
)

log = logging.getLogger(__name__)

DOTENV = ".env"
_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DotEnv:
    """Which `.env` was looked at and what became of it (`heartbeat doctor` says)."""

    name: str  # as looked up: ".env"
    path: str  # absolute
    state: Literal["read", "ignored", "missing", "off"]
    reason: str = ""
    values: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def warning(self) -> str | None:
        """The one line for stderr when the file was ignored."""

        return f"ignoring {self.name}: {self.reason}" if self.state == "ignored" else None


NO_DOTENV = DotEnv("", "", "off")


def _untrusted(info: os.stat_result, name: str) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    problem = owner_problem(info, root_ok=False)
    if problem:
        return problem
    if current_uid() is not None and info.st_mode & 0o022:
        return f"writable by group/others (chmod 600 {name})"
    return None


def _read_all(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, source: str) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, None, f"is not UTF-8 text (byte {exc.start})") from None
    # python-dotenv's own parser, as pydantic-settings would use it (`${VAR}` expanded).
    return {key: value for key, value in dotenv_values(stream=io.StringIO(text)).items() if value is not None}


def read_dotenv(name: str | Path | None = DOTENV) -> DotEnv:
    """`name` (`.env` in the working directory), if it is trusted.

    A missing file is fine; an untrusted one is ignored (`DotEnv.warning`); a
    trusted one that cannot be read or parsed is a `ConfigError` (exit code 2)."""

    if name is None:
        return NO_DOTENV
    name = str(name)
    absolute = os.path.abspath(name)
    try:
        fd = os.open(name, os.O_RDONLY | CLOEXEC | NONBLOCK)  # a symlink's target is what fstat checks
    except FileNotFoundError:
        return DotEnv(name, absolute, "missing")
    except OSError as exc:
        raise ConfigError(name, None, f"cannot be read ({exc.strerror or exc})") from None
    try:
        reason = _untrusted(os.fstat(fd), name)
        if reason:
            if os.path.islink(name):
                reason = f"a symbolic link, and its target is {reason}"
            log.warning("ignoring %s (%s): %s", name, absolute, reason)
            return DotEnv(name, absolute, "ignored", reason)
        os.set_blocking(fd, True)
        raw = _read_all(fd, _MAX_BYTES)
    except OSError as exc:
        raise ConfigError(name, None, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(raw) > _MAX_BYTES:
        raise ConfigError(name, None, f"is larger than {_MAX_BYTES // 1024} KiB")
    return DotEnv(name, absolute, "read", values=_parse(raw, name))


def add_secrets(path: Path, values: Mapping[str, str]) -> None:
    """Write `NAME=value` lines to `path`: a new file, 0600 from its first byte
    (`O_CREAT | O_EXCL | O_NOFOLLOW`), or the end of a regular 0600 file of the
    user's that sets none of them yet (a second `JWT_SECRET` below the first
    would silently replace it, and a second `ENCRYPTION_KEY` would leave every
    stored record unreadable). Anything else is refused: one line, exit code 2."""

    lines = "".join(f"{key}={value}\n" for key, value in values.items())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC, 0o600)
    except FileExistsError:
        fd, lines = _append_to(path, values, lines)
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot be written ({exc.strerror or exc})") from None
    else:
        os.fchmod(fd, 0o600)  # whatever the umask
    try:
        data = lines.encode()
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot be written ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _append_to(path: Path, values: Mapping[str, str], lines: str) -> tuple[int, str]:
    try:
        fd = open_written_file(path, os.O_RDWR | os.O_APPEND, "the file")
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot be written ({exc.strerror or exc})") from None
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            raise UnsafeLocalFile(
                path, f"the file is open to group/others (mode {mode:04o}): chmod 600 {path}, or write a new file"
            )
        existing = _read_all(fd, _MAX_BYTES)
        known = {key.upper() for key in _parse(existing, str(path))}
        clash = [key for key in values if key.upper() in known]
        if clash:
            raise ConfigError(
                str(path),
                None,
                f"already sets {' and '.join(clash)}; nothing written (to replace one: Key rotation, SECURITY.md)",
            )
    except OSError as exc:
        os.close(fd)
        raise ConfigError(str(path), None, f"cannot be read ({exc.strerror or exc})") from None
    except BaseException:
        os.close(fd)
        raise
    return fd, ("\n" if existing and not existing.endswith(b"\n") else "") + lines


__all__ = ["DOTENV", "NO_DOTENV", "DotEnv", "add_secrets", "read_dotenv"]
