"""The session token on disk: `<user state folder>/session.jwt`, mode 0600.

The file is written to a temporary name opened with `O_CREAT | O_EXCL` and
mode 0600 (so it is never readable by anyone else, not even for a moment),
synced, then renamed over the old one (a symlink in its place is replaced,
never written through), in a state folder that is ours alone: one another user
owns or can write in is refused (`heartbeat_tui.localfiles`, exit code 2).
Reading opens the file without following a symlink and refuses one that is not
a regular file of ours, has another hard link, or that others could read, as
ssh does with keys.
`HEARTBEAT_TOKEN` in the environment overrides the file (for scripts).

A session from a HeartBeat server (`heartbeat login --server URL`) is kept
with that server's URL on a second line (`server URL`): it is sent to that
server only, and never checked against the local users store.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from heartbeat_tui.auth.errors import SessionInvalid
from heartbeat_tui.config import user_state_dir
from heartbeat_tui.localfiles import CLOEXEC, NOFOLLOW, NONBLOCK, checked_folder, written_file_problem

TOKEN_FILE_NAME = "session.jwt"
TOKEN_ENV = "HEARTBEAT_TOKEN"
_MAX_BYTES = 16 * 1024
NO_SESSION = "not logged in: run `heartbeat login` (or set HEARTBEAT_TOKEN)"


def elsewhere(server: str) -> str:
    """Why a session of `server` is not used here (never sent anywhere else)."""

    return f"the session is one of the HeartBeat server {server}: use --server {server}, or log in here"


@dataclass(frozen=True)
class StoredToken:
    token: str = field(repr=False)
    source: str  # "HEARTBEAT_TOKEN" or the file's path
    server: str | None = None  # the HeartBeat server it came from (None: the local users store)


def token_path() -> Path:
    return user_state_dir() / TOKEN_FILE_NAME


def save_token(token: str, path: Path | None = None, *, server: str | None = None) -> Path:
    path = path or token_path()
    body = token.encode("ascii") + b"\n" + (f"server {server}\n".encode("ascii") if server else b"")
    # The folder holding the token is ours alone (0700): a folder made earlier by
    # someone else's umask, or by another tool, loses its group and other bits.
    checked_folder(path.parent, "state folder", create=True, narrow=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
    fd = os.open(temporary, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, body)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def load_token(environ: Mapping[str, str] | None = None, path: Path | None = None) -> StoredToken | None:
    """The token to use: `HEARTBEAT_TOKEN`, else the file; None when there is neither."""

    environ = os.environ if environ is None else environ
    from_env = (environ.get(TOKEN_ENV) or "").strip()
    if from_env:
        return StoredToken(from_env, TOKEN_ENV)
    path = path or token_path()
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | CLOEXEC | NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(path):
            raise SessionInvalid(
                f"the session file {path} is a symbolic link, never followed; delete it and log in again"
            ) from None
        raise SessionInvalid(f"cannot read the session file {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        problem = written_file_problem(info)
        if problem:
            raise SessionInvalid(f"the session file {path} {problem}; delete it and log in again")
        if info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise SessionInvalid(
                f"the session file {path} can be read by others (mode {mode:04o}); delete it and log in again"
            )
        data = os.read(fd, _MAX_BYTES)
    finally:
        os.close(fd)
    lines = data.decode("ascii", errors="replace").strip().splitlines()
    token = lines[0].strip() if lines else ""
    server = next((line.split(None, 1)[1].strip() for line in lines[1:] if line.startswith("server ")), None)
    return StoredToken(token, str(path), server) if token else None


def delete_token(path: Path | None = None) -> bool:
    path = path or token_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
