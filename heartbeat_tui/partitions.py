"""AWS partitions (`aws`, `aws-cn`, `aws-us-gov`, ...) and their regions, from
botocore's own partition data.

A partition is a separate AWS: its own accounts, credentials and endpoints.
Credentials of one reach nothing in another, so a role ARN or a region in
another partition than the fleet's can only be a mistake, or a role ARN
crafted to send HeartBeat somewhere else. botocore ships the list it resolves
endpoints with (`partitions.json`, read through its public loader); a region
it does not list is one no client of this botocore can reach by name.
"""

from __future__ import annotations

import functools
import re
from typing import Any


@functools.cache
def partitions() -> dict[str, frozenset[str]]:
    """Partition name -> its region names (botocore's pseudo-regions such as
    `aws-global`, which no ECS endpoint serves, left out)."""

    from botocore.loaders import create_loader  # botocore costs 0.1 s to import: only when a config is checked

    data: Any = create_loader().load_data("partitions")
    found: dict[str, frozenset[str]] = {}
    for partition in data["partitions"]:
        pattern = re.compile(partition["regionRegex"])
        found[partition["id"]] = frozenset(name for name in partition["regions"] if pattern.fullmatch(name))
    return found


def partition_of_region(region: str) -> str | None:
    """The partition a region belongs to (None: no partition botocore knows has it)."""

    return next((name for name, regions in partitions().items() if region in regions), None)


def partition_of_arn(arn: str) -> str:
    """The partition an ARN names (`arn:PARTITION:service:...`), known or not."""

    return arn.split(":", 2)[1] if arn.count(":") >= 2 else ""


def known_partitions() -> str:
    """The partitions botocore knows, for a message: "aws, aws-cn, aws-us-gov, ..."."""

    return ", ".join(partitions())


__all__ = ["known_partitions", "partition_of_arn", "partition_of_region", "partitions"]
