"""`heartbeat doctor`: check configuration, credentials, each account and region,
and the users table; one line per check with OK, WARN or FAIL and the reason."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from heartbeat_tui.aws.access import AUTOSCALING, CLOUDWATCH, ECS, STS, AwsAccess
from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.errors import ConfigError

MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class Check:
    status: str  # OK | WARN | FAIL
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


async def _then(client: Awaitable[Any], call: Callable[[Any], Awaitable[Any]]) -> Any:
    return await call(await client)


async def _probe(name: str, call: Callable[[], Awaitable[Any]], ok: Callable[[Any], str]) -> Check:
    try:
        result = await call()
    except Exception as exc:  # noqa: BLE001 - every failure is a FAIL line
        return Check("FAIL", name, describe_error(exc))
    return Check("OK", name, ok(result))


def _secret_check(name: str, value: Any) -> Check:
    if value is None:
        return Check("FAIL", name, "not set (needed to log in; set it in the environment or .env)")
    size = len(value.get_secret_value().encode())
    if size < MIN_SECRET_BYTES:
        return Check("FAIL", name, f"too short: {size} bytes, at least {MIN_SECRET_BYTES} needed")
    return Check("OK", name, f"set ({size} bytes)")


async def _account_checks(access: AwsAccess, config: Config, account: AccountConfig) -> list[Check]:
    label = f"account {account.id}" + (f" ({account.alias})" if account.alias else "")
    checks: list[Check] = []
    if account.role_arn:
        check = await _probe(
            f"{label} sts:AssumeRole",
            lambda: access.ensure_credentials(account),
            lambda _: account.role_arn or "",
        )
        checks.append(check)
        if check.status == "FAIL":
            return checks
    now = datetime.now(timezone.utc)

    async def region_checks(region: str) -> list[Check]:
        async def ecs() -> Any:
            return await access.client(account, ECS, region)

        async def cw() -> Any:
            return await access.client(account, CLOUDWATCH, region)

        async def aas() -> Any:
            return await access.client(account, AUTOSCALING, region)

        return list(
            await asyncio.gather(
                _probe(
                    f"{label} {region} ecs:ListClusters",
                    lambda: _then(ecs(), lambda c: c.list_clusters(maxResults=1)),
                    lambda r: "readable",
                ),
                _probe(
                    f"{label} {region} cloudwatch:GetMetricData",
                    lambda: _then(
                        cw(),
                        lambda c: c.get_metric_data(
                            MetricDataQueries=[
                                {
                                    "Id": "probe",
                                    "MetricStat": {
                                        "Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization"},
                                        "Period": 60,
                                        "Stat": "Average",
                                    },
                                }
                            ],
                            StartTime=now - timedelta(minutes=5),
                            EndTime=now,
                        ),
                    ),
                    lambda r: "readable",
                ),
                _probe(
                    f"{label} {region} application-autoscaling:DescribeScalableTargets",
                    lambda: _then(aas(), lambda c: c.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=1)),
                    lambda r: "readable",
                ),
            )
        )

    for result in await asyncio.gather(*(region_checks(r) for r in config.regions_for(account))):
        checks.extend(result)
    return checks


async def run_doctor(config: Config) -> list[Check]:
    checks = [
        Check(
            "OK",
            "configuration",
            f"{config.source}: {len(config.accounts) or 'no'} account(s), default region {config.region}"
            + (f", endpoint {config.endpoint_url}" if config.endpoint_url else ""),
        )
    ]
    try:
        access = AwsAccess(config)
    except ConfigError as exc:
        checks.append(Check("FAIL", "base credentials", str(exc)))
        checks.append(_secret_check("JWT_SECRET", config.env.jwt_secret))
        checks.append(_secret_check("ENCRYPTION_KEY", config.env.encryption_key))
        return checks
    async with access:
        identity: dict[str, Any] = {}

        async def caller() -> Any:
            identity.update(await (await access.base_client(STS)).get_caller_identity())
            return identity

        base = await _probe("base credentials", caller, lambda r: str(r.get("Arn")))
        checks.append(base)
        if base.status == "OK":
            accounts = config.accounts or (AccountConfig(id=str(identity["Account"])),)
            for account in accounts:
                if not account.role_arn and account.id != identity["Account"]:
                    checks.append(
                        Check(
                            "FAIL",
                            f"account {account.id}",
                            f"no role_arn, and the base credentials belong to account {identity['Account']}",
                        )
                    )
            for result in await asyncio.gather(*(_account_checks(access, config, a) for a in accounts)):
                checks.extend(result)
        try:
            dynamodb = await access.base_client("dynamodb")
            table = await dynamodb.describe_table(TableName=config.users_table)
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) == "ResourceNotFoundException":
                reason = f"{config.users_table} does not exist (run `heartbeat init`)"
                checks.append(Check("FAIL", "users table", reason))
            else:
                checks.append(Check("FAIL", "users table", f"{config.users_table}: {describe_error(exc)}"))
        else:
            status = table["Table"].get("TableStatus", "?")
            checks.append(
                Check("OK" if status == "ACTIVE" else "WARN", "users table", f"{config.users_table} is {status}")
            )
    checks.append(_secret_check("JWT_SECRET", config.env.jwt_secret))
    checks.append(_secret_check("ENCRYPTION_KEY", config.env.encryption_key))
    return checks
