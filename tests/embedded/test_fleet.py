"""FleetSpec: the demo fleet's shape, determinism, serialisation, configuration."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from heartbeat_tui.embedded import AccountSpec, ClusterSpec, FleetSpec, RegionSpec
from heartbeat_tui.embedded.seeding import plan_fleet
from heartbeat_tui.embedded.state import ServiceKind

from .helpers import DENIED, HUB, MEMBERS, PAYMENTS


def test_demo_fleet_shape() -> None:
    fleet = FleetSpec.demo()
    assert fleet.hub_account == HUB
    assert {a.id for a in fleet.accounts} == {HUB, *MEMBERS, DENIED}
    aliases = {a.id: a.alias for a in fleet.accounts}
    assert aliases[HUB] == "shared-services" and aliases[PAYMENTS] == "payments-prod"
    assert aliases[DENIED] == "legacy-billing"
    assert [a.id for a in fleet.accounts if a.deny_assume_role] == [DENIED]
    payments = next(a for a in fleet.accounts if a.id == PAYMENTS)
    assert [r.region for r in payments.regions] == ["us-east-1", "eu-west-1"]
    core = next(c for c in payments.regions[0].clusters if c.name == "payments-core")
    assert len(core.services) == 130
    assert fleet.cluster_count() >= 8
    assert fleet.service_count() >= 150
    hub = fleet.hub
    assert hub is not None and hub.regions[0].region == "us-west-2"


def test_names_are_words_and_unique() -> None:
    fleet = FleetSpec.demo()
    names = [n for a in fleet.accounts for r in a.regions for c in r.clusters for n in c.services]
    assert len(names) == len(set(names))
    assert all(n.count("-") == 1 and n.replace("-", "").isalpha() for n in names)


def test_same_seed_same_fleet_other_seed_other_fleet() -> None:
    assert FleetSpec.demo() == FleetSpec.demo()
    assert FleetSpec.demo(seed=8) != FleetSpec.demo()
    assert plan_fleet(FleetSpec.demo()) == plan_fleet(FleetSpec.demo())


def test_plan_has_every_state_outside_the_denied_account() -> None:
    plans = plan_fleet(FleetSpec.demo())
    reachable = [p for key, p in plans.items() if key[0] != DENIED]
    kinds = {p.kind for p in reachable}
    assert kinds == set(ServiceKind)
    assert sum(p.kind is ServiceKind.FAILING for p in reachable) >= 1
    assert sum(p.kind is ServiceKind.DRAINING for p in reachable) <= 3  # rare
    assert sum(p.hot for p in reachable) >= 2 and sum(p.warm for p in reachable) >= 3


def test_json_round_trip() -> None:
    fleet = FleetSpec(
        accounts=(
            AccountSpec(
                id="111111111111", alias="a", regions=(RegionSpec("us-east-1", (ClusterSpec("c", ("x-api",)),)),)
            ),
            AccountSpec(id="222222222222", alias="b", regions=(), external_id="ext", deny_assume_role=True),
        ),
        hub_account="111111111111",
        history_minutes=30,
        seed=3,
    )
    assert FleetSpec.from_json(fleet.to_json()) == fleet
    assert FleetSpec.from_json(FleetSpec.demo().to_json()) == FleetSpec.demo()


def test_invalid_specs_are_rejected() -> None:
    with pytest.raises(ValueError):
        FleetSpec(accounts=(AccountSpec(id="12", alias="x", regions=()),))
    with pytest.raises(ValueError):
        ClusterSpec("c", ("a-api", "a-api"))


def test_benchmark_fleet() -> None:
    fleet = FleetSpec.benchmark()
    assert len(fleet.accounts) == 3
    assert fleet.cluster_count() == 3 * 2 * 4
    assert fleet.service_count() == 3 * 2 * 4 * 100
    assert all(len(c.services) == 100 for a in fleet.accounts for r in a.regions for c in r.clusters)
    assert fleet.hub is None  # every benchmark account is reached by AssumeRole


def test_config_dict_is_shaped_like_the_toml_config() -> None:
    config = FleetSpec.demo().config_dict("http://127.0.0.1:1234")
    assert config["aws"] == {"region": "us-west-2", "endpoint_url": "http://127.0.0.1:1234"}
    by_id = {a["id"]: a for a in config["accounts"]}
    assert set(by_id) == {HUB, *MEMBERS, DENIED}
    assert by_id[HUB] == {"id": HUB, "alias": "shared-services", "regions": ["us-west-2"]}
    for member in (*MEMBERS, DENIED):
        assert by_id[member]["role_arn"] == f"arn:aws:iam::{member}:role/HeartbeatReader"
        assert "alias" not in by_id[member]  # read with IAM ListAccountAliases
    assert by_id[PAYMENTS]["regions"] == ["us-east-1", "eu-west-1"]


def test_no_embedded_module_imports_textual_or_rich() -> None:
    package = Path(__file__).resolve().parents[2] / "heartbeat_tui" / "embedded"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"textual", "rich"}, f"{path.name} imports {name}"
