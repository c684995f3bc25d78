"""The HTTP API over real HTTP against the embedded AWS: health, sessions, the snapshot."""

from __future__ import annotations

import json

from heartbeat_tui.export import Filters, to_json
from heartbeat_tui.serve.hub import STALE_INTERVALS
from tests.serve.conftest import INTERVAL, Served


async def test_health_starting_ok_degraded_then_stale(served: Served) -> None:
    response = await served.client.get("/health")
    assert response.status == 503 and await response.json() == {"status": "starting"}
    await served.poll()
    response = await served.client.get("/health")
    body = await response.json()
    snapshot = served.hub.snapshot
    assert snapshot is not None
    failed = len(snapshot.failed_accounts)
    assert failed == 1  # the demo fleet's account that denies AssumeRole
    assert response.status == 200 and body["status"] == "degraded"
    assert body["accounts_error"] == failed and body["accounts_ok"] == len(snapshot.accounts) - failed
    assert body["poll_age_seconds"] == 0.0 and body["last_poll_at"].endswith("Z")
    served.wall.now += STALE_INTERVALS * INTERVAL + 1
    response = await served.client.get("/health")
    assert response.status == 503 and (await response.json())["status"] == "stale"


async def test_snapshot_is_the_cli_json_for_the_same_poll(served: Served) -> None:
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None
    response = await served.client.get("/api/v1/snapshot", headers=served.bearer("admin"))
    assert response.status == 200 and response.content_type == "application/json"
    assert await response.text() == to_json(snapshot)
    response = await served.client.get(
        "/api/v1/snapshot", params={"cluster": "pay*", "service": "*api*"}, headers=served.bearer("monitor")
    )
    assert await response.text() == to_json(snapshot, Filters(cluster="pay*", service="*api*"))
    data = json.loads(await response.text())
    assert data["accounts"] and all(
        "api" in s["name"] for a in data["accounts"] for r in a["regions"] for c in r["clusters"] for s in c["services"]
    )
