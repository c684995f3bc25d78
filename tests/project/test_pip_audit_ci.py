"""`.ci/pip_audit.py`: fails CI on a known vulnerability only; any lack of network
(no database answering, a connection error, a hang) is one SKIPPED line and exit 0.
pip-audit itself is replaced by a small script that answers as pip-audit does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "pip_audit.py"


def fake_pip_audit(tmp_path: Path, *, report: dict | None = None, stderr: str = "", code: int = 0, sleep: float = 0):
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys, time\n"
        f"open({str(tmp_path / 'argv.json')!r}, 'w').write(__import__('json').dumps(sys.argv[1:]))\n"
        f"time.sleep({sleep})\n"
        f"sys.stdout.write({json.dumps(report) if report is not None else ''!r})\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({code})\n"
    )
    fake.chmod(0o755)
    return fake


def run(tmp_path: Path, fake: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIP_AUDIT")}
    environ.update(PIP_AUDIT=str(fake), **env)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--python", sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


def dep(name: str, vulns: list | None = None, skip: str | None = None) -> dict:
    if skip:
        return {"name": name, "skip_reason": skip}
    return {"name": name, "version": "1.0", "vulns": vulns or []}


def test_every_package_skipped_is_a_skip_note(tmp_path: Path) -> None:
    fake = fake_pip_audit(tmp_path, report={"dependencies": [dep("a", skip="not found"), dep("b", skip="nf")]})
    result = run(tmp_path, fake)
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1].startswith("pip-audit: SKIPPED: the vulnerability database")
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert "--no-deps" in argv and "--disable-pip" in argv and argv[argv.index("--format") + 1] == "json"
    audited = Path(argv[argv.index("-r") + 1])
    assert not audited.exists()  # the temporary requirements file is removed


@pytest.mark.parametrize(
    ("stderr", "code"),
    [
        ("requests.exceptions.ConnectionError: Max retries exceeded (Caused by NameResolutionError)\n", 1),
        ("requests.exceptions.ProxyError: Unable to connect to proxy\n", 1),
        ("", 0),
    ],
)
def test_no_network_is_a_skip_note(tmp_path: Path, stderr: str, code: int) -> None:
    result = run(tmp_path, fake_pip_audit(tmp_path, stderr=stderr, code=code))
    assert result.returncode == 0
    assert "pip-audit: SKIPPED: no report from pip-audit" in result.stdout


def test_a_hang_is_cut_short(tmp_path: Path) -> None:
    result = run(tmp_path, fake_pip_audit(tmp_path, sleep=30), PIP_AUDIT_TIMEOUT="1")
    assert result.returncode == 0 and "SKIPPED: no answer within 1 s" in result.stdout


def test_clean(tmp_path: Path) -> None:
    report = {"dependencies": [dep("a"), dep("b"), dep("c", skip="not found")]}
    result = run(tmp_path, fake_pip_audit(tmp_path, report=report))
    assert result.returncode == 0
    assert "pip-audit: OK: 2 packages audited, no known vulnerability (1 not found in the database)" in result.stdout


def test_a_vulnerability_fails(tmp_path: Path) -> None:
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": [], "description": "x"}
    report = {"dependencies": [dep("a"), dep("bad", vulns=[vuln])]}
    result = run(tmp_path, fake_pip_audit(tmp_path, report=report, code=1))
    assert result.returncode == 1
    assert "pip-audit: VULNERABLE: bad 1.0: PYSEC-2099-1 (fixed in: 1.1)" in result.stdout
    assert "FAILED: 1 known vulnerability" in result.stdout
