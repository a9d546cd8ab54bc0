"""A VMware cluster added from a vCenter's url: a VMware adapter lists the hosts of the vCenter
cluster (`discover_cluster`, with the vCenter login sealed) under a job that its result
finishes; the API then adds each host found as addHost does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome
from commands.requests_in_flight import settle_request
from domain.infrastructure import Cluster
from domain.values import Secret
from domain.vmware_clusters import VcenterCluster
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

ACTION = "discover_cluster"


@dataclass(frozen=True)
class DiscoverHosts:
    cluster_id: UUID
    vcenter: VcenterCluster
    username: str
    password: str = field(repr=False)
    job_id: UUID | None = None


def discover_hosts(store: Any, command: DiscoverHosts) -> Outcome:
    def attempt() -> Outcome:
        cluster: Cluster = store.get(Cluster, command.cluster_id, what="cluster")
        cluster.request_discovery(
            uuid.uuid4().hex,
            command.job_id,
            command.vcenter,
            (command.username, Secret(command.password)),
        )
        return Outcome(store.last_position(store.save(cluster)), cluster.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def on_discover_result(store: Any, result: WorkResult) -> Outcome:
    """The hosts found, or why none could be (kept in the job's failure)."""

    def settle(cluster: Cluster) -> list[Any]:
        if result.ok:
            names = [str(name) for name in result.data.get("hosts", [])]
            cluster.hosts_discovered(result.request_id, names)
        else:
            cluster.discovery_failed(result.request_id, result.error or "")
        return []

    return settle_request(store, Cluster, result, settle, _named)


def _named(cluster: Cluster) -> dict[str, Any]:
    return {"object": "cluster", "id": str(cluster.id)}


def discovery_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """The request goes to a VMware adapter with the vCenter's login sealed."""

    def outgoing(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor="vmware",
            action=ACTION,
            target_id=str(e.originator_id),
            params={"name": e.path},
            sealed_credentials=seal_credentials(box, e.sdk_url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    requested: Any = Cluster  # events made by the library's decorator
    return {get_topic(requested.DiscoveryRequested): outgoing}


OUTBOX_ROUTES = discovery_routes
RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {ACTION: on_discover_result}
