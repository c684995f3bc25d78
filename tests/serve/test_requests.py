"""What the API refuses, and how: bodies over the cap (413), unknown or missing
fields (422), not JSON (400), unknown routes and methods; always JSON
`{"error", "code"}`, one line, never a traceback. And user administration with
the CLI's operations, validation and last-admin guard."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from heartbeat_tui.serve.http import MAX_BODY_BYTES
from tests.serve.conftest import HUB, PAYMENTS, Served
from tests.support.auth import ADMIN, PASSWORD


async def check_error(response, status: int, code: str, *fragments: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error", "code"} and body["code"] == code
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    for fragment in fragments:
        assert fragment in body["error"], body
    return str(body["error"])


async def test_bodies_over_64_kib_are_413_with_or_without_a_length(served: Served) -> None:
    big = json.dumps({"username": "uma", "password": "x" * MAX_BODY_BYTES}).encode()
    response = await served.client.post("/api/v1/auth/login", data=big, headers={"Content-Type": "application/json"})
    await check_error(response, 413, "too_large", "64 KiB")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    response = await served.client.post("/api/v1/users", data=chunks(), headers=served.bearer("admin"))
    await check_error(response, 413, "too_large")
    fits = json.dumps({"username": "uma", "password": PASSWORD}).encode()
    assert (await served.client.post("/api/v1/auth/login", data=fits)).status == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        ({"username": "uma", "password": PASSWORD, "remember": True}, 422, "invalid", "unknown field 'remember'"),
        ({"username": "uma"}, 422, "invalid", "missing field 'password'"),
        ({"username": "uma", "password": 12345678}, 422, "invalid", "field 'password'"),
        ([1, 2], 400, "bad_request", "not a JSON object"),
        ("{not json", 400, "bad_request", "not JSON"),
    ],
)
async def test_login_bodies_refused(served: Served, body: object, status: int, code: str, fragment: str) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response = await served.client.post("/api/v1/auth/login", data=data)
    message = await check_error(response, status, code, fragment)
    assert "12345678" not in message  # a value (a password) is never echoed


async def test_routes_methods_and_query_parameters(served: Served) -> None:
    await served.poll()
    await check_error(await served.client.get("/api/v2/snapshot"), 404, "not_found")
    response = await served.client.delete("/api/v1/snapshot", headers=served.bearer("admin"))
    await check_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    response = await served.client.get("/api/v1/snapshot", params={"acount": "x"}, headers=served.bearer("admin"))
    await check_error(response, 400, "bad_request", "unknown query parameter 'acount'")
    response = await served.client.get("/api/v1/snapshot?cluster=a&cluster=b", headers=served.bearer("admin"))
    await check_error(response, 400, "bad_request", "twice")
    response = await served.client.post("/api/v1/refresh", json={"full": True}, headers=served.bearer("admin"))
    await check_error(response, 422, "invalid", "unknown field 'full'")


async def test_user_administration_is_the_clis(served: Served) -> None:
    admin = served.bearer("admin")
    created = await served.client.post(
        "/api/v1/users",
        json={"username": "carol", "password": PASSWORD, "role": "user", "accounts": f"{PAYMENTS},{HUB}"},
        headers=admin,
    )
    assert created.status == 201
    view = await created.json()
    assert (
        view["username"] == "carol" and sorted(view["accounts"]) == sorted([PAYMENTS, HUB]) and view["active"] is True
    )
    again = await served.client.post(
        "/api/v1/users", json={"username": "carol", "password": PASSWORD, "role": "user"}, headers=admin
    )
    await check_error(again, 409, "conflict", "already exists")
    weak = await served.client.post(
        "/api/v1/users", json={"username": "dave", "password": "short", "role": "user"}, headers=admin
    )
    await check_error(weak, 422, "invalid", "password")
    role = await served.client.post(
        "/api/v1/users", json={"username": "dave", "password": PASSWORD, "role": "owner"}, headers=admin
    )
    await check_error(role, 422, "invalid", "role")
    await check_error(await served.client.get("/api/v1/users/ghost", headers=admin), 404, "not_found", "ghost")

    listed = await (await served.client.get("/api/v1/users", headers=admin)).json()
    assert {u["username"] for u in listed} == {ADMIN, "mona", "uma", "nobody", "carol"}
    changed = await served.client.post("/api/v1/users/carol/accounts", json={"accounts": [PAYMENTS]}, headers=admin)
    assert (await changed.json())["accounts"] == [PAYMENTS]
    promoted = await served.client.post("/api/v1/users/carol/role", json={"role": "monitor"}, headers=admin)
    assert (await promoted.json())["role"] == "monitor"
    updated = await served.client.patch("/api/v1/users/carol", json={"email": "carol@example.com"}, headers=admin)
    assert (await updated.json())["email"] == "carol@example.com"
    await check_error(await served.client.patch("/api/v1/users/carol", json={}, headers=admin), 422, "invalid")
    reset = await served.client.post("/api/v1/users/carol/password", json={"password": PASSWORD + "!"}, headers=admin)
    assert reset.status == 200
    assert (await served.client.post("/api/v1/users/carol/unlock", headers=admin)).status == 200
    disabled = await served.client.post("/api/v1/users/carol/disable", headers=admin)
    assert (await disabled.json())["active"] is False
    assert (await (await served.client.post("/api/v1/users/carol/enable", headers=admin)).json())["active"] is True
    await check_error(await served.client.post("/api/v1/users/carol/promote", headers=admin), 404, "not_found")

    # The last active admin cannot be disabled or demoted: the CLI's guard, the same message.
    last = await served.client.post(f"/api/v1/users/{ADMIN}/disable", headers=admin)
    await check_error(last, 409, "conflict", "last active admin")
    demote = await served.client.post(f"/api/v1/users/{ADMIN}/role", json={"role": "user"}, headers=admin)
    await check_error(demote, 409, "conflict", "last active admin")
    assert (await served.client.get("/api/v1/auth/me", headers=admin)).status == 200
