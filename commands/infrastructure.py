"""Commands on zones, pods and clusters: create, update, delete (refused while children exist)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID, uuid4

from commands import Outcome, change
from commands.names import claimed
from commands.network_devices import CLAIM
from domain.errors import InvalidParameter
from domain.infrastructure import Cluster, Pod, Zone, pod_range_end
from domain.network_device import DeviceSpec, NetworkDevice
from domain.vmware_clusters import VirtualSwitch


@dataclass(frozen=True)
class CreateZone:
    name: str
    network_type: str
    dns: dict[str, str]
    guest_cidr: str = ""
    domain_id: UUID | None = None
    allocation_state: str = "Enabled"
    local_storage: bool = False
    network_settings: dict[str, str] = field(default_factory=dict)  # domain.ZONE_NETWORK_FIELDS


def create_zone(store: Any, command: CreateZone) -> Outcome:
    zone = Zone(
        command.name,
        command.network_type,
        command.dns,
        command.guest_cidr,
        command.domain_id,
        command.allocation_state,
        command.local_storage,
    )
    if command.network_settings:
        zone.update(dict(command.network_settings))
    return Outcome(store.last_position(store.save(zone)), zone.id)


@dataclass(frozen=True)
class CreatePod:
    zone_id: UUID
    name: str
    gateway: str
    netmask: str
    start_ip: str
    end_ip: str = ""
    allocation_state: str = "Enabled"


def create_pod(store: Any, command: CreatePod) -> Outcome:
    def attempt() -> Outcome:
        zone = store.get(Zone, command.zone_id, what="zone")
        _check_live(zone, "zone", command.zone_id)
        pod = Pod(
            command.name,
            zone.id,
            command.gateway,
            command.netmask,
            command.start_ip,
            command.end_ip or pod_range_end(command.gateway, command.netmask),
            command.allocation_state,
        )
        zone.attach(pod.id)
        return Outcome(store.last_position(store.save(pod, zone)), pod.id)

    return store.run(attempt)


def _check_live(container: Any, what: str, given: UUID) -> None:
    if container.removed:
        raise InvalidParameter(f"Unable to find {what} with id {given}")


@dataclass(frozen=True)
class AddCluster:
    zone_id: UUID
    pod_id: UUID
    name: str
    hypervisor: str
    cluster_type: str = "CloudManaged"
    allocation_state: str = "Enabled"
    vsm: DeviceSpec | None = None  # a VMware cluster's Nexus 1000v VSM, registered with it
    switches: dict[str, VirtualSwitch] = field(default_factory=dict)  # by traffic (VMware)


def add_cluster(store: Any, command: AddCluster) -> Outcome:
    def attempt() -> Outcome:
        pod = store.get(Pod, command.pod_id, what="pod")
        _check_live(pod, "pod", command.pod_id)
        if pod.zone_id != command.zone_id:
            raise InvalidParameter(f"Pod {pod.name} is not in zone {command.zone_id}")
        cluster = Cluster(
            command.name,
            command.zone_id,
            pod.id,
            command.hypervisor,
            command.cluster_type,
            command.allocation_state,
        )
        cluster.choose_switches(command.switches)
        pod.attach(cluster.id)
        made: list[Any] = [cluster, pod]
        if command.vsm is not None:
            vsm = NetworkDevice(uuid4(), **replace(command.vsm, cluster_id=cluster.id).fields())
            made += [vsm, *(claimed(store, CLAIM, k, vsm.id, w) for k, w in vsm.claims())]
        return Outcome(store.last_position(store.save(*made)), cluster.id)

    return store.run(attempt)


@dataclass(frozen=True)
class UpdateContainer:
    kind: type
    container_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


def update_container(store: Any, command: UpdateContainer) -> Outcome:
    return change(
        store,
        command.kind,
        command.container_id,
        lambda container: container.update(command.changes),
    )


PARENTS: dict[type, tuple[type, str, str]] = {
    Pod: (Zone, "zone_id", "pods"),
    Cluster: (Pod, "pod_id", "clusters"),
}
CHILDREN: dict[type, str] = {Zone: "pods", Pod: "clusters", Cluster: "hosts"}


@dataclass(frozen=True)
class DeleteContainer:
    kind: type
    container_id: UUID


def delete_container(store: Any, command: DeleteContainer) -> Outcome:
    """Remove a zone, pod or cluster; refused while it still has children."""

    def attempt() -> Outcome:
        container = store.get(
            command.kind, command.container_id, what=command.kind.__name__.lower()
        )
        container.remove(CHILDREN[command.kind])
        saved = [container]
        if command.kind in PARENTS:
            parent_kind, attribute, _ = PARENTS[command.kind]
            parent = store.get(parent_kind, getattr(container, attribute))
            parent.detach(container.id)
            saved.append(parent)
        return Outcome(store.last_position(store.save(*saved)), container.id)

    return store.run(attempt)
