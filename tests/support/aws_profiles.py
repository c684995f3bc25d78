"""AWS config files for profile accounts, written for a test (the suite's
`isolated_environment` points AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE
into the test's own folder)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import boto3

from heartbeat_tui.embedded.fleet import DEFAULT_ROLE_NAME

SSO_START_URL = "https://heartbeat-test.awsapps.com/start"


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{DEFAULT_ROLE_NAME}"


def assumed_keys(aws: Any, account: str) -> dict[str, str]:
    """Temporary keys acting in `account` (AssumeRole from the hub, over HTTP)."""

    creds = aws.credentials()
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )
    answer = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="profile-test")["Credentials"]
    return {
        "aws_access_key_id": answer["AccessKeyId"],
        "aws_secret_access_key": answer["SecretAccessKey"],
        "aws_session_token": answer["SessionToken"],
    }


def write_aws_files(profiles: dict[str, dict[str, str]], credentials: dict[str, dict[str, str]]) -> None:
    """`[profile NAME]` sections in the config file, `[NAME]` ones in the credentials file."""

    def sections(items: dict[str, dict[str, str]], prefix: str) -> str:
        return "".join(
            f"[{prefix}{name}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items()) + "\n"
            for name, values in items.items()
        )

    Path(os.environ["AWS_CONFIG_FILE"]).write_text(sections(profiles, "profile "))
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(sections(credentials, ""))


def write_sso_token(home: Path, *, expires_at: str) -> None:
    """The SSO cache entry `aws sso login` writes for `SSO_START_URL` (legacy profile format)."""

    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(SSO_START_URL.encode()).hexdigest() + ".json"
    token = {"startUrl": SSO_START_URL, "region": "us-east-1", "accessToken": "not-a-token", "expiresAt": expires_at}
    (cache / name).write_text(json.dumps(token))
