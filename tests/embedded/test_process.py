"""The child process: starts fast, reports failures in one line, never outlives its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import boto3
import pytest

from heartbeat_tui.embedded import AccountSpec, ClusterSpec, EmbeddedAWS, EmbeddedAWSError, FleetSpec, RegionSpec

from .helpers import NO_RETRY

SMALL = FleetSpec(
    accounts=(
        AccountSpec(
            id="123456789012", alias="hub", regions=(RegionSpec("us-east-1", (ClusterSpec("hub-c", ("a-api",)),)),)
        ),
        AccountSpec(
            id="222233334444",
            alias="member",
            regions=(RegionSpec("us-east-1", (ClusterSpec("member-c", ("b-api", "c-api")),)),),
        ),
    ),
    history_minutes=30,
)
REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (PID 1 of a container may not reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_start_stop_and_moto_account_id_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")  # would fold every account into one
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-developer-shell")
    with EmbeddedAWS(SMALL, paused=True) as aws:
        assert aws.ready_seconds is not None and aws.ready_seconds < 10
        pid = aws.pid
        assert pid is not None and alive(pid)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert not any(e.startswith((b"MOTO_ACCOUNT_ID=", b"AWS_ACCESS_KEY_ID=")) for e in environ)
        kwargs = {
            "region_name": "us-east-1",
            "endpoint_url": aws.endpoint_url,
            "config": NO_RETRY,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        hub = boto3.client("ecs", **kwargs).list_clusters()["clusterArns"]
        assert hub == ["arn:aws:ecs:us-east-1:123456789012:cluster/hub-c"]
        keys = boto3.client("sts", **kwargs).assume_role(
            RoleArn="arn:aws:iam::222233334444:role/HeartbeatReader", RoleSessionName="leak"
        )["Credentials"]
        member = boto3.client(
            "ecs",
            region_name="us-east-1",
            endpoint_url=aws.endpoint_url,
            config=NO_RETRY,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        ).list_clusters()["clusterArns"]
        assert member == ["arn:aws:ecs:us-east-1:222233334444:cluster/member-c"]
    assert wait_gone(pid)
    with pytest.raises(EmbeddedAWSError):
        aws.endpoint_url  # noqa: B018 - not running any more


def test_a_start_failure_has_a_one_line_reason() -> None:
    broken = FleetSpec(
        accounts=(
            AccountSpec(
                id="123456789012", alias="x", regions=(RegionSpec("mars-north-1", (ClusterSpec("c", ("a-api",)),)),)
            ),
        )
    )
    with pytest.raises(EmbeddedAWSError) as excinfo:
        EmbeddedAWS(broken).start()
    message = str(excinfo.value)
    assert "\n" not in message
    assert "unknown AWS region 'mars-north-1'" in message


PARENT = textwrap.dedent(
    """
    import sys, threading, time
    from heartbeat_tui.embedded import EmbeddedAWS, FleetSpec
    fleet = FleetSpec.from_json(sys.argv[1])
    aws = EmbeddedAWS(fleet, paused=True)
    if sys.argv[2] == "thread":  # no PR_SET_PDEATHSIG: only the stdin pipe tells the child
        worker = threading.Thread(target=aws.start)
        worker.start()
        worker.join()
    else:
        aws.start()
    print(aws.pid, flush=True)
    time.sleep(120)
    """
)


@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_the_child_dies_with_a_sigkilled_parent(started_from: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, SMALL.to_json(), started_from],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        child = int(line)
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        assert wait_gone(child), "the embedded AWS outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_demo_fleet_is_ready_fast(embedded_aws: EmbeddedAWS) -> None:
    """The session's child (demo fleet) reported ready quickly: the demo's budget is 3 s to first data."""
    assert embedded_aws.ready_seconds is not None
    print(f"\nembedded AWS (demo fleet) ready in {embedded_aws.ready_seconds:.2f} s")
    assert embedded_aws.ready_seconds < 5.0  # ~1.3 s here; generous for a loaded CI machine


def test_connections_are_kept_alive(embedded_aws: EmbeddedAWS) -> None:
    """Like AWS endpoints, the embedded AWS keeps a connection open between calls
    (werkzeug alone closes it after every answer), also after a request with a
    body and after an error, and closes it when the client asks."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(embedded_aws.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    target = {"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"}
    headers = {
        **target,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ecs/aws4_request, x",
    }
    try:
        socket_before = None
        for body in (b"{}", b'{"maxResults": 5}', b'{"maxResults": 0}', b"{}"):
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            response_body = response.read()
            assert response.status in (200, 400), response_body
            assert not response.will_close
            assert socket_before is None or conn.sock is socket_before  # the same connection throughout
            socket_before = conn.sock
        conn.request("GET", "/_heartbeat/health", headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200 and response.will_close
    finally:
        conn.close()
