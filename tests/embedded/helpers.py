"""Constants and helpers shared by the embedded AWS tests."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

HUB = "123456789012"
PAYMENTS = "210987654321"
CHECKOUT = "345678901234"
DATA = "456789012345"
DENIED = "567890123456"
MEMBERS = (PAYMENTS, CHECKOUT, DATA)

#: One attempt, short timeouts: a fault must show up as the error it is.
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=20)


def services_of(fleet: dict[str, Any], kind: str | None = None) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(account, region, cluster, service, info) of the seeded services, optionally of one kind."""
    found = []
    for account in fleet["accounts"]:
        for region, clusters in account["regions"].items():
            for cluster, data in clusters.items():
                for name, info in data["services"].items():
                    if kind is None or info["kind"] == kind:
                        found.append((account["id"], region, cluster, name, info))
    return found
