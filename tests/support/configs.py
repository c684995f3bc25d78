"""Building configurations for the embedded AWS in tests."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import SecretStr

from heartbeat_tui.config import Config, EnvSettings, config_from_dict

DENIED_ACCOUNT = "567890123456"
PAYMENTS = "210987654321"
HUB = "123456789012"


def make_config(embedded: Any, **overrides: Any) -> Config:
    """The embedded fleet's configuration, with `overrides` merged per section."""

    data = copy.deepcopy(embedded.config_dict())
    for section, values in overrides.items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    credentials = embedded.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(credentials["AWS_SECRET_ACCESS_KEY"]),
    )
    return config_from_dict(data, env=env, source="test")


def deleted_services(embedded: Any) -> set[tuple[str, str, str, str]]:
    """(account, region, cluster, service) of the seeded services being deleted
    (DRAINING): ECS no longer lists them, so no poll shows them."""

    found = set()
    for account in embedded.fleet_summary()["accounts"]:
        for region, clusters in account["regions"].items():
            for cluster, data in clusters.items():
                for name, info in data["services"].items():
                    if info["kind"] == "draining":
                        found.add((account["id"], region, cluster, name))
    return found
