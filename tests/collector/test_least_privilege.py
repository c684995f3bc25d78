"""The IAM policies in SECURITY.md and README.md list exactly the actions HeartBeat
calls: every documented action is called, every call is documented.

The calls are counted by the embedded AWS itself (its request statistics), over
real HTTP, for everything HeartBeat does: polls (the first and an incremental
one), the detail view of a service, its logs, account aliases, `heartbeat doctor`, and for
the users store `heartbeat init`, logins, user administration, session checks,
logout, key rotation."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.collector import Collector
from heartbeat_tui.doctor import run_doctor
from heartbeat_tui.models import LogQuery
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config
from tests.support.configs import PAYMENTS, make_config

ROOT = Path(__file__).resolve().parents[2]
# The service names in IAM actions, by the service names requests are signed with.
IAM_PREFIX = {"monitoring": "cloudwatch"}
STS_WITHOUT_PERMISSION = {"sts:GetCallerIdentity"}  # answered for any valid credentials


def policies(document: Path) -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", document.read_text(), flags=re.DOTALL)
    return [json.loads(block) for block in blocks if '"Statement"' in block]


def actions_of(policy: dict[str, Any], sid: str | None = None) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        if sid is None or statement.get("Sid") == sid:
            assert statement["Effect"] == "Allow"
            found.update(statement["Action"])
    return found


# TransactWriteItems is not an IAM action: each item of the transaction needs the
# permission of its own kind (HeartBeat's: an update and a condition check).
TRANSACTION = {"dynamodb:TransactWriteItems": {"dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}}


def called(aws: Any) -> set[str]:
    calls = {
        f"{IAM_PREFIX.get(row['service'], row['service'])}:{row['operation']}"
        for row in aws.stats()
        if row["count"] > row["faulted"]
    }
    for operation, actions in TRANSACTION.items():
        if operation in calls:
            calls = (calls - {operation}) | actions
    return calls


async def test_the_collectors_policy_is_exactly_what_it_calls(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with Collector(config) as collector:
        snapshot = await collector.poll()
        await collector.poll()  # incremental metrics, known scaling activities
        for account in snapshot.accounts:  # the detail view: tasks and scaling policies
            for region, _, service in list(account.services())[:1]:
                await collector.fetch_service_detail(account.id, region.region, service.cluster_arn, service.name)
                # Its logs, as the logs screen and `heartbeat logs` read them.
                start = snapshot.generated_at - timedelta(minutes=15)
                query = LogQuery(
                    account_id=account.id,
                    region=region.region,
                    cluster_arn=service.cluster_arn,
                    service_name=service.name,
                    start=start,
                )
                await collector.fetch_logs(query)
        payments = snapshot.account(PAYMENTS)
        assert payments is not None
        _, _, service = next(iter(payments.services()))
        await collector.locate_service(PAYMENTS, service.cluster_arn.rsplit("/", 1)[-1], service.name)
    await run_doctor(config)
    calls = called(clean_aws)
    reader = calls - {c for c in calls if c.startswith(("sts:", "dynamodb:"))}
    assert {c for c in calls if c.startswith("sts:")} <= {"sts:AssumeRole"} | STS_WITHOUT_PERMISSION
    assert "sts:AssumeRole" in calls
    for document in ("SECURITY.md", "README.md"):
        documented = [p for p in policies(ROOT / document) if any(a.startswith("ecs:") for a in actions_of(p))]
        assert len(documented) == 1, document
        assert actions_of(documented[0]) == reader, (
            f"{document}: missing {sorted(reader - actions_of(documented[0]))},"
            f" never called {sorted(actions_of(documented[0]) - reader)}"
        )
        assert not any(a.split(":")[1].startswith(("Create", "Update", "Delete", "Put", "Register", "Run", "Stop"))
                       for a in actions_of(documented[0])), "the reader role only reads"  # fmt: skip


async def test_the_users_store_policy_is_exactly_what_it_calls(clean_aws: Any) -> None:
    config = auth_config(clean_aws)
    (store_policy,) = [p for p in policies(ROOT / "SECURITY.md") if "dynamodb:GetItem" in actions_of(p)]
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        clean_aws.reset_stats()
        await auth.store.ensure_tables()  # `heartbeat init`
        init_calls = called(clean_aws)
        clean_aws.reset_stats()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD, email="root@example.com")
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        try:
            await auth.login(ADMIN, "wrong password!!")
        except Exception:  # a failed login is part of the run
            pass
        await auth.create_user(admin, username="carol", password=PASSWORD, role="user", accounts=["345678901234"])
        await auth.list_users(admin)
        await auth.set_role(admin, "carol", "monitor")
        await auth.create_user(admin, username="dave", password=PASSWORD, role="admin")
        await auth.set_role(admin, "dave", "monitor")  # an admin less: the last-admin guard's transaction
        await auth.set_active(admin, "carol", False)
        await auth.unlock(admin, "carol")
        await auth.update_profile(admin, "carol", email="c@example.com")
        await auth.reset_password(admin, "carol", PASSWORD + "!")
        await auth.rotate_keys(admin)
        await auth.check(admin.token)
        await auth.logout(admin.token)
    await run_doctor(config)
    runtime_calls = {c for c in called(clean_aws) if c.startswith("dynamodb:")}
    assert runtime_calls == actions_of(store_policy, "HeartbeatUsersStore"), sorted(runtime_calls)
    assert init_calls - runtime_calls == actions_of(store_policy, "HeartbeatInitOnly"), sorted(init_calls)
    resources = {r for s in store_policy["Statement"] for r in s["Resource"]}
    assert resources == {
        "arn:aws:dynamodb:REGION:ACCOUNT:table/ecs-heartbeat-users",
        "arn:aws:dynamodb:REGION:ACCOUNT:table/ecs-heartbeat-users-auth",
    }
