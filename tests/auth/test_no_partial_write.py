"""Never a partial write to DynamoDB: an admin operation with invalid fields, or
with the store failing at one step (a 503 injected in the embedded AWS on one
DynamoDB operation: the reads, the write, the scan), leaves the users table
exactly as it was (a raw scan before and after). Key rotation interrupted by
failing writes leaves every record either as it was or wholly rotated, all
readable, and a second run finishes it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from heartbeat_tui.auth import StoreUnavailable
from heartbeat_tui.auth.crypto import FieldCipher
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.errors import HeartbeatError
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config, dynamodb, new_fernet_key
from tests.support.configs import HUB

TARGET = "bob"
FAULTS = st.sampled_from([None, "GetItem", "PutItem", "UpdateItem", "Scan"])
TEXT = st.one_of(st.text(max_size=20), st.sampled_from(["", "a@example.com", "Ann Example", "x" * 300]))


def raw_scan(tables: Any, table: str) -> list[dict[str, Any]]:
    """The users table as DynamoDB holds it, attribute by attribute (read over HTTP, see `dynamodb`)."""

    response = tables.scan(TableName=table, ConsistentRead=True)
    assert "LastEvaluatedKey" not in response
    return sorted(response["Items"], key=lambda item: item["username"]["S"])


def restore(tables: Any, table: str, items: list[dict[str, Any]]) -> None:
    keep = {item["username"]["S"] for item in items}
    for item in raw_scan(tables, table):
        if item["username"]["S"] not in keep:
            tables.delete_item(TableName=table, Key={"username": item["username"]})
    for item in items:
        tables.put_item(TableName=table, Item=item)


OPERATIONS = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(["carol", TARGET, "Bad Name"]), st.sampled_from(["user", "x"]), TEXT),
    st.tuples(st.just("update"), st.sampled_from([TARGET, ADMIN, "ghost"]), TEXT, TEXT),
    st.tuples(st.just("set_role"), st.sampled_from([TARGET, ADMIN]), st.sampled_from(["admin", "monitor", "root"])),
    st.tuples(st.just("set_accounts"), st.sampled_from([TARGET, ADMIN]), st.sampled_from(["", "210987654321", "1,2"])),
    st.tuples(st.just("set_active"), st.sampled_from([TARGET, ADMIN]), st.booleans()),
    st.tuples(
        st.just("reset_password"), st.sampled_from([TARGET, "ghost"]), st.sampled_from(["short", PASSWORD + "!"])
    ),
    st.tuples(st.just("unlock"), st.sampled_from([TARGET, "ghost"])),
)


async def apply(auth: AuthService, session: Any, operation: tuple[Any, ...]) -> None:
    name, *args = operation
    if name == "create":
        username, role, email = args
        await auth.create_user(session, username=username, password=PASSWORD, role=role, email=email)
    elif name == "update":
        await auth.update_profile(session, args[0], email=args[1], full_name=args[2])
    elif name == "set_role":
        await auth.set_role(session, *args)
    elif name == "set_accounts":
        await auth.set_accounts(session, *args)
    elif name == "set_active":
        await auth.set_active(session, *args)
    elif name == "reset_password":
        await auth.reset_password(session, *args)
    else:
        await auth.unlock(session, *args)


def one_attempt(config: Any) -> Any:
    """No botocore retries: an injected 503 fails the call it hits."""

    file = config.file.model_copy(update={"aws": config.file.aws.model_copy(update={"max_attempts": 1})})
    return config.model_copy(update={"file": file})


@pytest.fixture
def store(clean_aws: Any) -> Any:
    """One deployment and one AuthService on a loop of their own, for every example."""

    config = one_attempt(auth_config(clean_aws, auth={"store_timeout_seconds": 5}))
    loop = asyncio.new_event_loop()
    context = open_auth(config, iterations=FAST_ITERATIONS)
    auth = loop.run_until_complete(context.__aenter__())

    async def setup() -> None:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        await auth.create_user(admin, username=TARGET, password=PASSWORD, role="user", email="b@example.com")

    loop.run_until_complete(setup())
    try:
        yield loop, auth, dynamodb(clean_aws, config)
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operation=OPERATIONS, fault=FAULTS)
def test_a_failed_operation_changes_nothing(clean_aws: Any, store: Any, operation: Any, fault: Any) -> None:
    loop, auth, tables = store
    table = auth.store.users_table

    async def run() -> None:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        before = raw_scan(tables, table)
        if fault:
            clean_aws.add_fault("error", account=HUB, service="dynamodb", operation=fault, code="ServiceUnavailable")
        try:
            await apply(auth, admin, operation)
        except HeartbeatError as exc:
            clean_aws.clear_faults()
            event(f"refused: {type(exc).__name__}")
            assert "\n" not in str(exc)
            assert raw_scan(tables, table) == before, (operation, fault, str(exc))
        else:
            clean_aws.clear_faults()
            assert fault != "GetItem", operation  # every operation reads the session's user first
            event("applied")
        restore(tables, table, before)

    loop.run_until_complete(run())


async def test_rotation_interrupted_by_failing_writes(clean_aws: Any) -> None:
    old_key, new_key = new_fernet_key(), new_fernet_key()
    config = one_attempt(auth_config(clean_aws, encryption_key=old_key))
    tables, table = dynamodb(clean_aws, config), config.users_table
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD, email="root@example.com")
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        for i in range(6):
            await auth.create_user(
                admin, username=f"user-{i:02d}", password=PASSWORD, role="user", email=f"u{i}@example.com"
            )
        before = {item["username"]["S"]: item for item in raw_scan(tables, table)}
    rotated_config = one_attempt(
        auth_config(
            clean_aws,
            table=config.users_table,
            jwt_secret=config.env.jwt_secret.get_secret_value(),
            encryption_key=f"{new_key},{old_key}",
        )
    )
    new_only = FieldCipher.from_setting(new_key)
    async with open_auth(rotated_config, iterations=FAST_ITERATIONS) as auth:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        clean_aws.add_fault(
            "error", account=HUB, service="dynamodb", operation="UpdateItem", rate=0.5, code="ServiceUnavailable"
        )
        failed = 0
        for _ in range(3):
            try:
                await auth.rotate_keys(admin)
            except StoreUnavailable:
                failed += 1
        clean_aws.clear_faults()
        assert failed >= 1
        after = {item["username"]["S"]: item for item in raw_scan(tables, table)}
        assert set(after) == set(before)
        for name, item in after.items():
            if item == before[name]:
                continue  # not reached, or its write failed: exactly as it was
            # Wholly rotated: every personal field opens with the new key alone, one version on.
            assert int(item["version"]["N"]) == int(before[name]["version"]["N"]) + 1
            assert new_only.decrypt(item["email_enc"]["S"]).endswith("@example.com")
            assert {k for k in item if k != "version"} >= {k for k in before[name] if k != "version"}
        report = await auth.rotate_keys(admin)
        assert not report.failed
        for view in await auth.list_users(admin):
            assert view.email and view.email.endswith("@example.com")
        for item in raw_scan(tables, table):
            new_only.decrypt(item["email_enc"]["S"])
