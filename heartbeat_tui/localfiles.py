"""Local files are never followed blindly.

On a shared bastion another user can plant a symlink where HeartBeat writes,
or a file where it reads, wherever a folder lets them. So:

* a folder HeartBeat writes in (the state folder, the log's) or reads its
  configuration from must be owned by the user or root and writable by its
  owner only; the state folder is made 0700, and narrowed to 0700 when it is
  ours but readable by others;
* a file HeartBeat writes is opened with `O_NOFOLLOW` and checked on the
  opened descriptor (`fstat`): a regular file, ours, with no other hard link.
  What is checked is what is used: no window between a check and an open.

A refusal is `UnsafeLocalFile`: one line naming the path and the fix, exit
code 2. `OSError` (a genuinely unwritable path) is left to the caller.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from heartbeat_tui.errors import ConfigError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# A FIFO planted under a file's name would block an open forever; with this the
# open returns and the check refuses it.
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
ROOT_UID = 0


class UnsafeLocalFile(ConfigError):
    """A folder or file another user could have planted or could change (exit code 2)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(str(path), None, reason)


def current_uid() -> int | None:
    """None where there are no POSIX owners (the checks are then skipped)."""

    return os.getuid() if hasattr(os, "getuid") else None


def owner_problem(info: os.stat_result, *, root_ok: bool) -> str | None:
    """Why the owner is not trusted, or None: the user, or root where `root_ok`
    (root can change any file anyway, so a root-owned system file is fine)."""

    uid = current_uid()
    if uid is None or info.st_uid == uid or (root_ok and info.st_uid == ROOT_UID):
        return None
    return f"owned by uid {info.st_uid}, not you" + (" or root" if root_ok and uid != ROOT_UID else "")


def written_file_problem(info: os.stat_result) -> str | None:
    """Why a file HeartBeat writes to must not be used, or None."""

    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    problem = owner_problem(info, root_ok=False)
    if problem:
        return f"is {problem}"
    if info.st_nlink > 1:
        # A hard link to one of the user's own files (a hard link needs no
        # permission on its target where fs.protected_hardlinks is off).
        return f"has {info.st_nlink - 1} other hard link(s)"
    return None


def checked_folder(path: Path, what: str, *, create: bool = False, narrow: bool = False) -> Path:
    """`path` if it is a folder owned by the user (or root) that only its owner can
    write; made 0700 when `create` and missing. With `narrow`, a folder of ours that
    others can read or enter loses those bits (what it holds is private).

    Raises `UnsafeLocalFile`, or `OSError` when the folder cannot be made."""

    if create:
        try:
            path.mkdir(parents=True, mode=0o700)  # the parents get the umask's usual mode
        except FileExistsError:
            pass
        else:
            os.chmod(path, 0o700)  # whatever the umask
    info = os.stat(path)  # a symlinked folder: its target is what counts
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeLocalFile(path, f"{what} is not a folder")
    if current_uid() is None:
        return path  # no POSIX owners and modes to check
    problem = owner_problem(info, root_ok=True)
    if problem:
        raise UnsafeLocalFile(path, f"{what} is {problem} (use a folder of your own)")
    if info.st_mode & 0o022:
        fix = "700" if narrow else "go-w"
        raise UnsafeLocalFile(path, f"{what} is writable by group/others (chmod {fix} {path})")
    if narrow and info.st_mode & 0o077 and info.st_uid == current_uid():
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    return path


def open_written_file(path: Path, flags: int, what: str, *, mode: int = 0o600) -> int:
    """Open a file HeartBeat writes (`flags` such as `O_WRONLY | O_CREAT | O_APPEND`)
    without following a symlink, then refuse it unless `written_file_problem` has
    nothing to say about the opened descriptor. Returns the descriptor (blocking)."""

    try:
        fd = os.open(path, flags | NOFOLLOW | CLOEXEC | NONBLOCK, mode)
    except OSError:
        if os.path.islink(path):  # ELOOP on Linux and macOS, EMLINK on FreeBSD
            raise UnsafeLocalFile(path, f"{what} is a symbolic link; HeartBeat never follows one (remove it)") from None
        raise
    try:
        problem = written_file_problem(os.fstat(fd))
        if problem:
            raise UnsafeLocalFile(path, f"{what} {problem} (remove it)")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_settings_file(path: Path, what: str) -> bytes:
    """The bytes of a file HeartBeat takes its settings from (the TOML
    configuration): owned by the user or root (`/etc` is fine) and writable by
    its owner only, checked on the opened descriptor, in a folder that
    `checked_folder` accepts (the folder holding the name: a symlink's target is
    the file checked). Raises `UnsafeLocalFile`; `OSError` (no such file, a
    directory, no permission) is left to the caller."""

    fd = os.open(path, os.O_RDONLY | CLOEXEC | NONBLOCK)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        problem = owner_problem(info, root_ok=True)
        if problem:
            raise UnsafeLocalFile(path, f"{what} is {problem} (use one of your own)")
        if current_uid() is not None and info.st_mode & 0o022:
            raise UnsafeLocalFile(path, f"{what} is writable by group/others (chmod go-w {path})")
        checked_folder(path.parent, f"{what.split()[0]} folder")
        os.set_blocking(fd, True)  # a pipe (`--config <(...)`) waits for its writer
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


__all__ = [
    "UnsafeLocalFile",
    "checked_folder",
    "current_uid",
    "open_written_file",
    "owner_problem",
    "read_settings_file",
    "written_file_problem",
]
