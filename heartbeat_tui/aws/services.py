"""The AWS services HeartBeat talks to, by their botocore names (IAM and STS are global)."""

ECS = "ecs"
CLOUDWATCH = "cloudwatch"
AUTOSCALING = "application-autoscaling"
IAM = "iam"
LOGS = "logs"
STS = "sts"

__all__ = ["AUTOSCALING", "CLOUDWATCH", "ECS", "IAM", "LOGS", "STS"]
