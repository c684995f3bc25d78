"""Fixtures for the embedded AWS tests: one child per test process, real HTTP,
real boto3, nothing mocked.

``embedded_aws`` is separate from the suite-wide ``fleet_aws`` on purpose:
these tests tick the simulator and need a state they control.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from heartbeat_tui.embedded import EmbeddedAWS, FleetSpec

from .helpers import HUB, NO_RETRY


@pytest.fixture(scope="session")
def embedded_aws() -> Iterator[EmbeddedAWS]:
    aws = EmbeddedAWS(FleetSpec.demo(), paused=True)
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture(scope="session")
def fleet(embedded_aws: EmbeddedAWS) -> dict[str, Any]:
    """The seeded fleet summary as the child reported it before any test ticked."""
    return embedded_aws.fleet_summary()


@pytest.fixture
def aws(embedded_aws: EmbeddedAWS) -> Iterator[EmbeddedAWS]:
    """The shared embedded AWS, with no faults before or after the test."""
    embedded_aws.clear_faults()
    yield embedded_aws
    embedded_aws.clear_faults()


@pytest.fixture(scope="session")
def assumed(embedded_aws: EmbeddedAWS) -> Callable[[str], dict[str, str]]:
    """Credentials for a member account, by AssumeRole from the hub (cached)."""

    @functools.cache
    def assume(account: str) -> dict[str, str]:
        creds = embedded_aws.credentials()
        sts = boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=embedded_aws.endpoint_url,
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            config=NO_RETRY,
        )
        result = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/HeartbeatReader", RoleSessionName="embedded-tests"
        )["Credentials"]
        return {
            "aws_access_key_id": result["AccessKeyId"],
            "aws_secret_access_key": result["SecretAccessKey"],
            "aws_session_token": result["SessionToken"],
        }

    return assume


@pytest.fixture(scope="session")
def client(embedded_aws: EmbeddedAWS, assumed: Callable[[str], dict[str, str]]) -> Callable[..., Any]:
    """``client(service, account=HUB, region=...)``: a boto3 client acting in ``account``."""

    def make(service: str, account: str = HUB, region: str = "us-east-1", config: Config = NO_RETRY) -> Any:
        if account == HUB:
            creds = embedded_aws.credentials()
            keys = {
                "aws_access_key_id": creds["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": creds["AWS_SECRET_ACCESS_KEY"],
            }
        else:
            keys = assumed(account)
        return boto3.client(service, region_name=region, endpoint_url=embedded_aws.endpoint_url, config=config, **keys)

    return make
