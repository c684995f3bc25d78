"""Every region and role ARN of the configuration in one AWS partition, the
default region's: checked against botocore's partition data when the
configuration is loaded (a separate step: `heartbeat web`'s browser sessions
skip it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heartbeat_tui.errors import ConfigError

if TYPE_CHECKING:
    from heartbeat_tui.config.model import Config


def _default_region_origin(config: Config) -> tuple[str, str | None, str]:
    """Where the default region came from: (source, key, words for a message)."""

    if config.file.aws.region:
        return config.source, "aws.region", "[aws].region"
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if getattr(config.env, variable.lower()):
            return "environment", variable, variable
    return config.source, None, "HeartBeat's default: set [aws].region"


def check_partitions(config: Config) -> None:
    """Every region and role ARN is in the partition of the default region.

    The base credentials live in one partition (the default region's: STS there
    assumes every role), and nothing of another partition answers them. A
    region no partition has, or a role ARN naming a partition AWS does not have
    (`arn:aws-evil-partition:...`), would otherwise surface as network errors,
    or send the role's requests somewhere unexpected. Regions are checked
    against botocore's partition data (`heartbeat_tui.partitions`).
    """

    from heartbeat_tui.partitions import known_partitions, partition_of_arn, partition_of_region, partitions

    def unknown(region: str) -> str:
        return f"no AWS partition has a region {region!r} (botocore's endpoint data; a newer botocore may know it)"

    origin_source, origin_key, origin = _default_region_origin(config)
    home = partition_of_region(config.region)
    if home is None:
        raise ConfigError(origin_source, origin_key or "aws.region", unknown(config.region))
    fleet = f"the partition of the default region {config.region} ({origin})"
    for i, account in enumerate(config.accounts):
        if account.role_arn is not None:
            partition = partition_of_arn(account.role_arn)
            if partition not in partitions():
                raise ConfigError(
                    config.source,
                    f"accounts[{i}].role_arn",
                    f"names partition {partition!r}, which AWS does not have (known: {known_partitions()})",
                )
            if partition != home:
                raise ConfigError(
                    config.source,
                    f"accounts[{i}].role_arn",
                    f"is in partition {partition}, not {home} ({fleet}): the base credentials cannot assume it",
                )
        _check_regions(config, f"accounts[{i}]", account.regions or (), home, fleet)
    discovery = config.file.discovery
    _check_regions(config, "discovery", discovery.regions or (), home, fleet)
    if discovery.role_arn is not None and partition_of_arn(discovery.role_arn) != home:
        raise ConfigError(
            config.source,
            "discovery.role_arn",
            f"is in partition {partition_of_arn(discovery.role_arn)}, not {home} ({fleet})",
        )


def _check_regions(config: Config, where: str, regions: tuple[str, ...], home: str, fleet: str) -> None:
    from heartbeat_tui.partitions import partition_of_region

    for j, region in enumerate(regions):
        region_partition = partition_of_region(region)
        if region_partition is None:
            raise ConfigError(
                config.source,
                f"{where}.regions[{j}]",
                f"no AWS partition has a region {region!r} (botocore's endpoint data; a newer botocore may know it)",
            )
        if region_partition != home:
            raise ConfigError(
                config.source,
                f"{where}.regions[{j}]",
                f"{region} is in partition {region_partition}, not {home} ({fleet})",
            )
