"""The fleet the embedded AWS seeds: accounts, regions, clusters and service names.

A :class:`FleetSpec` is plain, frozen data.  It is built in the parent (the
demo, a test, a benchmark), serialised to JSON and handed to the child process,
which seeds moto and the simulator from it.  Everything that is *not* named here
(which service is deploying, failing, hot, ...) is chosen by the child from
``FleetSpec.seed``, so the same spec always yields the same fleet.

This module must stay importable without moto (the parent never imports moto).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import Any

#: moto's default account: requests signed with unknown (base) credentials act here.
DEFAULT_HUB_ACCOUNT = "123456789012"

#: The role every member account trusts the hub to assume.
DEFAULT_ROLE_NAME = "HeartbeatReader"

# Service names are ``<domain>-<component>``.  Real fleets look like this, and a
# word list keeps names readable and deterministic (no random strings).
DOMAINS: tuple[str, ...] = (
    "payments",
    "checkout",
    "ledger",
    "billing",
    "orders",
    "inventory",
    "catalog",
    "search",
    "pricing",
    "shipping",
    "identity",
    "auth",
    "profile",
    "cart",
    "notifications",
    "email",
    "reports",
    "analytics",
    "ingest",
    "fraud",
    "risk",
    "refunds",
    "invoices",
    "loyalty",
    "promotions",
    "reviews",
    "recommendations",
    "media",
    "gateway",
    "audit",
    "settlement",
    "tax",
    "customer",
    "partner",
)
COMPONENTS: tuple[str, ...] = (
    "api",
    "worker",
    "consumer",
    "scheduler",
    "web",
    "admin",
    "sync",
    "exporter",
    "importer",
    "processor",
    "cache",
    "router",
    "webhooks",
    "reconciler",
    "indexer",
    "notifier",
    "backend",
    "frontend",
    "batch",
    "stream",
    "ledger",
    "gateway",
)


@dataclass(frozen=True)
class ClusterSpec:
    """One ECS cluster and the names of the services seeded in it."""

    name: str
    services: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.services)) != len(self.services):
            raise ValueError(f"cluster {self.name}: duplicate service names")


@dataclass(frozen=True)
class RegionSpec:
    """The clusters of one account in one region."""

    region: str
    clusters: tuple[ClusterSpec, ...]


@dataclass(frozen=True)
class AccountSpec:
    """An AWS account of the fleet.

    ``deny_assume_role`` makes every AssumeRole into this account fail with
    AccessDenied (a misconfigured trust policy, as seen in real organisations).
    ``external_id``, when set, must be passed by AssumeRole.
    """

    id: str
    alias: str
    regions: tuple[RegionSpec, ...]
    role_name: str = DEFAULT_ROLE_NAME
    external_id: str | None = None
    deny_assume_role: bool = False
    # Where the account sits in the hub's organization ("" : the root) and its tags there.
    ou: str = ""
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.id}:role/{self.role_name}"


@dataclass(frozen=True)
class FleetSpec:
    """The whole seeded fleet.  ``hub_account`` is where base credentials act."""

    accounts: tuple[AccountSpec, ...]
    hub_account: str = DEFAULT_HUB_ACCOUNT
    history_minutes: int = 180
    seed: int = 7

    def __post_init__(self) -> None:
        ids = [a.id for a in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate account ids in FleetSpec")
        for account_id in ids:
            if len(account_id) != 12 or not account_id.isdigit():
                raise ValueError(f"account id must be 12 digits: {account_id!r}")
        if self.history_minutes < 0:
            raise ValueError("history_minutes must be >= 0")

    # -- views -------------------------------------------------------------

    @property
    def hub(self) -> AccountSpec | None:
        """The hub's AccountSpec, if the hub itself is monitored."""
        return next((a for a in self.accounts if a.id == self.hub_account), None)

    @property
    def members(self) -> tuple[AccountSpec, ...]:
        return tuple(a for a in self.accounts if a.id != self.hub_account)

    def hub_region(self) -> str:
        """The region the hub's clients default to (its first monitored region)."""
        hub = self.hub
        if hub is not None and hub.regions:
            return hub.regions[0].region
        return "us-east-1"

    def cluster_count(self, *, include_denied: bool = False) -> int:
        return sum(
            len(r.clusters) for a in self.accounts if include_denied or not a.deny_assume_role for r in a.regions
        )

    def service_count(self, *, include_denied: bool = False) -> int:
        return sum(
            len(c.services)
            for a in self.accounts
            if include_denied or not a.deny_assume_role
            for r in a.regions
            for c in r.clusters
        )

    def config_dict(self, endpoint_url: str) -> dict[str, Any]:
        """The HeartBeat configuration for this fleet, shaped like the TOML file.

        The hub is monitored with base credentials (no ``role_arn``).  Members
        get their role ARN and no ``alias``: the collector reads the alias with
        IAM ListAccountAliases, exactly as against real AWS.  The denied account
        is included on purpose: the dashboard must show it as an error.
        """
        accounts: list[dict[str, Any]] = []
        for account in self.accounts:
            entry: dict[str, Any] = {"id": account.id}
            if account.id == self.hub_account:
                entry["alias"] = account.alias
            else:
                entry["role_arn"] = account.role_arn
                if account.external_id is not None:
                    entry["external_id"] = account.external_id
            entry["regions"] = [r.region for r in account.regions]
            accounts.append(entry)
        return {
            "aws": {"region": self.hub_region(), "endpoint_url": endpoint_url},
            "accounts": accounts,
        }

    # -- serialisation -----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FleetSpec:
        accounts = tuple(
            AccountSpec(
                id=a["id"],
                alias=a["alias"],
                regions=tuple(
                    RegionSpec(
                        region=r["region"],
                        clusters=tuple(
                            ClusterSpec(name=c["name"], services=tuple(c["services"])) for c in r["clusters"]
                        ),
                    )
                    for r in a["regions"]
                ),
                role_name=a.get("role_name", DEFAULT_ROLE_NAME),
                external_id=a.get("external_id"),
                deny_assume_role=bool(a.get("deny_assume_role", False)),
                ou=str(a.get("ou", "")),
                tags=tuple((str(k), str(v)) for k, v in a.get("tags", ())),
            )
            for a in data["accounts"]
        )
        return cls(
            accounts=accounts,
            hub_account=data.get("hub_account", DEFAULT_HUB_ACCOUNT),
            history_minutes=int(data.get("history_minutes", 180)),
            seed=int(data.get("seed", 7)),
        )

    @classmethod
    def from_json(cls, text: str) -> FleetSpec:
        return cls.from_dict(json.loads(text))

    # -- ready-made fleets -------------------------------------------------

    @classmethod
    def demo(cls, seed: int = 7) -> FleetSpec:
        """The fleet of ``heartbeat demo`` and of the test suite.

        Five accounts: the hub (monitored with base credentials), three members
        reached by AssumeRole, and one member whose AssumeRole is denied. The
        hub is the management account of an organization of all five, in OUs
        and with tags (`[discovery]` finds them).
        Eight clusters and 185 services outside the denied account (which has
        one more cluster of 5); payments-core alone has 130 services so that
        paging is exercised for real.
        """
        names = _NameSource(seed)
        places = {
            "210987654321": ("Workloads/Production", (("team", "payments"), ("env", "prod"))),
            "345678901234": ("Workloads/Staging", (("team", "checkout"), ("env", "staging"))),
            "456789012345": ("Workloads/Production", (("team", "data"), ("env", "prod"))),
            "567890123456": ("Legacy", (("team", "billing"), ("env", "prod"))),
        }
        layout: list[tuple[str, str, list[tuple[str, list[tuple[str, int, tuple[str, ...]]]]], bool]] = [
            (
                "123456789012",
                "shared-services",
                [
                    ("us-west-2", [("platform-tools", 6, ("audit", "gateway", "identity"))]),
                ],
                False,
            ),
            (
                "210987654321",
                "payments-prod",
                [
                    (
                        "us-east-1",
                        [
                            (
                                "payments-core",
                                130,
                                ("payments", "ledger", "settlement", "billing", "refunds", "invoices", "fraud", "risk"),
                            ),
                            ("payments-edge", 8, ("gateway", "partner", "auth")),
                        ],
                    ),
                    ("eu-west-1", [("payments-eu", 10, ("payments", "tax", "settlement"))]),
                ],
                False,
            ),
            (
                "345678901234",
                "checkout-staging",
                [
                    (
                        "us-east-1",
                        [
                            ("checkout", 12, ("checkout", "cart", "pricing", "promotions")),
                            ("checkout-batch", 5, ("reports", "orders")),
                        ],
                    ),
                ],
                False,
            ),
            (
                "456789012345",
                "data-platform",
                [
                    ("us-east-1", [("ingest", 8, ("ingest", "analytics", "media"))]),
                    ("us-west-2", [("analytics", 6, ("analytics", "reports", "search"))]),
                ],
                False,
            ),
            (
                "567890123456",
                "legacy-billing",
                [
                    ("us-east-1", [("billing-legacy", 5, ("billing", "invoices"))]),
                ],
                True,
            ),
        ]
        accounts = []
        for account_id, alias, regions, denied in layout:
            region_specs = []
            for region, clusters in regions:
                cluster_specs = tuple(
                    ClusterSpec(name=name, services=names.take(count, themes)) for name, count, themes in clusters
                )
                region_specs.append(RegionSpec(region=region, clusters=cluster_specs))
            accounts.append(
                AccountSpec(
                    id=account_id,
                    alias=alias,
                    regions=tuple(region_specs),
                    deny_assume_role=denied,
                    ou=places.get(account_id, ("", ()))[0],
                    tags=places.get(account_id, ("", ()))[1],
                )
            )
        return cls(accounts=tuple(accounts), seed=seed)

    @classmethod
    def benchmark(
        cls,
        accounts: int = 3,
        regions: int = 2,
        clusters: int = 4,
        services: int = 100,
        seed: int = 7,
    ) -> FleetSpec:
        """A regular fleet for benchmarks: ``accounts`` members (all reached by
        AssumeRole) x ``regions`` x ``clusters`` x ``services``."""
        if not 1 <= regions <= len(_BENCHMARK_REGIONS):
            raise ValueError(f"regions must be 1..{len(_BENCHMARK_REGIONS)}")
        if services > len(DOMAINS) * len(COMPONENTS):
            raise ValueError("too many services per cluster for the word list")
        names = _NameSource(seed)
        account_specs = []
        for a in range(accounts):
            account_id = f"{100000000001 + a * 1111111111:012d}"
            region_specs = []
            for region in _BENCHMARK_REGIONS[:regions]:
                cluster_specs = tuple(
                    ClusterSpec(
                        name=f"{_CLUSTER_WORDS[c % len(_CLUSTER_WORDS)]}-{c // len(_CLUSTER_WORDS) + 1}",
                        services=names.take(services, (), unique_across_calls=False),
                    )
                    for c in range(clusters)
                )
                region_specs.append(RegionSpec(region=region, clusters=cluster_specs))
            account_specs.append(AccountSpec(id=account_id, alias=f"bench-{a + 1:02d}", regions=tuple(region_specs)))
        return cls(accounts=tuple(account_specs), seed=seed)


_BENCHMARK_REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1")
_CLUSTER_WORDS = ("core", "edge", "batch", "internal", "public", "jobs")


class _NameSource:
    """Deterministic ``<domain>-<component>`` names from the word lists.

    Names are unique across one demo fleet (so a name identifies a service in
    prose and in tests), themed per cluster: themed domains first, then the rest.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"heartbeat-fleet-names:{seed}")
        self._used: set[str] = set()

    def take(self, count: int, themes: tuple[str, ...], *, unique_across_calls: bool = True) -> tuple[str, ...]:
        themed = [f"{d}-{c}" for d in themes for c in COMPONENTS if d != c]
        others = [f"{d}-{c}" for d in DOMAINS if d not in themes for c in COMPONENTS if d != c]
        self._rng.shuffle(themed)
        self._rng.shuffle(others)
        used = self._used if unique_across_calls else set()
        chosen: list[str] = []
        for name in themed + others:
            if len(chosen) == count:
                break
            if name not in used:
                chosen.append(name)
                used.add(name)
        if len(chosen) < count:
            raise ValueError("word list exhausted")
        return tuple(sorted(chosen))


__all__ = [
    "DEFAULT_HUB_ACCOUNT",
    "DEFAULT_ROLE_NAME",
    "AccountSpec",
    "ClusterSpec",
    "FleetSpec",
    "RegionSpec",
]
