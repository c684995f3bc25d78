"""Which client a request came from (serve/forwarded.py), as `heartbeat serve`'s
audit and access log and `heartbeat web`'s sessions see it."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from heartbeat_tui.auth.audit import client_address
from heartbeat_tui.config import ConfigError, config_from_dict
from heartbeat_tui.serve.errors import TRUSTED, json_errors
from heartbeat_tui.serve.forwarded import LOOPBACK, TrustedProxies


@pytest.mark.parametrize(
    ("trusted", "peer", "header", "client"),
    [
        ((), "198.51.100.4", ["203.0.113.7"], "198.51.100.4"),  # nobody trusted: the header is anyone's
        (("10.0.0.0/8",), "198.51.100.4", ["203.0.113.7"], "198.51.100.4"),  # not from a proxy
        (("10.0.0.0/8",), "10.1.2.3", ["203.0.113.7"], "203.0.113.7"),
        (("10.0.0.0/8",), "10.1.2.3", [], "10.1.2.3"),  # a proxy that says nothing
        # The client wrote its own X-Forwarded-For: only what our proxies appended counts.
        (("10.0.0.0/8",), "10.1.2.3", ["6.6.6.6, 203.0.113.7"], "203.0.113.7"),
        # Two proxies of ours in a row: the nearest untrusted hop.
        (("10.0.0.0/8",), "10.1.2.3", ["6.6.6.6, 203.0.113.7, 10.9.9.9"], "203.0.113.7"),
        (("10.0.0.0/8",), "10.1.2.3", ["6.6.6.6", "203.0.113.7"], "203.0.113.7"),  # two header lines
        (("10.0.0.0/8",), "10.1.2.3", ["garbage"], "10.1.2.3"),
        (LOOPBACK, "::ffff:127.0.0.1", ["2001:db8::1"], "2001:db8::1"),  # a dual-stack socket's loopback
        (("2001:db8::/32",), "2001:db8::5", ["192.0.2.9"], "192.0.2.9"),
    ],
)
def test_the_client_is_the_nearest_hop_that_is_not_a_trusted_proxy(trusted, peer, header, client) -> None:
    assert TrustedProxies(trusted).client(peer, header) == client


def test_trusted_proxies_are_checked_where_they_are_configured() -> None:
    config = config_from_dict({"serve": {"trusted_proxies": ["10.0.0.0/8", "::1"]}, "web": {"trusted_proxies": []}})
    assert config.file.serve.trusted_proxies == ("10.0.0.0/8", "::1")
    with pytest.raises(ConfigError, match=r"serve.trusted_proxies.*'10.0.0.300'"):
        config_from_dict({"serve": {"trusted_proxies": ["10.0.0.300"]}})


async def _audited_client(trusted: TrustedProxies | None, headers: dict[str, str]) -> str:
    """What the audit log would name as the client of one request through serve's middleware."""

    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(client_address.get())
        return web.Response(text="ok")

    app = web.Application(middlewares=[json_errors])
    if trusted is not None:
        app[TRUSTED] = trusted
    app.router.add_get("/", handler)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
        http.get(server.make_url("/"), headers=headers) as answer,
    ):
        assert answer.status == 200
    return str(seen[0])


async def test_serve_believes_x_forwarded_for_only_from_a_trusted_proxy() -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    assert await _audited_client(None, forwarded) == "127.0.0.1"
    assert await _audited_client(TrustedProxies(), forwarded) == "127.0.0.1"
    assert await _audited_client(TrustedProxies(["10.0.0.0/8"]), forwarded) == "127.0.0.1"
    assert await _audited_client(TrustedProxies(LOOPBACK), forwarded) == "203.0.113.7"
    assert await _audited_client(TrustedProxies(LOOPBACK), {}) == "127.0.0.1"
