"""The token file: 0600 from the first byte, never the password, refused when exposed."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from heartbeat_tui.auth import SessionInvalid
from heartbeat_tui.auth.session_file import delete_token, load_token, save_token, token_path
from heartbeat_tui.config import user_state_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_0600_in_the_state_folder(isolated_environment: Path) -> None:
    old = os.umask(0)  # the most permissive umask: the file must still be 0600
    try:
        path = save_token("header.payload.signature")
    finally:
        os.umask(old)
    assert path == token_path() == user_state_dir() / "session.jwt"
    assert mode(path) == 0o600
    assert mode(path.parent) & 0o077 == 0
    assert load_token(environ={}).token == "header.payload.signature"
    assert [p.name for p in path.parent.iterdir()] == ["session.jwt"]  # no temporary left behind


def test_a_wider_folder_is_narrowed_to_ours_alone(isolated_environment: Path) -> None:
    directory = user_state_dir()
    directory.mkdir(parents=True)
    directory.chmod(0o755)  # made earlier, by another tool or umask
    path = save_token("t")
    assert mode(path) == 0o600 and mode(directory) == 0o700


def test_never_readable_by_others_even_briefly(isolated_environment: Path) -> None:
    directory = user_state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    seen: set[int] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for entry in os.scandir(directory):
                try:
                    seen.add(stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode))
                except FileNotFoundError:
                    pass

    watcher = threading.Thread(target=watch)
    old = os.umask(0)
    watcher.start()
    try:
        for i in range(300):
            save_token(f"token-{i}")
    finally:
        stop.set()
        watcher.join()
        os.umask(old)
    assert seen and seen <= {0o600}


def test_env_overrides_file(isolated_environment: Path) -> None:
    save_token("from-file")
    stored = load_token(environ={"HEARTBEAT_TOKEN": " from-env \n"})
    assert (stored.token, stored.source) == ("from-env", "HEARTBEAT_TOKEN")
    assert "from-env" not in repr(stored)


def test_missing_and_deleted(isolated_environment: Path) -> None:
    assert load_token(environ={}) is None
    save_token("t")
    assert delete_token() is True
    assert delete_token() is False
    assert load_token(environ={}) is None


def test_refuses_a_file_others_can_read(isolated_environment: Path) -> None:
    path = save_token("t")
    os.chmod(path, 0o644)
    with pytest.raises(SessionInvalid, match=r"can be read by others \(mode 0644\)"):
        load_token(environ={})


def test_refuses_a_symlink(isolated_environment: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("t")
    target.chmod(0o600)
    token_path().parent.mkdir(parents=True, exist_ok=True)
    token_path().symlink_to(target)
    with pytest.raises(SessionInvalid, match="is a symbolic link, never followed; delete it and log in again"):
        load_token(environ={})


def test_refuses_a_hard_link(isolated_environment: Path, tmp_path: Path) -> None:
    path = save_token("t")
    os.link(path, tmp_path / "another-name")
    with pytest.raises(SessionInvalid, match=r"has 1 other hard link\(s\); delete it and log in again"):
        load_token(environ={})


def test_a_save_replaces_a_symlink_never_writes_through_it(isolated_environment: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    target.chmod(0o644)
    token_path().parent.mkdir(parents=True, exist_ok=True)
    token_path().symlink_to(target)
    save_token("t")
    assert target.read_text() == "precious" and mode(target) == 0o644
    assert not token_path().is_symlink() and load_token(environ={}).token == "t"
