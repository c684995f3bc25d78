"""Which client a request came from: the peer, or what a trusted proxy says.

`X-Forwarded-For` is a list anyone can write; only the entries appended by
proxies we trust are believed. Walking it from the right (the nearest hop
first), each hop that is a trusted proxy hands over to the address it names;
the first address that is not a trusted proxy is the client. A peer that is not
a trusted proxy is the client itself, whatever its headers say. Used by
`heartbeat serve` (the audit and the access log) and `heartbeat web` (the
address each browser session's audit records carry).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network
LOOPBACK: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
MAX_HOPS = 16  # a header longer than this is someone's fabrication past our proxies anyway


class TrustedProxies:
    """The configured proxy networks (`[serve]`/`[web]` `trusted_proxies`, `--trusted-proxy`)."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        # Checked by the configuration (or the flag's parser): a bad entry never gets here.
        self.networks: tuple[Network, ...] = tuple(ip_network(entry, strict=False) for entry in entries)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of the address
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:10.0.0.1 from a dual-stack socket
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str | None:
        """The client's address: `peer`, unless it is a trusted proxy; then the
        nearest address in its `X-Forwarded-For` values that is not one."""

        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop][-MAX_HOPS:]
        client = peer
        for hop in reversed(hops):
            if not _is_address(hop):
                break  # not an address: the last good hop stands
            client = hop
            if not self.trusts(hop):
                break
        return client


def _is_address(text: str) -> bool:
    try:
        ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_entries(entries: Iterable[str], flag: str = "--trusted-proxy") -> tuple[str, ...]:
    """`entries` when each is an address or network; the one-line reason otherwise (ValueError)."""

    checked = []
    for entry in entries:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{flag} {entry[:60]!r}: not an IP address or network (such as 10.0.0.0/8)") from None
        checked.append(entry)
    return tuple(checked)


__all__ = ["LOOPBACK", "TrustedProxies", "check_entries"]
