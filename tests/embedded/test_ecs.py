"""ECS at the HTTP layer: paging, batch limits and real state, as AWS has them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .helpers import CHECKOUT, PAYMENTS, services_of

CORE = "payments-core"


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def ecs(client: Callable[..., Any]) -> Any:
    return client("ecs", PAYMENTS)


@pytest.fixture(scope="module")
def core_arns(ecs: Any) -> list[str]:
    arns: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"cluster": CORE, "maxResults": 100}
        if token:
            kwargs["nextToken"] = token
        page = ecs.list_services(**kwargs)
        arns += page["serviceArns"]
        token = page.get("nextToken")
        if not token:
            return arns


def test_list_services_defaults_to_10_per_page(ecs: Any) -> None:
    page = ecs.list_services(cluster=CORE)
    assert len(page["serviceArns"]) == 10
    assert page["nextToken"]


def test_list_services_max_100_and_walk_returns_each_service_once(ecs: Any, core_arns: list[str]) -> None:
    first = ecs.list_services(cluster=CORE, maxResults=100)
    assert len(first["serviceArns"]) == 100 and first["nextToken"]
    # 130 seeded; one is being deleted (DRAINING): ECS no longer lists it.
    assert len(core_arns) == 129
    assert len(set(core_arns)) == 129


def test_boto3_paginator_with_default_pages(ecs: Any, core_arns: list[str]) -> None:
    pages = list(ecs.get_paginator("list_services").paginate(cluster=CORE))
    assert len(pages) == 13
    assert sorted(a for p in pages for a in p["serviceArns"]) == sorted(core_arns)


@pytest.mark.parametrize("max_results", [0, 101, -1])
def test_invalid_max_results(ecs: Any, max_results: int) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecs.list_services(cluster=CORE, maxResults=max_results)
    assert error_code(excinfo) == "InvalidParameterException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bad_and_foreign_next_tokens(ecs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecs.list_services(cluster=CORE, nextToken="not-a-token")
    assert error_code(excinfo) == "InvalidParameterException"
    token = ecs.list_services(cluster=CORE)["nextToken"]
    with pytest.raises(ClientError) as excinfo:
        ecs.list_services(cluster="payments-edge", nextToken=token)  # another cluster's token
    assert error_code(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        ecs.list_tasks(cluster=CORE, nextToken=token)  # another operation's token
    assert error_code(excinfo) == "InvalidParameterException"


def test_list_clusters_pages(ecs: Any) -> None:
    first = ecs.list_clusters(maxResults=1)
    assert len(first["clusterArns"]) == 1 and first["nextToken"]
    second = ecs.list_clusters(maxResults=1, nextToken=first["nextToken"])
    assert "nextToken" not in second
    names = {a.rsplit("/", 1)[-1] for a in first["clusterArns"] + second["clusterArns"]}
    assert names == {"payments-core", "payments-edge"}
    with pytest.raises(ClientError) as excinfo:
        ecs.list_clusters(maxResults=101)
    assert error_code(excinfo) == "InvalidParameterException"


def test_list_services_honours_cluster_and_unknown_cluster(ecs: Any) -> None:
    edge = ecs.list_services(cluster="payments-edge", maxResults=100)["serviceArns"]
    assert len(edge) == 8
    assert all("/payments-edge/" in arn for arn in edge)
    with pytest.raises(ClientError) as excinfo:
        ecs.list_services(cluster="no-such-cluster")
    assert error_code(excinfo) == "ClusterNotFoundException"


def test_arns_are_long_format(ecs: Any, core_arns: list[str]) -> None:
    assert all(a.startswith(f"arn:aws:ecs:us-east-1:{PAYMENTS}:service/{CORE}/") for a in core_arns)
    tasks = ecs.list_tasks(cluster=CORE, maxResults=5)["taskArns"]
    assert tasks and all(a.startswith(f"arn:aws:ecs:us-east-1:{PAYMENTS}:task/{CORE}/") for a in tasks)
    assert len(tasks[0].rsplit("/", 1)[-1]) == 32


def test_describe_services_limit(ecs: Any, core_arns: list[str]) -> None:
    assert len(ecs.describe_services(cluster=CORE, services=core_arns[:10])["services"]) == 10
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_services(cluster=CORE, services=core_arns[:11])
    assert error_code(excinfo) == "InvalidParameterException"


def test_describe_clusters_and_tasks_limits(ecs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_clusters(clusters=[f"c{i}" for i in range(101)])
    assert error_code(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_tasks(cluster=CORE, tasks=[f"{i:032x}" for i in range(101)])
    assert error_code(excinfo) == "InvalidParameterException"


def test_unknown_names_are_failures_missing(ecs: Any) -> None:
    described = ecs.describe_services(cluster=CORE, services=["no-such-service"])
    assert described["services"] == []
    assert described["failures"] == [
        {"arn": f"arn:aws:ecs:us-east-1:{PAYMENTS}:service/{CORE}/no-such-service", "reason": "MISSING"}
    ]
    clusters = ecs.describe_clusters(clusters=[CORE, "nope"])
    assert [c["clusterName"] for c in clusters["clusters"]] == [CORE]
    assert clusters["failures"][0]["reason"] == "MISSING"
    tasks = ecs.describe_tasks(cluster=CORE, tasks=["0" * 32])
    assert tasks["tasks"] == [] and tasks["failures"][0]["reason"] == "MISSING"


def test_a_task_started_with_run_task_is_described(client: Callable[..., Any]) -> None:
    """RunTask's task comes back from DescribeTasks, by ARN and by id (moto
    keeps tasks by ARN; they came back MISSING)."""

    ecs = client("ecs", CHECKOUT)
    ecs.create_cluster(clusterName="adhoc-jobs")
    definition = ecs.register_task_definition(
        family="adhoc-migrate", containerDefinitions=[{"name": "migrate", "image": "busybox", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    started = ecs.run_task(
        cluster="adhoc-jobs",
        taskDefinition=definition,
        count=2,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"]}},
    )
    assert started["failures"] == []
    arns = [t["taskArn"] for t in started["tasks"]]
    assert len(arns) == 2

    by_arn = ecs.describe_tasks(cluster="adhoc-jobs", tasks=arns)
    assert by_arn["failures"] == []
    assert sorted(t["taskArn"] for t in by_arn["tasks"]) == sorted(arns)
    assert all(t["taskDefinitionArn"] == definition and t["desiredStatus"] == "RUNNING" for t in by_arn["tasks"])
    by_id = ecs.describe_tasks(cluster="adhoc-jobs", tasks=[arns[0].rsplit("/", 1)[-1]])
    assert [t["taskArn"] for t in by_id["tasks"]] == [arns[0]] and by_id["failures"] == []
    assert sorted(ecs.list_tasks(cluster="adhoc-jobs")["taskArns"]) == sorted(arns)


def test_described_service_is_complete(ecs: Any, core_arns: list[str]) -> None:
    for service in ecs.describe_services(cluster=CORE, services=core_arns[:10])["services"]:
        for key in (
            "serviceName",
            "serviceArn",
            "clusterArn",
            "status",
            "desiredCount",
            "runningCount",
            "pendingCount",
            "launchType",
            "taskDefinition",
            "createdAt",
            "deployments",
            "events",
        ):
            assert key in service, key
        assert service["status"] in ("ACTIVE", "DRAINING")
        assert service["launchType"] in ("FARGATE", "EC2")
        assert service["deployments"]
        for deployment in service["deployments"]:
            assert deployment["id"].startswith("ecs-svc/") and deployment["id"][8:].isdigit()
            assert len(deployment["id"]) == 8 + 19
            assert deployment["status"] in ("PRIMARY", "ACTIVE")
            assert deployment["rolloutState"] in ("IN_PROGRESS", "COMPLETED", "FAILED")
            for key in (
                "taskDefinition",
                "desiredCount",
                "runningCount",
                "pendingCount",
                "failedTasks",
                "rolloutStateReason",
                "createdAt",
                "updatedAt",
                "launchType",
            ):
                assert key in deployment, key
        events = service["events"]
        assert len(events) <= 100
        times = [e["createdAt"] for e in events]
        assert times == sorted(times, reverse=True)  # newest first
        assert all(e["message"].startswith(f"(service {service['serviceName']})") for e in events)


def test_states_are_real(client: Callable[..., Any], embedded_aws: Any) -> None:
    fleet = embedded_aws.fleet_summary()  # now, whatever other tests ticked

    def describe(account: str, region: str, cluster: str, name: str) -> dict[str, Any]:
        ecs = client("ecs", account, region)
        return ecs.describe_services(cluster=cluster, services=[name])["services"][0]

    account, region, cluster, name, _ = services_of(fleet, "failing")[0]
    failing = describe(account, region, cluster, name)
    assert failing["deployments"][0]["rolloutState"] == "FAILED"
    assert failing["deployments"][0]["failedTasks"] > 0
    assert any("deployment failed" in e["message"] for e in failing["events"])

    for _ in range(10):  # other tests may have ticked every seeded deployment to completion
        deploying_now = services_of(embedded_aws.fleet_summary(), "deploying")
        if deploying_now:
            break
        embedded_aws.tick(1)
    account, region, cluster, name, _ = deploying_now[0]
    deploying = describe(account, region, cluster, name)
    assert len(deploying["deployments"]) == 2
    primary, old = deploying["deployments"]
    assert primary["status"] == "PRIMARY" and primary["rolloutState"] == "IN_PROGRESS"
    assert old["status"] == "ACTIVE" and primary["taskDefinition"] != old["taskDefinition"]

    account, region, cluster, name, _ = services_of(fleet, "scaled_to_zero")[0]
    zero = describe(account, region, cluster, name)
    assert zero["desiredCount"] == 0 and zero["runningCount"] == 0

    account, region, cluster, name, _ = services_of(fleet, "under_running")[0]
    under = describe(account, region, cluster, name)
    assert under["runningCount"] < under["desiredCount"]
    assert any("was unable to place a task" in e["message"] for e in under["events"])

    account, region, cluster, name, _ = services_of(fleet, "draining")[0]
    assert describe(account, region, cluster, name)["status"] == "DRAINING"

    steady = next(s for s in services_of(fleet, "steady") if s[4]["desired"] > 0)
    service = describe(*steady[:4])
    assert service["runningCount"] == service["desiredCount"]
    assert any(
        e["message"] == f"(service {service['serviceName']}) has reached a steady state." for e in service["events"]
    )


def test_cluster_counts_match_services(ecs: Any, core_arns: list[str], embedded_aws: Any) -> None:
    cluster = ecs.describe_clusters(clusters=[CORE])["clusters"][0]
    running = pending = active = 0
    # The cluster's task counts include the tasks of a service being deleted,
    # which ListServices no longer gives: describe those too.
    draining = [name for _, _, c, name, _ in services_of(embedded_aws.fleet_summary(), "draining") if c == CORE]
    names = core_arns + draining
    for start in range(0, len(names), 10):
        for service in ecs.describe_services(cluster=CORE, services=names[start : start + 10])["services"]:
            running += service["runningCount"]
            pending += service["pendingCount"]
            active += service["status"] == "ACTIVE"
    assert cluster["clusterArn"] == f"arn:aws:ecs:us-east-1:{PAYMENTS}:cluster/{CORE}"
    assert cluster["status"] == "ACTIVE"
    assert (cluster["runningTasksCount"], cluster["pendingTasksCount"], cluster["activeServicesCount"]) == (
        running,
        pending,
        active,
    )
    assert "registeredContainerInstancesCount" in cluster


def test_tasks_of_a_service(client: Callable[..., Any], embedded_aws: Any) -> None:
    settled = [
        s
        for s in services_of(embedded_aws.fleet_summary(), "steady")
        if s[4]["running"] > 1 and s[4]["pending"] == 0 and s[4]["running"] == s[4]["desired"]
    ]
    account, region, cluster, name, _ = settled[0]
    ecs = client("ecs", account, region)
    service = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    arns = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]
    assert len(arns) == service["runningCount"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    for task in tasks:
        assert task["group"] == f"service:{name}"
        assert task["lastStatus"] == "RUNNING" and task["desiredStatus"] == "RUNNING"
        assert task["healthStatus"] == "HEALTHY"
        assert task["launchType"] == service["launchType"]
        for key in (
            "taskArn",
            "clusterArn",
            "taskDefinitionArn",
            "cpu",
            "memory",
            "availabilityZone",
            "createdAt",
            "startedAt",
        ):
            assert key in task, key
        assert task["containers"][0]["lastStatus"] == "RUNNING"
    assert ecs.list_tasks(cluster=cluster, serviceName=name, maxResults=1)["nextToken"]
    # Describing never moves a task along (moto walks its tasks to STOPPED).
    for _ in range(4):
        again = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    assert [t["lastStatus"] for t in again] == [t["lastStatus"] for t in tasks]
    with pytest.raises(ClientError) as excinfo:
        ecs.list_tasks(cluster=cluster, serviceName="no-such-service")
    assert error_code(excinfo) == "ServiceNotFoundException"


def test_stopped_tasks_of_a_failing_service(client: Callable[..., Any], fleet: dict[str, Any]) -> None:
    reasons = set()
    for account, region, cluster, name, _ in services_of(fleet, "failing"):
        ecs = client("ecs", account, region)
        arns = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")["taskArns"]
        assert arns
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]:
            assert task["lastStatus"] == "STOPPED" and task["desiredStatus"] == "STOPPED"
            assert task["stoppedReason"] and task["stoppedAt"] and task["stopCode"]
            container = task["containers"][0]
            reasons.add(task["stoppedReason"].split(":")[0])
            if task["stoppedReason"] == "Essential container in task exited":
                assert container["exitCode"] == 1
            else:
                assert container["reason"].startswith("CannotPullContainerError")
    assert reasons == {"Essential container in task exited", "CannotPullContainerError"}


def test_moto_created_resources_are_listed_too(client: Callable[..., Any]) -> None:
    ecs = client("ecs", CHECKOUT)
    ecs.create_cluster(clusterName="made-by-test")
    ecs.register_task_definition(
        family="probe", containerDefinitions=[{"name": "probe", "image": "busybox", "memory": 128}]
    )
    ecs.create_service(cluster="made-by-test", serviceName="probe-api", taskDefinition="probe", desiredCount=1)
    arns = ecs.list_services(cluster="made-by-test")["serviceArns"]
    assert arns == [f"arn:aws:ecs:us-east-1:{CHECKOUT}:service/made-by-test/probe-api"]
    service = ecs.describe_services(cluster="made-by-test", services=["probe-api"])["services"][0]
    assert service["serviceName"] == "probe-api" and service["desiredCount"] == 1
    names = {a.rsplit("/", 1)[-1] for a in ecs.list_clusters()["clusterArns"]}
    assert "made-by-test" in names
