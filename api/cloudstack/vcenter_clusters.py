"""addCluster's VMware part: the virtual switches of the cluster's traffic, and a cluster added
from a vCenter's url (`http://vcenter/datacenter/cluster`) with every host the vCenter cluster
has, as 4.3's VMware discoverer adds them. The vCenter login is sealed in the log and given to
each host as its own login; it is never answered."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from api.cloudstack.hosts import record_host
from api.cloudstack.jobs import adapter_job, await_job
from api.dispatch import Call
from commands import infrastructure as places
from commands.vcenter_clusters import DiscoverHosts, discover_hosts
from domain.errors import DomainError, InvalidParameter, ResourceUnavailable
from domain.infrastructure import Cluster
from domain.vmware_clusters import TRAFFIC, VcenterCluster, VirtualSwitch, vcenter_cluster
from domain.vmware_clusters import virtual_switch as switch_of

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


def vcenter_of(args: dict[str, Any], hypervisor: str) -> VcenterCluster | None:
    """The vCenter cluster a VMware cluster is added from (None without a url)."""
    if not args["url"]:
        return None
    if hypervisor != "VMware":
        raise InvalidParameter(f"A {hypervisor} cluster is not added from a url: use addHost")
    for key in ("username", "password"):
        if not args[key]:
            raise InvalidParameter(f"Missing or invalid parameter {key}.")
    return vcenter_cluster(args["url"])


def add_vcenter_hosts(
    call: Call, cluster: dict[str, Any], vcenter: VcenterCluster, args: dict[str, Any]
) -> None:
    """Ask a VMware adapter for the vCenter cluster's hosts and add each one; a cluster whose
    hosts cannot be listed is removed again, as 4.3 removes it, and the reason answered."""
    cluster_id = UUID(cluster["id"])
    text = f"Discovering the hosts of vCenter cluster {vcenter.path}"
    job_id = adapter_job(call, "Cluster", cluster_id, "HOST.ADD", text)
    command = DiscoverHosts(cluster_id, vcenter, args["username"], args["password"], job_id)
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
        _add_host(call, cluster, name, vcenter.host_url(name), args)


def _add_host(
    call: Call, cluster: dict[str, Any], name: str, url: str, args: dict[str, Any]
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
        "username": args["username"],
        "password": args["password"],
        "allocationstate": None,
        "hosttags": None,
    }
    try:
        record_host(call, given, name=name)
    except ResourceUnavailable as failed:
        log.warning("host %s of cluster %s did not connect: %s", url, cluster["id"], failed)
