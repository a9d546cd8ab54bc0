"""addCluster's VMware part: the virtual switches of the cluster's traffic, and a cluster added
from a vCenter's url (`http://vcenter/datacenter/cluster`) with every host the vCenter cluster
has, as 4.3's VMware discoverer adds them. The vCenter login is sealed in the log and given to
each host as its own login; it is never answered."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from api.cloudstack.hosts import record_host
from api.cloudstack.jobs import adapter_job, await_job
from api.dispatch import Call
from commands import infrastructure as places
from commands.vcenter_clusters import DiscoverHosts, discover_hosts
from domain.errors import DomainError, InvalidParameter, NotFound, ResourceUnavailable
from domain.infrastructure import Cluster
from domain.vmware_clusters import TRAFFIC, VcenterCluster, VirtualSwitch, vcenter_cluster
from domain.vmware_clusters import virtual_switch as switch_of
from domain.vmware_datacenter import ASSOCIATED, VmwareDatacenter, datacenter_id

DISCOVERY_WAIT = 60.0
log = logging.getLogger(__name__)


def switches_of(args: dict[str, Any], hypervisor: str) -> dict[str, VirtualSwitch]:
    """The switches asked for, by traffic (431 for a type 4.3 does not know, or for a cluster
    that is not VMware's)."""
    chosen = {}
    for traffic in TRAFFIC:
        found = switch_of(traffic, args[f"{traffic}vswitchtype"], args[f"{traffic}vswitchname"])
        if found is not None:
            chosen[traffic] = found
    if chosen and hypervisor != "VMware":
        raise InvalidParameter("Virtual switches are chosen for VMware clusters only")
    return chosen


@dataclass(frozen=True)
class ClusterSource:
    """The vCenter cluster a VMware cluster is added from, and the login to reach it with."""

    vcenter: VcenterCluster
    username: str
    password: str = field(repr=False)


def source_of(call: Call, args: dict[str, Any], hypervisor: str) -> ClusterSource | None:
    """Where a VMware cluster is added from (None without a url). In a zone associated with a
    vCenter datacenter (addVmwareDc) the cluster must be one of that datacenter's, and the
    login not given is the association's, as in 4.3."""
    if not args["url"]:
        return None
    if hypervisor != "VMware":
        raise InvalidParameter(f"A {hypervisor} cluster is not added from a url: use addHost")
    vcenter = vcenter_cluster(args["url"])
    login = {"username": args["username"], "password": args["password"]}
    associated = _zone_datacenter(call, args["zoneid"])
    if associated is not None:
        vcenter.check_in(associated.name, associated.vcenter)
        login["username"] = login["username"] or associated.username
        login["password"] = login["password"] or associated.password.reveal()
    for key, value in login.items():
        if not value:
            raise InvalidParameter(f"Missing or invalid parameter {key}.")
    return ClusterSource(vcenter, login["username"], login["password"])


def _zone_datacenter(call: Call, zone_id: str) -> VmwareDatacenter | None:
    try:
        found: VmwareDatacenter = call.store.get(VmwareDatacenter, datacenter_id(UUID(zone_id)))
    except NotFound:
        return None
    return found if found.state == ASSOCIATED else None


def add_vcenter_hosts(call: Call, cluster: dict[str, Any], source: ClusterSource) -> None:
    """Ask a VMware adapter for the vCenter cluster's hosts and add each one; a cluster whose
    hosts cannot be listed is removed again, as 4.3 removes it, and the reason answered."""
    cluster_id, vcenter = UUID(cluster["id"]), source.vcenter
    text = f"Discovering the hosts of vCenter cluster {vcenter.path}"
    job_id = adapter_job(call, "Cluster", cluster_id, "HOST.ADD", text)
    command = DiscoverHosts(cluster_id, vcenter, source.username, source.password, job_id)
    try:
        outcome = call.write(discover_hosts, command)
        await_job(call, str(job_id), str(outcome.id), DISCOVERY_WAIT)
        found = call.store.get(Cluster, cluster_id)
        if found.request_id is not None:
            raise ResourceUnavailable(
                f"No VMware adapter answered about vCenter cluster {vcenter.path} in time"
            )
    except DomainError:
        call.write(places.delete_container, places.DeleteContainer(Cluster, cluster_id))
        raise
    for name in found.vcenter_hosts:
        _add_host(call, cluster, name, vcenter.host_url(name), source)


def _add_host(
    call: Call, cluster: dict[str, Any], name: str, url: str, source: ClusterSource
) -> None:
    """One host of the vCenter cluster, as addHost adds it; a host that does not connect is
    kept (listHosts shows why) and the others are still added."""
    given = {
        "zoneid": cluster["zone_id"],
        "podid": cluster["pod_id"],
        "clusterid": cluster["id"],
        "clustername": None,
        "hypervisor": "VMware",
        "url": url,
        "username": source.username,
        "password": source.password,
        "allocationstate": None,
        "hosttags": None,
    }
    try:
        record_host(call, given, name=name)
    except ResourceUnavailable as failed:
        log.warning("host %s of cluster %s did not connect: %s", url, cluster["id"], failed)
