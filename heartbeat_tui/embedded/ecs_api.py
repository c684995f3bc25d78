"""The ECS read API, answered from the simulator's model (plus moto for the rest).

Why these operations are not left to moto: moto never pages (no maxResults /
nextToken), accepts any number of items in Describe*, serves services whose
counts, deployments and events never change, and walks a task to STOPPED as
it is described.  Real AWS does none of that, and the collector must see what
real AWS does.

Existence comes from moto's ECS backend, so clusters and services created
through moto (CreateCluster, CreateService) are listed and described too;
seeded ones are rendered from the simulator's richer model.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from heartbeat_tui.embedded.paging import (
    ApiError,
    decode_token,
    encode_token,
    int_param,
    page_after,
)
from heartbeat_tui.embedded.state import SimCluster, SimService, SimTask
from heartbeat_tui.embedded.world import World, now


def _missing(asked: object, arn: str) -> dict[str, str]:
    """A Describe* failure for what is not there: named by the ARN it was asked by, as ECS
    names it, or by `arn` (the one it would have) when it was asked by name or id."""

    return {"arn": str(asked) if str(asked).startswith("arn:") else arn, "reason": "MISSING"}


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


CLUSTER_NOT_FOUND = ApiError("ClusterNotFoundException", "Cluster not found.")
SERVICE_NOT_FOUND = ApiError("ServiceNotFoundException", "Service not found.")


def _timestamp(value: Any) -> float | None:
    """moto keeps datetimes; the wire wants epoch seconds."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return None


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """AWS omits absent members instead of sending null."""
    return {k: v for k, v in data.items() if v is not None}


# -- rendering --------------------------------------------------------------------


def render_deployment(service: SimService, d: Any) -> dict[str, Any]:
    body = {
        "id": d.id,
        "status": d.status,
        "taskDefinition": d.task_definition,
        "desiredCount": d.desired_count,
        "pendingCount": d.pending_count,
        "runningCount": d.running_count,
        "failedTasks": d.failed_tasks,
        "createdAt": d.created_at,
        "updatedAt": d.updated_at,
        "launchType": d.launch_type,
        "rolloutState": d.rollout_state,
        "rolloutStateReason": d.rollout_state_reason,
    }
    if service.launch_type == "FARGATE":
        body["platformVersion"] = "1.4.0"
        body["platformFamily"] = "Linux"
    if service.network is not None:
        body["networkConfiguration"] = service.network
    return body


def render_service(service: SimService) -> dict[str, Any]:
    running, pending = service.counts()
    body: dict[str, Any] = {
        "serviceArn": service.arn,
        "serviceName": service.name,
        "clusterArn": service.cluster_arn,
        "loadBalancers": service.load_balancers,
        "serviceRegistries": [],
        "status": service.status,
        "desiredCount": service.desired_count,
        "runningCount": running,
        "pendingCount": pending,
        "launchType": service.launch_type,
        "taskDefinition": service.task_definition,
        "deploymentConfiguration": service.deployment_config,
        "deployments": [render_deployment(service, d) for d in service.deployments],
        "roleArn": f"arn:aws:iam::{service.account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        "events": list(service.events),
        "createdAt": service.created_at,
        "placementConstraints": [],
        "placementStrategy": [],
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "createdBy": f"arn:aws:iam::{service.account}:role/deployer",
        "enableECSManagedTags": False,
        "propagateTags": "NONE",
        "enableExecuteCommand": False,
    }
    if service.network is not None:
        body["networkConfiguration"] = service.network
    if service.launch_type == "FARGATE":
        body["platformVersion"] = "LATEST"
        body["platformFamily"] = "Linux"
    return body


def render_moto_service(moto_service: Any) -> dict[str, Any]:
    """A service that only moto knows (created through CreateService)."""
    deployments = []
    for d in getattr(moto_service, "deployments", []) or []:
        deployments.append(
            _compact(
                {
                    "id": d.get("id"),
                    "status": d.get("status"),
                    "taskDefinition": d.get("taskDefinition"),
                    "desiredCount": d.get("desiredCount"),
                    "pendingCount": d.get("pendingCount"),
                    "runningCount": d.get("runningCount"),
                    "failedTasks": d.get("failedTasks", 0),
                    "createdAt": _timestamp(d.get("createdAt")),
                    "updatedAt": _timestamp(d.get("updatedAt")),
                    "launchType": d.get("launchType"),
                    "rolloutState": d.get("rolloutState"),
                    "rolloutStateReason": d.get("rolloutStateReason"),
                }
            )
        )
    events = [
        _compact({"id": e.get("id"), "createdAt": _timestamp(e.get("createdAt")), "message": e.get("message")})
        for e in (getattr(moto_service, "events", []) or [])
    ]
    return _compact(
        {
            "serviceArn": moto_service.arn,
            "serviceName": moto_service.name,
            "clusterArn": moto_service.cluster_arn,
            "status": moto_service.status,
            "desiredCount": moto_service.desired_count,
            "runningCount": moto_service.running_count,
            "pendingCount": moto_service.pending_count,
            "launchType": moto_service.launch_type,
            "taskDefinition": moto_service.task_definition,
            "deployments": deployments,
            "events": events,
            "createdAt": deployments[-1].get("createdAt") if deployments else None,
            "schedulingStrategy": moto_service.scheduling_strategy,
            "loadBalancers": moto_service.load_balancers,
            "serviceRegistries": moto_service.service_registries,
        }
    )


def render_cluster(
    cluster_arn: str, name: str, status: str, services: int, running: int, pending: int, instances: int
) -> dict[str, Any]:
    return {
        "clusterArn": cluster_arn,
        "clusterName": name,
        "status": status,
        "registeredContainerInstancesCount": instances,
        "runningTasksCount": running,
        "pendingTasksCount": pending,
        "activeServicesCount": services,
        "statistics": [],
        "tags": [],
        "settings": [{"name": "containerInsights", "value": "enabled"}],
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "defaultCapacityProviderStrategy": [],
    }


def render_task(task: SimTask, account: str, region: str) -> dict[str, Any]:
    cluster_name = task.cluster_arn.rsplit("/", 1)[-1]
    containers = []
    for container in task.containers:
        container_id = uuid.uuid5(uuid.NAMESPACE_OID, f"{task.id}/{container.name}")
        containers.append(
            _compact(
                {
                    "containerArn": f"arn:aws:ecs:{region}:{account}:container/{cluster_name}/{task.id}/{container_id}",
                    "taskArn": task.arn,
                    "name": container.name,
                    "image": container.image,
                    "lastStatus": container.last_status,
                    "exitCode": container.exit_code,
                    "reason": container.reason,
                    "healthStatus": container.health_status,
                    "cpu": task.cpu,
                    "memory": task.memory,
                    "networkInterfaces": [],
                }
            )
        )
    started = task.started_at
    return _compact(
        {
            "taskArn": task.arn,
            "clusterArn": task.cluster_arn,
            "taskDefinitionArn": task.task_definition_arn,
            "group": f"service:{task.service}",
            "startedBy": task.deployment,
            "lastStatus": task.last_status,
            "desiredStatus": task.desired_status,
            "healthStatus": task.health_status,
            "launchType": task.launch_type,
            "cpu": task.cpu,
            "memory": task.memory,
            "availabilityZone": task.availability_zone,
            "createdAt": task.created_at,
            "pullStartedAt": task.created_at + 3.0 if started else None,
            "pullStoppedAt": task.created_at + 9.0 if started else None,
            "startedAt": started,
            "connectivity": "CONNECTED" if task.last_status != "STOPPED" else None,
            "connectivityAt": task.created_at + 2.0,
            "stoppingAt": task.stopping_at,
            "stoppedAt": task.stopped_at,
            "executionStoppedAt": task.stopped_at,
            "stopCode": task.stop_code,
            "stoppedReason": task.stopped_reason,
            "platformVersion": "1.4.0" if task.launch_type == "FARGATE" else None,
            "platformFamily": "Linux" if task.launch_type == "FARGATE" else None,
            "containers": containers,
            "attachments": [],
            "overrides": {
                "containerOverrides": [{"name": c.name} for c in task.containers],
                "inferenceAcceleratorOverrides": [],
            },
            "tags": [],
            "version": 4 if task.last_status == "STOPPED" else 2,
            "enableExecuteCommand": False,
        }
    )


def render_moto_task(task: Any) -> dict[str, Any]:
    """A task moto started (RunTask/StartTask), shown without moving its state."""
    return _compact(
        {
            "taskArn": task.task_arn,
            "clusterArn": task.cluster_arn,
            "taskDefinitionArn": task.task_definition_arn,
            "group": getattr(task, "group", None),
            "startedBy": getattr(task, "started_by", None) or None,
            "lastStatus": task.last_status,
            "desiredStatus": task.desired_status,
            "launchType": getattr(task, "launch_type", None) or None,
            "stoppedReason": getattr(task, "stopped_reason", None) or None,
            "containers": [],
            "tags": [],
        }
    )


# -- handlers -----------------------------------------------------------------------


class EcsApi:
    def __init__(self, world: World) -> None:
        from moto.backends import get_backend

        self.world = world
        self._ecs = get_backend("ecs")
        self.handlers: dict[str, Callable[[str, str, dict[str, Any]], dict[str, Any]]] = {
            "ListClusters": self.list_clusters,
            "DescribeClusters": self.describe_clusters,
            "ListServices": self.list_services,
            "DescribeServices": self.describe_services,
            "ListTasks": self.list_tasks,
            "DescribeTasks": self.describe_tasks,
            "StopTask": self.stop_task,
        }

    def backend(self, account: str, region: str) -> Any:
        return self._ecs[account][region]

    def _moto_cluster(self, account: str, region: str, name_or_arn: str | None) -> Any:
        name = (name_or_arn or "default").rsplit("/", 1)[-1]
        cluster = self.backend(account, region).clusters.get(name)
        if cluster is None:
            raise CLUSTER_NOT_FOUND
        return cluster

    @staticmethod
    def _page_limit(params: dict[str, Any], default: int) -> int:
        return int_param(
            params,
            "maxResults",
            low=1,
            high=100,
            default=default,
            error=_invalid("maxResults must be an integer between 1 and 100."),
        )

    @staticmethod
    def _after(params: dict[str, Any], operation: str, scope: str) -> Any:
        if params.get("nextToken") is None:
            return None
        return decode_token(
            params["nextToken"],
            operation,
            scope,
            _invalid("Invalid nextToken: the token is malformed or does not belong to this request."),
        )

    def _paged(
        self, params: dict[str, Any], operation: str, scope: str, arns: list[str], default: int, key: str
    ) -> dict[str, Any]:
        limit = self._page_limit(params, default)
        after = self._after(params, operation, scope)
        arns = sorted(arns)
        page, last = page_after(arns, arns, after, limit)
        body: dict[str, Any] = {key: page}
        if last is not None:
            body["nextToken"] = encode_token(operation, scope, last)
        return body

    # ListClusters / DescribeClusters --------------------------------------------------

    def list_clusters(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arns = [c.arn for c in self.backend(account, region).clusters.values()]
        return self._paged(params, "ListClusters", f"{account}/{region}", arns, 100, "clusterArns")

    def _cluster_counts(self, account: str, region: str, moto_cluster: Any) -> dict[str, Any]:
        sim: SimCluster | None = self.world.clusters.get((account, region, moto_cluster.name))
        services = running = pending = 0
        instances = moto_cluster.registered_container_instances_count
        seeded = sim.services if sim is not None else {}
        for s in seeded.values():
            services += s.status == "ACTIVE"
            service_running, service_pending = s.counts()
            running += service_running
            pending += service_pending
        for moto_service in self.backend(account, region).services.values():
            if moto_service.cluster_name == moto_cluster.name and moto_service.name not in seeded:
                services += moto_service.status == "ACTIVE"
                running += moto_service.running_count or 0
                pending += moto_service.pending_count or 0
        if sim is None:
            running += sum(
                1
                for t in self.backend(account, region).tasks.get(moto_cluster.name, {}).values()
                if t.last_status == "RUNNING"
            )
        else:
            instances = sim.container_instances
        return render_cluster(
            moto_cluster.arn, moto_cluster.name, moto_cluster.status, services, running, pending, instances
        )

    def describe_clusters(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("clusters") or []
        if not isinstance(names, list):
            raise _invalid("clusters must be a list.")
        if len(names) > 100:
            raise _invalid("The clusters parameter cannot contain more than 100 items.")
        clusters = self.backend(account, region).clusters
        if not names:
            names = ["default"] if "default" in clusters else []
        found, failures = [], []
        for name_or_arn in names:
            name = str(name_or_arn).rsplit("/", 1)[-1]
            moto_cluster = clusters.get(name)
            if moto_cluster is None:
                failures.append({"arn": f"arn:aws:ecs:{region}:{account}:cluster/{name}", "reason": "MISSING"})
            else:
                found.append(self._cluster_counts(account, region, moto_cluster))
        return {"clusters": found, "failures": failures}

    # ListServices / DescribeServices --------------------------------------------------

    def list_services(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        moto_cluster = self._moto_cluster(account, region, params.get("cluster"))
        sim = self.world.clusters.get((account, region, moto_cluster.name))
        seeded = sim.services if sim is not None else {}
        launch_type = params.get("launchType")
        strategy = params.get("schedulingStrategy")
        arns = []
        for moto_service in self.backend(account, region).services.values():
            if moto_service.cluster_name != moto_cluster.name:
                continue
            own = seeded.get(moto_service.name)
            status = own.status if own else moto_service.status
            kind_launch = own.launch_type if own else moto_service.launch_type
            if status != "ACTIVE":
                # As in ECS: a deleted service (DRAINING, then INACTIVE) is no
                # longer listed; DescribeServices still shows it.
                continue
            if launch_type and kind_launch != launch_type:
                continue
            if strategy and moto_service.scheduling_strategy != strategy:
                continue
            arns.append(own.arn if own else moto_service.arn)
        scope = f"{account}/{region}/{moto_cluster.name}/{launch_type}/{strategy}"
        return self._paged(params, "ListServices", scope, arns, 10, "serviceArns")

    def describe_services(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("services")
        if not isinstance(names, list) or not names:
            raise _invalid("services can not be empty.")
        if len(names) > 10:
            raise _invalid("The services parameter cannot contain more than 10 items.")
        moto_cluster = self._moto_cluster(account, region, params.get("cluster"))
        sim = self.world.clusters.get((account, region, moto_cluster.name))
        backend = self.backend(account, region)
        found, failures = [], []
        for name_or_arn in names:
            name = str(name_or_arn).rsplit("/", 1)[-1]
            own = sim.services.get(name) if sim is not None else None
            if own is not None:
                found.append(render_service(own))
                continue
            moto_service = backend.services.get(f"{moto_cluster.name}:{name}")
            if moto_service is not None:
                found.append(render_moto_service(moto_service))
                continue
            failures.append(_missing(name_or_arn, f"arn:aws:ecs:{region}:{account}:service/{moto_cluster.name}/{name}"))
        return {"services": found, "failures": failures}

    # ListTasks / DescribeTasks -----------------------------------------------------------

    def list_tasks(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        moto_cluster = self._moto_cluster(account, region, params.get("cluster"))
        desired = params.get("desiredStatus") or "RUNNING"
        if desired not in ("RUNNING", "PENDING", "STOPPED"):
            raise _invalid("desiredStatus must be one of RUNNING, PENDING, STOPPED.")
        service_name = params.get("serviceName")
        family = params.get("family")
        launch_type = params.get("launchType")
        started_by = params.get("startedBy")
        sim = self.world.clusters.get((account, region, moto_cluster.name))
        seeded = sim.services if sim is not None else {}
        backend = self.backend(account, region)
        if service_name is not None:
            service_name = str(service_name).rsplit("/", 1)[-1]
            if service_name not in seeded and f"{moto_cluster.name}:{service_name}" not in backend.services:
                raise SERVICE_NOT_FOUND
        arns: list[str] = []
        for service in seeded.values():
            if service_name is not None and service.name != service_name:
                continue
            if family and service.family != family.split(":")[0]:
                continue
            if launch_type and service.launch_type != launch_type:
                continue
            tasks = service.stopped if desired == "STOPPED" else service.tasks.values()
            for task in tasks:
                if started_by and task.deployment != started_by:
                    continue
                arns.append(task.arn)
        for task in backend.tasks.get(moto_cluster.name, {}).values():
            if task.desired_status != desired:
                continue
            if service_name is not None and getattr(task, "group", "") != f"service:{service_name}":
                continue
            if started_by and getattr(task, "started_by", "") != started_by:
                continue
            arns.append(task.task_arn)
        scope = f"{account}/{region}/{moto_cluster.name}/{service_name}/{desired}/{family}/{launch_type}/{started_by}"
        return self._paged(params, "ListTasks", scope, arns, 100, "taskArns")

    def stop_task(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """StopTask: a seeded task stops now with the caller's reason (free text:
        whoever may call ecs:StopTask writes what operators read); any other
        task is moto's."""

        ident = params.get("task")
        if not isinstance(ident, str) or not ident:
            raise _invalid("Task cannot be empty.")
        reason = params.get("reason")
        moto_cluster = self._moto_cluster(account, region, params.get("cluster"))
        task = self.world.tasks.get((account, region, ident.rsplit("/", 1)[-1]))
        if task is None or task.cluster_arn != moto_cluster.arn:
            try:
                stopped = self.backend(account, region).stop_task(moto_cluster.name, ident, reason or "")
            except Exception:  # moto's "not found" is a bare Exception
                raise _invalid("The referenced task was not found.") from None
            return {"task": render_moto_task(stopped)}
        sim_cluster = self.world.cluster(account, region, moto_cluster.name)
        service = sim_cluster.services.get(task.service) if sim_cluster is not None else None
        if task.last_status != "STOPPED" and sim_cluster is not None and service is not None:
            task.stop(now(), stop_code="UserInitiated", reason=str(reason or "Task stopped by user"), exit_code=None)
            self.world.retire_task(service, task)
            self.world.sync_moto(service)
            self.world.sync_cluster(sim_cluster)
        return {"task": render_task(task, account, region)}

    def describe_tasks(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("tasks")
        if not isinstance(ids, list) or not ids:
            raise _invalid("Tasks cannot be empty.")
        if len(ids) > 100:
            raise _invalid("The tasks parameter cannot contain more than 100 items.")
        moto_cluster = self._moto_cluster(account, region, params.get("cluster"))
        # moto keeps a cluster's tasks by ARN; DescribeTasks takes ARNs or ids.
        moto_tasks = {
            arn.rsplit("/", 1)[-1]: task
            for arn, task in self.backend(account, region).tasks.get(moto_cluster.name, {}).items()
        }
        found, failures = [], []
        for id_or_arn in ids:
            tid = str(id_or_arn).rsplit("/", 1)[-1]
            task = self.world.tasks.get((account, region, tid))
            if task is not None and task.cluster_arn == moto_cluster.arn:
                found.append(render_task(task, account, region))
                continue
            moto_task = moto_tasks.get(tid)
            if moto_task is not None:
                found.append(render_moto_task(moto_task))
                continue
            failures.append(_missing(id_or_arn, f"arn:aws:ecs:{region}:{account}:task/{moto_cluster.name}/{tid}"))
        return {"tasks": found, "failures": failures}
