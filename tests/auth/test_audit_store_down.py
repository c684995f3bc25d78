"""A login refused because the users store is down is still audited: a WARNING
on the `heartbeat.audit` log at once (the username, never the password), and
the audit item itself, kept in a local spool (0600) until the store is back,
then written to the audit table with its own time, from this process or a
later one."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth import LoginFailed, StoreUnavailable
from heartbeat_tui.auth.audit import SPOOL_FILE_NAME, AuditSpool, PendingRecord
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.config import dump_toml, user_state_dir
from heartbeat_tui.errors import EXIT_UNAVAILABLE
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS

from .cli_support import CliEnv, make_cli_env
from .store_support import DOWN, STORE_SECONDS, fast_config, store_down

GUESS = "a guess at the password"
TYPED_IN_THE_WRONG_FIELD = "My Secret Password 1"


@pytest.fixture
async def down_service(clean_aws: Any) -> Any:
    async with open_auth(fast_config(clean_aws), iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        yield auth


def unverified(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("event") == "login" and r.get("outcome") == "unverified"]


async def test_refused_logins_are_logged_at_once_and_stored_when_the_store_is_back(
    clean_aws: Any, down_service: AuthService, caplog: Any
) -> None:
    auth = down_service
    caplog.set_level(logging.INFO, logger="heartbeat.audit")
    spool = user_state_dir() / SPOOL_FILE_NAME
    assert auth.audit.spool is not None and auth.audit.spool.path == spool
    store_down(clean_aws, DOWN)
    started = time.time()
    for username, password in ((ADMIN, ADMIN_PASSWORD), ("mallory", GUESS)):
        with pytest.raises(StoreUnavailable):
            await auth.login(username, password)
    # Not a username at all: refused without asking the store; its audit item,
    # which the store does not take either, waits in the spool too.
    with pytest.raises(LoginFailed):
        await auth.login(TYPED_IN_THE_WRONG_FIELD, GUESS)

    # At once, in the log: who, and why nothing was decided.
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "heartbeat.audit" and r.levelno == logging.WARNING and "event=login" in r.getMessage()
    ]
    assert [line.split(" actor=")[1].split(" ")[0] for line in lines] == [ADMIN, "mallory"]
    assert all("outcome=unverified" in line and "detail=user store unreachable" in line for line in lines), lines
    # Kept on disk, for this user only, until the store takes it.
    assert stat.S_IMODE(spool.stat().st_mode) == 0o600
    assert len(spool.read_text().splitlines()) == 3

    clean_aws.clear_faults()
    assert unverified(await auth.store.audit_records()) == []  # not yet: nothing has written since
    await auth.login(ADMIN, ADMIN_PASSWORD)  # the next audited event takes them along
    late = sorted((r for r in await auth.store.audit_records() if r.get("stored_late")), key=lambda r: r["at"])
    assert [(r["actor"], r["outcome"]) for r in late] == [
        (ADMIN, "unverified"),
        ("mallory", "unverified"),
        ("(invalid username)", "failure"),
    ]
    for record in late:
        assert started <= record["at"] <= time.time()  # the time of the attempt, not of the write
    assert all(r["detail"].startswith("user store unreachable (DynamoDB ") for r in unverified(late))
    assert not spool.exists()

    everything = caplog.text + repr(await auth.store.audit_records())
    for secret in (ADMIN_PASSWORD, GUESS, TYPED_IN_THE_WRONG_FIELD):
        assert secret not in everything


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    data = clean_aws.config_dict()
    data["aws"]["max_attempts"] = 2
    data["auth"] = {"store_timeout_seconds": STORE_SECONDS}
    cli.config_path.write_text(dump_toml(data))
    return cli


def test_a_refused_heartbeat_login_outlives_its_process(clean_aws: Any, cli: CliEnv) -> None:
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0  # a session from before the outage
    store_down(clean_aws, DOWN)
    refused = cli.process("login", "--username", "mallory", "--password-stdin", stdin=GUESS + "\n")
    assert refused.code == EXIT_UNAVAILABLE, refused.err
    log = Path(cli.env["HEARTBEAT_LOG_FILE"]).read_text()
    assert "WARNING heartbeat.audit: audit event=login outcome=unverified actor=mallory" in log
    assert GUESS not in log
    spool = user_state_dir() / SPOOL_FILE_NAME
    assert spool.exists() and GUESS not in spool.read_text()

    clean_aws.clear_faults()
    # The first command to find the store back (its session check) writes it.
    assert cli.run("whoami").code == 0
    stored = cli.service(lambda auth: auth.store.audit_records())
    assert [r["actor"] for r in unverified(stored)] == ["mallory"]
    assert not spool.exists()


# -- the spool itself ---------------------------------------------------------------------------


def record(n: int, table: str = "users-auth") -> PendingRecord:
    return PendingRecord(table, f"2026-01-01T00:00:0{n}.000000Z#{n:012d}", {"event": "login", "at": float(n)}, 9e9)


def test_the_spool_is_bounded_private_and_taken_once(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path / "state" / SPOOL_FILE_NAME, max_records=3)
    assert not spool.pending() and spool.take() == []
    assert all(spool.add(record(n)) for n in range(3))
    assert not spool.add(record(3))  # full: the log line is the only record
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert spool.pending()
    taken = spool.take()
    assert [r.key for r in taken] == [record(n).key for n in range(3)]
    assert taken[0].fields == {"event": "login", "at": 0.0}
    assert not spool.pending() and spool.take() == []  # taken once


def test_a_flush_cut_short_is_picked_up_later(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path / SPOOL_FILE_NAME)
    spool.add(record(1))
    # A process renamed it aside to write it, then died.
    aside = spool.path.with_name(f".{spool.path.name}.dead.flushing")
    os.rename(spool.path, aside)
    assert spool.take() == []  # too fresh: it may still be at work
    old = time.time() - AuditSpool.STALE_SECONDS - 5
    os.utime(aside, (old, old))
    assert spool.pending()
    assert [r.key for r in spool.take()] == [record(1).key]
    assert not aside.exists()


def test_an_unreadable_line_is_dropped_not_fatal(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path / SPOOL_FILE_NAME)
    spool.add(record(1))
    with spool.path.open("a") as handle:
        handle.write("{not json\n" + json.dumps({"table": "t"}) + "\n")
    assert [r.key for r in spool.take()] == [record(1).key]
