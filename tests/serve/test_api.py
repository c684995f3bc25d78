"""The HTTP API over real HTTP against the embedded AWS: health, sessions, the snapshot."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

from heartbeat_tui.controller import scoped
from heartbeat_tui.export import Filters, service_dict, to_json
from heartbeat_tui.fleetwire import MEDIA_TYPE_DETAIL, MEDIA_TYPE_FLEET, decode_detail, decode_fleet
from heartbeat_tui.serve.hub import STALE_INTERVALS
from tests.serve.conftest import INTERVAL, PAYMENTS, Served


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


def aws_calls(aws: Any) -> int:
    """The calls the embedded AWS answered, the users store's (DynamoDB) left out."""

    return sum(row["count"] for row in aws.stats() if row["service"] != "dynamodb")


async def test_many_clients_cost_aws_one_pollers_calls_per_poll(served: Served) -> None:
    await served.poll()  # cold: aliases and every service list read once
    served.aws.reset_stats()
    await served.poll()  # a warm poll, nobody asking
    alone = served.hub.snapshot
    assert alone is not None and aws_calls(served.aws) == alone.stats.total_calls > 0

    etags: dict[str, str] = {}
    for who in ("admin", "monitor", "user"):
        for path in ("/api/v1/snapshot", "/api/v1/fleet"):
            response = await served.client.get(path, headers=served.bearer(who))
            etags[who + path] = response.headers["ETag"]
    clients = 30
    served.aws.reset_stats()
    waits = [
        asyncio.create_task(
            served.client.get(
                path, params={"wait": "30"}, headers={**served.bearer(who), "If-None-Match": etags[who + path]}
            )
        )
        for n in range(clients)
        for who in (("admin", "monitor", "user")[n % 3],)
        for path in (("/api/v1/snapshot", "/api/v1/fleet")[n % 2],)
    ]
    await served.hub.until_waiting(clients)
    await served.poll()
    answers = await asyncio.gather(*waits)
    assert [a.status for a in answers] == [200] * clients
    busy = served.hub.snapshot
    assert busy is not None and busy.poll_number == alone.poll_number + 1
    # Thirty clients, one poll: exactly the calls the collector counted, as many as with nobody asking.
    assert aws_calls(served.aws) == busy.stats.total_calls == alone.stats.total_calls


async def test_etag_304_and_long_poll_wake_on_the_next_poll(served: Served) -> None:
    response = await served.client.get("/api/v1/snapshot", headers=served.bearer("monitor"))
    assert response.status == 503 and (await response.json())["code"] == "starting"
    await served.poll()
    first = await served.client.get("/api/v1/snapshot", headers=served.bearer("monitor"))
    etag = first.headers["ETag"]
    assert etag.startswith(f'"{served.hub.generation}-')
    again = await served.client.get("/api/v1/snapshot", headers={**served.bearer("monitor"), "If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag and await again.read() == b""
    # Another scope, another ETag (one poll answers each role differently).
    mine = await served.client.get("/api/v1/snapshot", headers={**served.bearer("user"), "If-None-Match": etag})
    assert mine.status == 200 and mine.headers["ETag"] != etag
    now = await served.client.get(
        "/api/v1/snapshot", params={"wait": "0"}, headers={**served.bearer("monitor"), "If-None-Match": etag}
    )
    assert now.status == 304

    waiting = asyncio.create_task(
        served.client.get(
            "/api/v1/snapshot", params={"wait": "60"}, headers={**served.bearer("monitor"), "If-None-Match": etag}
        )
    )
    await served.hub.until_waiting(1)
    assert not waiting.done()
    await served.poll()
    woken = await waiting
    assert woken.status == 200 and woken.headers["ETag"] != etag
    assert await woken.text() == to_json(served.hub.snapshot)  # type: ignore[arg-type]
    assert json.loads(await woken.text())["poll"]["number"] == json.loads(await first.text())["poll"]["number"] + 1

    # An ETag of an older poll gets the newest at once, waiting or not.
    stale = await served.client.get(
        "/api/v1/snapshot", params={"wait": "60"}, headers={**served.bearer("monitor"), "If-None-Match": etag}
    )
    assert stale.status == 200 and stale.headers["ETag"] == woken.headers["ETag"]
    for bad in ("61", "-1", "soon", "nan"):
        refused = await served.client.get("/api/v1/snapshot", params={"wait": bad}, headers=served.bearer("monitor"))
        assert refused.status == 400 and (await refused.json())["code"] == "bad_request"


async def test_a_revoked_session_waiting_gets_401_not_the_next_poll(served: Served) -> None:
    await served.poll()
    first = await served.client.get("/api/v1/fleet", headers=served.bearer("user"))
    waiting = asyncio.create_task(
        served.client.get(
            "/api/v1/fleet",
            params={"wait": "60"},
            headers={**served.bearer("user"), "If-None-Match": first.headers["ETag"]},
        )
    )
    await served.hub.until_waiting(1)
    logout = await served.client.post("/api/v1/auth/logout", headers=served.bearer("user"))
    assert logout.status == 200 and (await logout.json())["username"] == "uma"
    await served.poll()
    answer = await waiting
    assert answer.status == 401 and b"accounts" not in await answer.read()


async def test_gzip_when_asked(served: Served) -> None:
    await served.poll()
    plain = await served.client.get(
        "/api/v1/snapshot", headers={**served.bearer("admin"), "Accept-Encoding": "identity"}
    )
    assert "Content-Encoding" not in plain.headers
    zipped = await served.client.get(
        "/api/v1/snapshot", headers={**served.bearer("admin"), "Accept-Encoding": "gzip"}, auto_decompress=False
    )
    raw = await zipped.read()
    assert zipped.headers["Content-Encoding"] == "gzip" and len(raw) < len(await plain.read()) / 3
    assert gzip.decompress(raw).decode() == await plain.text()
    assert zipped.headers["ETag"] == plain.headers["ETag"] and "Accept-Encoding" in zipped.headers["Vary"]


async def test_fleet_is_the_wire_format_of_the_scoped_snapshot(served: Served) -> None:
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None
    response = await served.client.get("/api/v1/fleet", headers=served.bearer("admin"))
    assert response.content_type == MEDIA_TYPE_FLEET
    assert decode_fleet(await response.read()) == snapshot
    response = await served.client.get("/api/v1/fleet", headers=served.bearer("user"))
    assert decode_fleet(await response.read()) == scoped(snapshot, frozenset({PAYMENTS}))


async def test_refresh_is_for_admins_and_polls_now(served: Served) -> None:
    await served.poll()
    for who in ("monitor", "user"):
        refused = await served.client.post("/api/v1/refresh", headers=served.bearer(who))
        assert refused.status == 403 and (await refused.json())["code"] == "forbidden"
    assert served.hub.generation == 1
    response = await served.client.post("/api/v1/refresh", headers=served.bearer("admin"))
    assert response.status == 202 and (await response.json())["started"] is True
    await served.scheduler.drain()
    assert served.hub.generation == 2


async def test_service_detail_human_json_and_wire_format(served: Served) -> None:
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None
    account = snapshot.account(PAYMENTS)
    assert account is not None
    region, cluster, service = next((r, c, s) for r, c, s in account.services() if s.metrics.cpu_average)
    path = f"/api/v1/accounts/{PAYMENTS}/regions/{region.region}/clusters/{cluster.name}/services/{service.name}"
    served.aws.reset_stats()
    response = await served.client.get(path, headers=served.bearer("user"))
    assert response.status == 200 and aws_calls(served.aws) == 0  # from the last poll, no AWS call
    body = await response.json()
    assert body["service"] == json.loads(
        json.dumps(service_dict(service, snapshot.generated_at, region.metrics_fetched_at))
    )
    assert body["history"]["cpu_average"]["timestamps"] == service.metrics.cpu_average.timestamps.tolist()
    assert body["detail"] is None and body["cluster_arn"] == cluster.arn
    with_tasks = await (await served.client.get(path, params={"tasks": "1"}, headers=served.bearer("user"))).json()
    assert with_tasks["detail"]["tasks"] and with_tasks["detail"]["service_name"] == service.name
    wire = await served.client.get(path, headers={**served.bearer("monitor"), "Accept": MEDIA_TYPE_DETAIL})
    detail = decode_detail(await wire.read())
    assert detail.service_name == service.name and detail.cluster_arn == cluster.arn and detail.tasks
    missing = await served.client.get(path + "-gone", headers=served.bearer("user"))
    assert missing.status == 404 and (await missing.json())["code"] == "not_found"
