"""Zone, Pod and Cluster: the places hosts live in, each refusing removal while it has children."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, ResourceInUse
from domain.values import Secret
from domain.vmware_clusters import VcenterCluster, VirtualSwitch

ALLOCATION_STATES = ("Enabled", "Disabled")
DNS_FIELDS = ("dns1", "dns2", "internal_dns1", "internal_dns2")
# A zone's settings kept as they are given: its guests' network domain and IPv6 DNS servers.
ZONE_NETWORK_FIELDS = ("network_domain", "ip6_dns1", "ip6_dns2")


def _check_allocation(state: str) -> str:
    if state not in ALLOCATION_STATES:
        raise InvalidParameter(f"Invalid allocation state {state}: use Enabled or Disabled")
    return state


def pod_range_end(gateway: str, netmask: str) -> str:
    """Where a pod's management range ends when no end is given: as 4.3, the last address of
    the gateway's subnet before its broadcast address."""
    try:
        subnet = IPv4Network(f"{gateway}/{netmask}", strict=False)
    except ValueError as error:
        raise InvalidParameter(f"Invalid gateway {gateway} or netmask {netmask}") from error
    return str(subnet.broadcast_address - 1)


class Container(Aggregate):
    """What zones, pods and clusters share: a name, an allocation state and children.

    Subclasses set `name`, `allocation_state`, `child_ids` and `removed` when created. (No class
    annotations here: the library would take them for fields of every subclass's events.)
    """

    if TYPE_CHECKING:  # declared for type checkers only: at run time they would be event fields
        name: str
        allocation_state: str
        child_ids: list[UUID]
        removed: bool

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidParameter(f"{type(self).__name__} {self.name} has been removed")

    @event("ChildAttached")
    def attach(self, child_id: UUID) -> None:
        self.child_ids.append(child_id)

    @event("ChildDetached")
    def detach(self, child_id: UUID) -> None:
        if child_id in self.child_ids:
            self.child_ids.remove(child_id)

    def update(self, changes: dict[str, Any]) -> None:
        self._check_live()
        if "allocation_state" in changes:
            _check_allocation(changes["allocation_state"])
        if changes:
            self._updated(kind=type(self).__name__, changes=dict(changes))

    # The shared events carry `kind`: their class is the same for zones, pods and clusters.
    @event("Updated")
    def _updated(self, kind: str, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def remove(self, what_children: str) -> None:
        self._check_live()
        if self.child_ids:
            raise ResourceInUse(
                f"The {type(self).__name__.lower()} {self.name} still has {what_children}; "
                "remove them first",
                resource_ids=tuple(str(i) for i in self.child_ids),
            )
        self._removed(kind=type(self).__name__)

    @event("Removed")
    def _removed(self, kind: str) -> None:
        self.removed = True


class Zone(Container):
    """An availability zone: its DNS servers, network type and pods."""

    @event("Created")
    def __init__(
        self,
        name: str,
        network_type: str,
        dns: dict[str, str],
        guest_cidr: str,
        domain_id: UUID | None,
        allocation_state: str,
        local_storage: bool,
    ) -> None:
        if network_type not in ("Basic", "Advanced"):
            raise InvalidParameter("Invalid network type: use Basic or Advanced")
        self.name = name
        self.network_type = network_type
        self.dns = dict(dns)
        self.guest_cidr = guest_cidr
        self.domain_id = domain_id
        self.allocation_state = _check_allocation(allocation_state)
        self.local_storage = local_storage
        self.child_ids = []
        self.removed = False

    def update(self, changes: dict[str, Any]) -> None:
        """Zone changes; DNS servers are kept together, as they were given at creation."""
        changes = dict(changes)
        servers = {k: changes.pop(k) for k in DNS_FIELDS if k in changes}
        if servers:
            changes["dns"] = {**self.dns, **servers}
        if "details" in changes:  # given details are added to the kept ones, or replace them
            changes["details"] = {**getattr(self, "details", {}), **changes["details"]}
        super().update(changes)


class Pod(Container):
    """A rack: its management IP range and clusters."""

    @event("Created")
    def __init__(
        self,
        name: str,
        zone_id: UUID,
        gateway: str,
        netmask: str,
        start_ip: str,
        end_ip: str,
        allocation_state: str,
    ) -> None:
        self.name = name
        self.zone_id = zone_id
        self.gateway = gateway
        self.netmask = netmask
        self.start_ip = start_ip
        self.end_ip = end_ip
        self.allocation_state = _check_allocation(allocation_state)
        self.child_ids = []
        self.removed = False


HYPERVISORS = ("XenServer", "KVM", "VMware", "Hyperv", "BareMetal", "Simulator")


def check_hypervisor(name: str) -> str:
    for known in HYPERVISORS:
        if known.lower() == name.lower():
            return known
    raise InvalidParameter(f"Unable to resolve hypervisor type {name}")


class Cluster(Container):
    """Hosts of one hypervisor type that share storage."""

    @event("Created")
    def __init__(
        self,
        name: str,
        zone_id: UUID,
        pod_id: UUID,
        hypervisor: str,
        cluster_type: str,
        allocation_state: str,
    ) -> None:
        if cluster_type not in ("CloudManaged", "ExternalManaged"):
            raise InvalidParameter("Invalid cluster type: use CloudManaged or ExternalManaged")
        self.name = name
        self.zone_id = zone_id
        self.pod_id = pod_id
        self.hypervisor = check_hypervisor(hypervisor)
        self.cluster_type = cluster_type
        self.allocation_state = _check_allocation(allocation_state)
        self.managed_state = "Managed"
        self.child_ids = []
        self.removed = False
        self.switches: dict[str, dict[str, str]] = {}  # by traffic: {"type": …, "name": …}
        # A vCenter cluster's hosts, asked of a VMware adapter (addCluster with a url).
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.vcenter_hosts: list[str] = []

    def choose_switches(self, switches: dict[str, VirtualSwitch]) -> None:
        """The virtual switches of the cluster's guest and public traffic (VMware only)."""
        if not switches:
            return
        if self.hypervisor != "VMware":
            raise InvalidParameter("Virtual switches are chosen for VMware clusters only")
        chosen = {t: {"type": s.switch_type, "name": s.name} for t, s in switches.items()}
        self._switches_chosen(switches=chosen)

    @event("SwitchesChosen")
    def _switches_chosen(self, switches: dict[str, dict[str, str]]) -> None:
        self.switches = {**self.switches, **switches}

    def request_discovery(
        self,
        request_id: str,
        job_id: UUID | None,
        vcenter: VcenterCluster,
        credentials: tuple[str, Secret],
    ) -> None:
        """Ask for the hosts of the vCenter cluster this cluster stands for."""
        if self.hypervisor != "VMware":
            raise InvalidParameter("Only a VMware cluster is added from a vCenter's url")
        self._discovery_requested(
            request_id=request_id,
            job_id=job_id,
            sdk_url=vcenter.sdk_url,
            path=vcenter.path,
            username=credentials[0],
            password=credentials[1],
        )

    @event("DiscoveryRequested")
    def _discovery_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        sdk_url: str,
        path: str,
        username: str,
        password: Secret,
    ) -> None:
        self.request_id, self.job_id = request_id, job_id

    def is_current(self, request_id: str) -> bool:
        return self.request_id is not None and request_id == self.request_id

    @event("HostsDiscovered")
    def hosts_discovered(self, request_id: str, host_names: list[str]) -> None:
        self.request_id, self.vcenter_hosts = None, list(host_names)

    @event("DiscoveryFailed")
    def discovery_failed(self, request_id: str, reason: str) -> None:
        self.request_id = None
