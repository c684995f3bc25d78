"""The AWS services HeartBeat talks to, by their botocore names (IAM and STS are global)."""

ECS = "ecs"
CLOUDWATCH = "cloudwatch"
AUTOSCALING = "application-autoscaling"
IAM = "iam"
LOGS = "logs"
STS = "sts"
ORGANIZATIONS = "organizations"
#: Served from one endpoint per partition: their clients use the default region.
GLOBAL_SERVICES = frozenset({IAM, STS, ORGANIZATIONS})

__all__ = ["AUTOSCALING", "CLOUDWATCH", "ECS", "GLOBAL_SERVICES", "IAM", "LOGS", "ORGANIZATIONS", "STS"]
