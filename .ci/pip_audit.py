"""Dependency vulnerability check with pip-audit, for CI and by hand.

    python3 .ci/pip_audit.py [--python .venv/bin/python]

Audits exactly what is installed in that environment (`pip freeze`, the
project itself left out) against a vulnerability database, with bounded
time. It never fails for lack of network: when pip-audit cannot be installed,
or no database answers (every package skipped, a connection error, a
timeout), it prints one `pip-audit: SKIPPED ...` line and exits 0. It fails
(exit 1) only on a known vulnerability that is not in `.ci/pip-audit-ignore`
(one id per line, `#` comments for the reason).

Environment: PIP_AUDIT (a pip-audit executable to use instead of installing
one into .venv-audit), PIP_AUDIT_SERVICE (`pypi`, the default, or `osv`),
PIP_AUDIT_TIMEOUT (seconds for the whole audit, default 150).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_SECONDS = 180
AUDIT_SECONDS = float(os.environ.get("PIP_AUDIT_TIMEOUT", "150"))
REQUEST_SECONDS = 15


def say(line: str) -> None:
    print(f"pip-audit: {line}", flush=True)


def skip(reason: str) -> int:
    say(f"SKIPPED: {reason}; no vulnerability database was checked (CI does not fail for that)")
    return 0


def pip_audit_executable() -> str | None:
    given = os.environ.get("PIP_AUDIT")
    if given:
        return given
    venv = ROOT / ".venv-audit"
    executable = venv / "bin" / "pip-audit"
    if executable.exists():
        return str(executable)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60, capture_output=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "pip-audit"],
            check=True,
            timeout=INSTALL_SECONDS,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    return str(executable) if executable.exists() else None


def ignored_ids() -> list[str]:
    path = ROOT / ".ci" / "pip-audit-ignore"
    if not path.exists():
        return []
    ids = []
    for line in path.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.append(entry)
    return ids


def interpret(returncode: int, stdout: str, stderr: str) -> int:
    """pip-audit's JSON report (or its failure) -> what CI does."""

    try:
        report = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        last = (stderr.strip().splitlines() or ["no output"])[-1][:200]
        return skip(f"no report from pip-audit (exit {returncode}: {last})")
    dependencies = report["dependencies"]
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        return skip(f"the vulnerability database answered for none of the {len(dependencies)} packages")
    vulnerable = [(d, v) for d in audited for v in d.get("vulns", [])]
    skipped = len(dependencies) - len(audited)
    note = f" ({skipped} not found in the database)" if skipped else ""
    if not vulnerable:
        say(f"OK: {len(audited)} packages audited, no known vulnerability{note}")
        return 0
    for dependency, vuln in vulnerable:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        say(f"VULNERABLE: {dependency['name']} {dependency['version']}: {vuln.get('id')} (fixed in: {fixed})")
    say(f"FAILED: {len(vulnerable)} known vulnerabilit{'y' if len(vulnerable) == 1 else 'ies'}{note};"
        " upgrade, or list the id in .ci/pip-audit-ignore with the reason")  # fmt: skip
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    args = parser.parse_args(argv)
    try:
        frozen = subprocess.run(
            [args.python, "-m", "pip", "freeze", "--exclude-editable", "--all"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        return skip(f"cannot list the packages of {args.python} ({type(exc).__name__})")
    requirements = [line for line in frozen.splitlines() if "==" in line and not line.startswith("-e")]
    executable = pip_audit_executable()
    if executable is None:
        return skip("pip-audit could not be installed")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(requirements) + "\n")
    command = [
        executable, "-r", handle.name, "--no-deps", "--disable-pip", "--format", "json",
        "--progress-spinner", "off", "--timeout", str(REQUEST_SECONDS),
        "--vulnerability-service", os.environ.get("PIP_AUDIT_SERVICE", "pypi"),
    ]  # fmt: skip
    for vuln_id in ignored_ids():
        command += ["--ignore-vuln", vuln_id]
    say(f"auditing {len(requirements)} packages of {args.python}")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=AUDIT_SECONDS)
    except subprocess.TimeoutExpired:
        return skip(f"no answer within {AUDIT_SECONDS:g} s")
    except OSError as exc:
        return skip(f"pip-audit did not start ({exc.strerror or exc})")
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return interpret(result.returncode, result.stdout, result.stderr)


if __name__ == "__main__":
    sys.exit(main())
