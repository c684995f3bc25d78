"""Parent side: start, talk to and stop the embedded AWS child process.

Pure stdlib (subprocess + urllib): importing this never imports moto, so the
dashboard starts fast and only the child pays for moto.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.protocol import READY_PREFIX

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
# The control API is on 127.0.0.1: never route it through a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmbeddedAWSError(RuntimeError):
    """The embedded AWS failed to start or to answer its control API."""


def child_environment() -> dict[str, str]:
    """The parent's environment without anything that would confuse moto:
    MOTO_* (MOTO_ACCOUNT_ID folds every account into one) and AWS_* (the
    child needs no credentials; clients bring their own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTO_") and not k.startswith("AWS_")}
    env["MOTO_ECS_NEW_ARN"] = "true"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    return env


class EmbeddedAWS:
    """An AWS-compatible endpoint on 127.0.0.1 with a simulated ECS fleet.

    Usage::

        with EmbeddedAWS(paused=True) as aws:
            client = boto3.client("ecs", endpoint_url=aws.endpoint_url, ...)
    """

    def __init__(
        self,
        fleet: FleetSpec | None = None,
        *,
        step_seconds: float = 60.0,
        paused: bool = False,
    ) -> None:
        self.fleet = fleet or FleetSpec.demo()
        self.step_seconds = step_seconds
        self.paused = paused
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._port: int | None = None
        self._ready: dict[str, Any] = {}
        self._atexit_registered = False
        self.ready_seconds: float | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> EmbeddedAWS:
        if self._proc is not None and self._proc.poll() is None:
            return self
        began = time.monotonic()
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="heartbeat-embedded-", suffix=".log", delete=False
        )  # closed in stop()
        config = {
            "fleet": self.fleet.to_dict(),
            "step_seconds": self.step_seconds,
            "paused": self.paused,
            # PR_SET_PDEATHSIG fires when the *thread* that forked us exits, so
            # it is only safe when we are started from the main thread.
            "pdeathsig": threading.current_thread() is threading.main_thread(),
        }
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "heartbeat_tui.embedded.server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                env=child_environment(),
                close_fds=True,
                start_new_session=True,  # Ctrl-C in the terminal is the parent's business
            )
        except OSError as error:
            raise EmbeddedAWSError(f"cannot start the embedded AWS: {error}") from error
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(config).encode() + b"\n")
        self._proc.stdin.flush()  # and keep it open: its EOF tells the child we are gone

        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._proc.stdout

        def read_ready_line() -> None:
            lines.put(stdout.readline())

        threading.Thread(target=read_ready_line, name="embedded-aws-ready", daemon=True).start()
        deadline = began + timeout
        line = b""
        while True:
            try:
                line = lines.get(timeout=0.05)
                break
            except queue.Empty:
                pass
            if self._proc.poll() is not None:
                reason = self._log_tail()
                code = self._proc.returncode
                self.stop()
                raise EmbeddedAWSError(f"embedded AWS exited (code {code}) before it was ready: {reason}")
            if time.monotonic() > deadline:
                reason = self._log_tail()
                self.stop()
                raise EmbeddedAWSError(f"embedded AWS not ready after {timeout:g} s: {reason}")
        text = line.decode(errors="replace").strip()
        if not text.startswith(READY_PREFIX):
            try:  # the child closed stdout: it is exiting; let it finish its log
                self._proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                pass
            reason = self._log_tail() or text or "no ready line"
            self.stop()
            raise EmbeddedAWSError(f"embedded AWS failed to start: {reason}")
        self._ready = json.loads(text[len(READY_PREFIX) :])
        self._port = int(self._ready["port"])
        stdout.close()
        self.ready_seconds = time.monotonic() - began
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the child (SIGTERM, then SIGKILL) and remove its log."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
        if self._log is not None:
            self._log.close()
            try:
                os.unlink(self._log.name)
            except OSError:
                pass
            self._log = None
        if self._atexit_registered:
            atexit.unregister(self.stop)
            self._atexit_registered = False
        self._port = None

    def __enter__(self) -> EmbeddedAWS:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        try:
            self._log.flush()
            text = Path(self._log.name).read_text(errors="replace")
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    # -- where and who ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedAWSError("the embedded AWS is not running")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def credentials(self) -> dict[str, str]:
        """Environment-style credentials that act in the hub account."""
        self.port  # noqa: B018 - raises when not started
        return {
            "AWS_ACCESS_KEY_ID": str(self._ready["access_key"]),
            "AWS_SECRET_ACCESS_KEY": str(self._ready["secret_key"]),
            "AWS_DEFAULT_REGION": self.fleet.hub_region(),
        }

    def config_dict(self) -> dict[str, Any]:
        """The HeartBeat configuration (TOML-shaped dict) for this fleet."""
        return self.fleet.config_dict(self.endpoint_url)

    # -- control API -----------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.endpoint_url}/_heartbeat/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise EmbeddedAWSError(f"control API {method} {path}: HTTP {error.code} {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise EmbeddedAWSError(f"control API {method} {path}: {error}") from None

    def health(self) -> dict[str, Any]:
        return dict(self._control("GET", "health"))

    def fleet_summary(self) -> dict[str, Any]:
        return dict(self._control("GET", "fleet"))

    def add_fault(
        self,
        kind: str,
        account: str = "*",
        service: str = "*",
        operation: str = "*",
        rate: float = 1.0,
        seconds: float | None = None,
        code: str | None = None,
        times: int | None = None,
    ) -> dict[str, Any]:
        body = {
            "kind": kind,
            "account": account,
            "service": service,
            "operation": operation,
            "rate": rate,
            "seconds": seconds,
            "code": code,
            "times": times,
        }
        return dict(self._control("POST", "faults", body))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "faults")["faults"])

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def stats(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "stats")["stats"])

    def reset_stats(self) -> None:
        self._control("POST", "stats/reset", {})

    def tick(self, steps: int = 1) -> int:
        return int(self._control("POST", "simulator/tick", {"steps": steps})["step"])

    def pause(self) -> None:
        self._control("POST", "simulator/pause", {})

    def resume(self) -> None:
        self._control("POST", "simulator/resume", {})
