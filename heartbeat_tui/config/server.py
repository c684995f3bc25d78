"""`[server]`, `[serve]` and `[web]`: where a shared `heartbeat serve` is, and who
may stand in front of one. Kept together because they share the rule for a
server's URL (tokens travel to it: https, or http to this machine only) and the
check of the proxies whose `X-Forwarded-For` is believed."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from heartbeat_tui.config.base import _Section


def server_url_problem(url: str, insecure_http: bool = False) -> str | None:
    """Why `url` cannot be a HeartBeat server's address (None: it can).

    Tokens and passwords travel to it, so plain http is for loopback only
    (or behind a TLS-terminating proxy, said explicitly with `insecure_http`)."""

    from ipaddress import ip_address
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if not url.isascii():
        return "must be ASCII (an international host name in its xn-- form)"
    if parts.scheme not in ("http", "https") or not host or any(ch.isspace() for ch in url):
        return f"must be an http(s) URL such as 'https://heartbeat.example.com' (got {url!r})"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    if parts.scheme == "http" and not insecure_http:
        try:
            loopback = ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            return (
                f"{url!r} is plain http to a host that is not this machine: use https"
                " (or set [server].insecure_http = true behind a TLS-terminating proxy)"
            )
    return None


class ServerSection(_Section):
    """A shared `heartbeat serve` to use instead of AWS and DynamoDB (`--server`, `HEARTBEAT_SERVER`)."""

    insecure_http: bool = False  # declared first: the url's check reads it
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            problem = server_url_problem(value, bool(info.data.get("insecure_http")))
            if problem:
                raise ValueError(problem)
            return value.rstrip("/")
        return value


def _trusted_proxies(value: tuple[str, ...]) -> tuple[str, ...]:
    """Each entry an address or a network (CIDR); checked once, here."""

    from ipaddress import ip_network

    for entry in value:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry[:60]!r} is not an IP address or network (such as 10.0.0.0/8)") from None
    return value


TrustedProxies = Annotated[tuple[str, ...], AfterValidator(_trusted_proxies)]


class ServeSection(_Section):
    """`heartbeat serve`: the proxies whose `X-Forwarded-For` names the client (the audit, the access log)."""

    trusted_proxies: TrustedProxies = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class WebSection(_Section):
    """`heartbeat web`: the browser front (its flags override these)."""

    listen: str = "127.0.0.1:8788"
    public_url: str | None = None
    max_sessions: int = Field(default=20, ge=1, le=1000)
    trusted_proxies: TrustedProxies = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value
