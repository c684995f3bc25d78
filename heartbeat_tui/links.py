"""Where an operator goes next: the AWS console page of an ECS cluster or service.

Built from the resource's ARN alone (its partition, region, cluster and name).
The URL names no account: the page opens in whatever account the browser is
signed in to (switch role first for a member account). No dependencies beyond
the standard library: the CLI and the screens share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# A region goes into the console's host name: letters, digits and dashes only
# (an ARN from a broken or hostile endpoint must not steer the link elsewhere).
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+$")

#: The console's host per partition (the regional console of the commercial one).
CONSOLE_HOSTS = {
    "aws": "{region}.console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


@dataclass(frozen=True)
class EcsArn:
    """The parts of an ECS cluster or service ARN the console needs."""

    partition: str
    region: str
    account: str
    kind: str  # "cluster" or "service"
    cluster: str | None  # None: a service ARN of the old format (no cluster in it)
    name: str


def parse_ecs_arn(arn: str) -> EcsArn | None:
    """`arn:<partition>:ecs:<region>:<account>:cluster/<name>` or
    `...:service/<cluster>/<name>` (or the old `...:service/<name>`); None for
    anything else."""

    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ecs" or not _REGION.match(parts[3]):
        return None
    partition, region, account, resource = parts[1], parts[3], parts[4], parts[5]
    kind, _, path = resource.partition("/")
    names = path.split("/")
    if not all(names):
        return None
    if kind == "cluster" and len(names) == 1:
        return EcsArn(partition, region, account, "cluster", names[0], names[0])
    if kind == "service" and len(names) in (1, 2):
        cluster = names[0] if len(names) == 2 else None
        return EcsArn(partition, region, account, "service", cluster, names[-1])
    return None


def console_url(arn: str, cluster: str | None = None) -> str | None:
    """The console page of an ECS cluster (its services) or service (its health),
    or None when the ARN is neither or its partition has no known console.
    `cluster` names the cluster of an old-format service ARN, which lacks it."""

    parsed = parse_ecs_arn(arn)
    if parsed is None:
        return None
    host = CONSOLE_HOSTS.get(parsed.partition)
    if host is None:
        return None
    base = f"https://{host.format(region=parsed.region)}/ecs/v2/clusters"
    region = f"?region={quote(parsed.region, safe='')}"
    if parsed.kind == "cluster":
        return f"{base}/{quote(parsed.name, safe='')}/services{region}"
    cluster_name = parsed.cluster or cluster
    if not cluster_name:
        return None
    return f"{base}/{quote(cluster_name, safe='')}/services/{quote(parsed.name, safe='')}/health{region}"


__all__ = ["CONSOLE_HOSTS", "EcsArn", "console_url", "parse_ecs_arn"]
