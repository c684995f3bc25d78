"""After a realistic run on the command line (log in, user administration, failed
logins, a poll that assumes roles, log out), at the most verbose log level: the
log file, the session file, the audit trail and everything printed hold no
password, no secret (JWT_SECRET, ENCRYPTION_KEY), no AWS access key, secret key
or session token, and no personal field; the session file is 0600 in a folder
that is ours alone, and the log file is 0600."""

from __future__ import annotations

import os
import re
import secrets
import stat
import string
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth.session_file import token_path
from tests.support.auth import ADMIN, ADMIN_PASSWORD

from .cli_support import CliEnv, make_cli_env

CAROL_PASSWORD = "Carol's first Pa55word!"
CAROL_NEW_PASSWORD = "Carol's 2nd pass-phrase"
WRONG_PASSWORD = "Not-her-Password#9"
EMAIL = "carol.secret@example.com"
FULL_NAME = "Carol Q. Hidden"
AWS_PATTERNS = re.compile(
    r"(AKIA|ASIA)[0-9A-Z]{16}|SecretAccessKey|SessionToken|X-Amz-Security-Token|Signature=|Authorization",
    re.IGNORECASE,
)


def random_text(size: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(size))


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    # Base credentials that cannot be mistaken for anything else (the embedded AWS
    # takes any key; an unknown one belongs to the hub account, 123456789012).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA" + random_text(16, string.ascii_uppercase + string.digits))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", random_text(40))
    monkeypatch.setenv("AWS_SESSION_TOKEN", random_text(120))
    return cli


def test_nothing_secret_in_logs_session_file_audit_or_output(cli: CliEnv, tmp_path: Path) -> None:
    state = token_path().parent
    state.mkdir(parents=True)
    state.chmod(0o755)  # made earlier by someone else's umask
    old_umask = os.umask(0)
    outputs: list[str] = []
    session_files: list[str] = []

    def run(*args: str, stdin: str = "", code: int = 0) -> None:
        result = cli.run("--log-level", "DEBUG", *args, stdin=stdin)
        assert result.code == code, (args, result.err)
        outputs.append(result.out + result.err)
        if token_path().exists():
            session_files.append(token_path().read_text())

    try:
        run("login", "--username", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
        assert stat.S_IMODE(token_path().stat().st_mode) == 0o600
        assert stat.S_IMODE(state.stat().st_mode) & 0o077 == 0
        run(
            "users", "create", "--username", "carol", "--role", "user", "--accounts", "345678901234",
            "--email", EMAIL, "--full-name", FULL_NAME, "--password-stdin",
            stdin=CAROL_PASSWORD + "\n",
        )  # fmt: skip
        run("users", "reset-password", "carol", "--password-stdin", stdin=CAROL_NEW_PASSWORD + "\n")
        run("users", "update", "carol", "--full-name", FULL_NAME + " Jr")
        run("login", "--username", "carol", "--password-stdin", stdin=WRONG_PASSWORD + "\n", code=3)
        # A password typed into the username field.
        run("login", "--username", CAROL_NEW_PASSWORD, "--password-stdin", stdin="carol\n", code=3)
        run("login", "--username", "carol", "--password-stdin", stdin=CAROL_NEW_PASSWORD + "\n")
        run("snapshot", "--format", "json")  # AssumeRole into the member account
        run("login", "--username", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
        run("snapshot", "--format", "csv", code=1)  # every account, the denied one too
        run("aliases", code=1)
        run("refresh", code=1)
        run("logout")
    finally:
        os.umask(old_umask)

    log_file = Path(cli.env["HEARTBEAT_LOG_FILE"])
    log = log_file.read_text()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    # The log really covers the run: logins, the failures, administration, the polls.
    for needle in ("event=login outcome=ok actor=carol", "outcome=failure actor=carol", "create-user", "snapshot"):
        assert needle in log, needle
    audit = cli.service(lambda auth: auth.store.audit_records())
    audit_text = repr(audit)
    assert len(audit) >= 8

    env = cli.env | {k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    never = {
        "admin password": ADMIN_PASSWORD,
        "carol's password": CAROL_PASSWORD,
        "carol's new password": CAROL_NEW_PASSWORD,
        "a wrong password": WRONG_PASSWORD,
        "JWT_SECRET": env["JWT_SECRET"],
        "AWS access key": env["AWS_ACCESS_KEY_ID"],
        "AWS secret key": env["AWS_SECRET_ACCESS_KEY"],
        "AWS session token": env["AWS_SESSION_TOKEN"],
    }
    for i, key in enumerate(env["ENCRYPTION_KEY"].split(",")):
        never[f"ENCRYPTION_KEY[{i}]"] = key.strip()
    personal = {"email": EMAIL, "full name": FULL_NAME}
    places = {"log file": log, "audit trail": audit_text, "session file": "\n".join(session_files)}
    for place, text in places.items():
        for what, value in (never | personal).items():
            assert value not in text, f"{what} found in the {place}"
        assert not AWS_PATTERNS.search(text), f"AWS credential material in the {place}: {AWS_PATTERNS.search(text)}"
    for what, value in never.items():
        assert all(value not in out for out in outputs), f"{what} printed"
    # The session file holds a token and nothing else.
    assert session_files and all(re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", text) for text in session_files)
