"""Sessions over HTTP: the CLI's logins, tokens checked on every request, and
role scoping in every endpoint (a `user` never learns of another account)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time

import jwt
import pytest

from heartbeat_tui.auth.errors import LOGIN_FAILED
from heartbeat_tui.auth.roles import Role
from heartbeat_tui.auth.tokens import TokenCodec, audience_for
from heartbeat_tui.fleetwire import decode_fleet
from heartbeat_tui.serve.app import SESSIONS
from heartbeat_tui.serve.errors import UNAUTHORIZED
from heartbeat_tui.serve.sessions import SESSION_CACHE_SECONDS, SESSION_RECHECK_SECONDS
from tests.serve.conftest import HUB, PAYMENTS, Served
from tests.support.auth import PASSWORD

UNKNOWN_ACCOUNT = "999999999999"


def codec(served: Served, secret: str | None = None) -> TokenCodec:
    env = served.config.env
    assert env.jwt_secret is not None
    return TokenCodec(
        secret or env.jwt_secret.get_secret_value(), env.jwt_algorithm, audience_for(served.config.users_table)
    )


async def service_path(served: Served, account_id: str) -> str:
    snapshot = served.hub.snapshot
    assert snapshot is not None
    account = snapshot.account(account_id)
    assert account is not None
    region, cluster, service = next(iter(account.services()))
    return f"/api/v1/accounts/{account_id}/regions/{region.region}/clusters/{cluster.name}/services/{service.name}"


async def test_login_me_and_one_generic_401(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    response = await served.client.post("/api/v1/auth/login", json={"username": "uma", "password": PASSWORD})
    body = await response.json()
    assert response.status == 200 and body["role"] == "user" and body["expires_at"].endswith("Z")
    assert response.headers["Cache-Control"] == "no-store"
    me = await served.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert await me.json() == {
        "username": "uma",
        "role": "user",
        "accounts": [PAYMENTS],
        "all_accounts": False,
        "issued_at": (await me.json())["issued_at"],
        "expires_at": body["expires_at"],
        "email": None,
        "full_name": None,
        "last_login_at": (await me.json())["last_login_at"],
    }  # exactly `heartbeat whoami --format json`'s shape
    with caplog.at_level(logging.INFO, logger="heartbeat.audit"):
        answers = [
            await served.client.post("/api/v1/auth/login", json={"username": name, "password": password})
            for name, password in (("uma", "wrong password!"), ("ghost", PASSWORD), ("bad name\n", PASSWORD))
        ]
    for answer in answers:
        assert answer.status == 401 and await answer.json() == {"error": LOGIN_FAILED, "code": "unauthorized"}
    failures = [r.getMessage() for r in caplog.records if "outcome=failure" in r.getMessage()]
    assert len(failures) == 3 and all("client=127.0.0.1" in line for line in failures), failures
    stored = [r for r in await served.auth.store.audit_records() if r.get("outcome") == "failure"]
    assert len(stored) == 3 and {r.get("client") for r in stored} == {"127.0.0.1"}


async def test_forged_expired_and_revoked_tokens_get_401(served: Served) -> None:
    await served.poll()
    now = time.time()
    expired, _ = codec(served).issue("uma", Role.USER, now - 13 * 3600, 12 * 3600)
    forged, _ = codec(served, "another secret that is long enough for HS256 tokens").issue(
        "root-admin", Role.ADMIN, now, 3600
    )
    genuine = served.tokens["user"]
    header, _, signature = genuine.split(".")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    promoted = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{promoted}.{signature}"
    unsigned = jwt.encode({**claims, "role": "admin"}, key=None, algorithm="none")

    revoked = await served.login("mona")
    assert (await served.client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {revoked}"})).ok

    disabled = await served.login("nobody")
    answer = await served.client.post("/api/v1/users/nobody/disable", headers=served.bearer("admin"))
    assert answer.status == 200

    paths = [
        "/api/v1/snapshot",
        "/api/v1/fleet",
        "/api/v1/auth/me",
        "/api/v1/users",
        await service_path(served, PAYMENTS),
    ]
    for token in (expired, forged, tampered, unsigned, revoked, disabled, "", "garbage", "x" * 5000):
        for path in paths:
            response = await served.client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status == 401, (token[:20], path)
            assert await response.json() == {"error": UNAUTHORIZED, "code": "unauthorized"}
            assert response.headers["WWW-Authenticate"] == "Bearer"
    for headers in ({}, {"Authorization": genuine}, {"Authorization": f"Basic {genuine}"}):
        response = await served.client.get("/api/v1/snapshot", headers=headers)
        assert response.status == 401
    assert (await served.client.get("/api/v1/snapshot", headers=served.bearer("user"))).status == 200


async def test_role_scoping_in_every_endpoint(served: Served) -> None:
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None and snapshot.account(HUB) is not None
    as_user, as_nobody = served.bearer("user"), served.bearer("nobody")

    data = await (await served.client.get("/api/v1/snapshot", headers=as_user)).json()
    assert [a["id"] for a in data["accounts"]] == [PAYMENTS]
    assert (await (await served.client.get("/api/v1/snapshot", headers=as_nobody)).json())["accounts"] == []
    everyone = await (await served.client.get("/api/v1/snapshot", headers=served.bearer("monitor"))).json()
    assert {a["id"] for a in everyone["accounts"]} == {a.id for a in snapshot.accounts}

    fleet = decode_fleet(await (await served.client.get("/api/v1/fleet", headers=as_user)).read())
    assert [a.id for a in fleet.accounts] == [PAYMENTS]
    assert decode_fleet(await (await served.client.get("/api/v1/fleet", headers=as_nobody)).read()).accounts == ()

    # Outside the allow-list reads exactly as an account that does not exist.
    hidden = await served.client.get("/api/v1/snapshot", params={"account": HUB}, headers=as_user)
    absent = await served.client.get("/api/v1/snapshot", params={"account": UNKNOWN_ACCOUNT}, headers=as_user)
    assert hidden.status == absent.status == 404
    assert (await hidden.json())["error"].replace(HUB, "X") == (await absent.json())["error"].replace(
        UNKNOWN_ACCOUNT, "X"
    )
    glob = await (await served.client.get("/api/v1/snapshot", params={"account": "*"}, headers=as_user)).json()
    assert [a["id"] for a in glob["accounts"]] == [PAYMENTS]

    hub_service = await service_path(served, HUB)
    hidden = await served.client.get(hub_service, headers=as_user)
    absent = await served.client.get(hub_service.replace(HUB, UNKNOWN_ACCOUNT), headers=as_user)
    assert hidden.status == absent.status == 404
    assert (await hidden.json())["error"].replace(HUB, "X") == (await absent.json())["error"].replace(
        UNKNOWN_ACCOUNT, "X"
    )
    assert (await served.client.get(hub_service, headers=served.bearer("monitor"))).status == 200
    assert (await served.client.get(await service_path(served, PAYMENTS), headers=as_user)).status == 200

    for who in ("user", "monitor"):
        for method, path, body in (
            ("GET", "/api/v1/users", None),
            ("GET", "/api/v1/users/uma", None),
            ("POST", "/api/v1/users", {"username": "eve", "password": PASSWORD, "role": "admin"}),
            ("POST", "/api/v1/users/uma/accounts", {"accounts": [HUB, PAYMENTS]}),
            ("POST", "/api/v1/users/uma/role", {"role": "admin"}),
            ("POST", "/api/v1/refresh", None),
        ):
            response = await served.client.request(method, path, json=body, headers=served.bearer(who))
            assert response.status == 403 and (await response.json())["code"] == "forbidden", (who, path)
    me = await (await served.client.get("/api/v1/users/uma", headers=served.bearer("admin"))).json()
    assert me["accounts"] == [PAYMENTS] and me["role"] == "user"


async def test_a_revocation_made_elsewhere_holds_within_the_cache_bound(served: Served) -> None:
    await served.poll()
    token = await served.login("uma")
    mine = {"Authorization": f"Bearer {token}"}
    assert (await served.client.get("/api/v1/snapshot", headers=mine)).status == 200
    assert await served.auth.logout(token) == "uma"  # the CLI, or another server: not through this one
    assert (await served.client.get("/api/v1/snapshot", headers=mine)).status == 200
    served.scheduler.advance(SESSION_CACHE_SECONDS + 0.5)
    assert (await served.client.get("/api/v1/snapshot", headers=mine)).status == 401

    # Through this server, at once: a logout, and user administration.
    other = await served.login("mona")
    theirs = {"Authorization": f"Bearer {other}"}
    assert (await served.client.get("/api/v1/fleet", headers=theirs)).status == 200
    assert (
        await served.client.post("/api/v1/users/mona/role", json={"role": "user"}, headers=served.bearer("admin"))
    ).ok
    assert (await served.client.get("/api/v1/fleet", headers=theirs)).status == 401


async def test_clients_sharing_a_token_cost_the_store_one_check(served: Served) -> None:
    def store_calls() -> int:
        return sum(row["count"] for row in served.aws.stats() if row["service"] == "dynamodb")

    await served.poll()  # the fleet answers (not "starting") only after a poll
    alone = {"Authorization": f"Bearer {await served.login('mona')}"}
    served.aws.reset_stats()
    assert (await served.client.get("/api/v1/fleet", headers=alone)).status == 200
    one = store_calls()
    shared = {"Authorization": f"Bearer {await served.login('mona')}"}
    served.aws.reset_stats()
    answers = await asyncio.gather(*(served.client.get("/api/v1/fleet", headers=shared) for _ in range(20)))
    assert [a.status for a in answers] == [200] * 20
    assert store_calls() == one > 0


async def test_a_token_in_use_is_checked_again_before_its_clients_would_wait(served: Served) -> None:
    def store_calls() -> int:
        return sum(row["count"] for row in served.aws.stats() if row["service"] == "dynamodb")

    sessions = served.client.app[SESSIONS]
    await served.poll()
    mine = {"Authorization": f"Bearer {await served.login('mona')}"}
    assert (await served.client.get("/api/v1/fleet", headers=mine)).status == 200  # checked by the store
    served.aws.reset_stats()
    assert (await served.client.get("/api/v1/fleet", headers=mine)).status == 200
    assert store_calls() == 0  # kept

    # Past the re-check age: answered from what was kept (within the bound), and checked again meanwhile.
    served.scheduler.advance(SESSION_RECHECK_SECONDS + 0.5)
    assert (await served.client.get("/api/v1/fleet", headers=mine)).status == 200
    await sessions.settled()
    rechecked = store_calls()
    assert rechecked > 0
    # The bound now counts from the re-check: past the first check's 5 s, nobody waits for the store.
    served.scheduler.advance(SESSION_CACHE_SECONDS - SESSION_RECHECK_SECONDS)
    assert (await served.client.get("/api/v1/fleet", headers=mine)).status == 200
    assert store_calls() == rechecked

    # A revocation made elsewhere, found by such a re-check: the next request is refused,
    # before the 5 s bound of what was kept.
    token = await served.login("uma")
    theirs = {"Authorization": f"Bearer {token}"}
    assert (await served.client.get("/api/v1/fleet", headers=theirs)).status == 200
    assert await served.auth.logout(token) == "uma"
    served.scheduler.advance(SESSION_RECHECK_SECONDS + 0.5)
    assert (await served.client.get("/api/v1/fleet", headers=theirs)).status == 200  # within the bound
    await sessions.settled()
    refused = await served.client.get("/api/v1/fleet", headers=theirs)
    assert refused.status == 401 and (await refused.json())["error"] == UNAUTHORIZED
