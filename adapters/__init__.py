"""Hypervisor adapters: one `Hypervisor` protocol, one driver package per hypervisor.

Adapters run as separate worker processes. They share only `stratus.messages` (and the bus) with
the rest of Stratus: they import nothing from domain/, commands/, projections/ or api/.
Drivers are synchronous (every client library here is); workers run them in threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.haproxy import BalancerConfig
from stratus.actions import Capability


class HypervisorError(Exception):
    """An action failed on the hypervisor; the message is safe to show an operator."""


class AuthenticationError(HypervisorError):
    """The hypervisor refused the credentials."""


class Unreachable(HypervisorError):
    """The hypervisor could not be reached at the given URL."""


class NotFoundOnHost(HypervisorError):
    """The named VM does not exist on the hypervisor."""


@dataclass(frozen=True)
class Credentials:
    """Where and how to log in; the password exists in clear only in the worker's memory."""

    url: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class HostInventory:
    """What a hypervisor host reports about itself when it connects."""

    name: str
    hypervisor: str  # "KVM", "VMware", "XenServer", "Hyperv", "Simulator"
    hypervisor_version: str
    cpu_sockets: int
    cpu_cores: int  # in all sockets together
    cpu_speed_mhz: int
    memory_bytes: int
    local_storage_bytes: int
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiskSpec:
    """A data disk as Stratus asks for it: `disk_id` (the volume's id) names it on the host,
    `device_id` is its slot on the VM (1, 2, 4, ...: 0 is the root disk, 3 the CD-ROM)."""

    disk_id: str
    device_id: int
    size_gb: int
    pool_id: str = ""  # the primary storage pool Stratus placed it on ("": the host's own)
    # Its I/O throttling (bytes_read_rate, bytes_write_rate, iops_read_rate, iops_write_rate,
    # per second): KVM applies them; other drivers leave them, as 4.3's do.
    io_limits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeMove:
    """A disk to copy from one primary storage pool to another (both named by their ids, as
    `connect_pool` made them known to the host). `vm_name` is the VM it is attached to ("" for
    a detached disk); a ROOT disk (`root`) is named on the host by that VM; `live` lets the VM
    keep running while its disk moves (storage motion)."""

    disk_id: str
    size_gb: int
    from_pool_id: str
    to_pool_id: str
    vm_name: str = ""
    root: bool = False
    live: bool = False


@dataclass(frozen=True)
class NicSpec:
    """A guest NIC as Stratus asks for it: its MAC names it on the VM; the broadcast URI
    (``vlan://N``, ``vxlan://N``, empty for an untagged network) is the guest network."""

    mac_address: str
    broadcast_uri: str = ""
    ip_address: str = ""


@dataclass(frozen=True)
class IsoSpec:
    """An ISO for a VM's CD drive: `iso_id` names it; the image store keeps it under a name
    made of its URL and zone, as it downloaded it."""

    iso_id: str
    url: str
    zone_id: str


@dataclass(frozen=True)
class TemplateCapture:
    """A template made from a stopped VM's root disk (createTemplate): `template_id` names it
    in the zone's image store, as `zone_id` and the image format say."""

    template_id: str
    volume_id: str
    zone_id: str
    image_format: str


@dataclass(frozen=True)
class DiskStatus:
    """A data disk as the hypervisor has it; `location` is where it keeps it (a path, a VDI)."""

    disk_id: str
    device_id: int
    size_gb: int
    location: str = ""


@dataclass(frozen=True)
class VmSpec:
    """A VM as Stratus asks for it; `name` is unique on the host and is how actions find it."""

    name: str
    cpu_number: int
    cpu_speed_mhz: int
    memory_mb: int
    root_disk_gb: int = 0
    template: str = ""
    data_disks: tuple[DiskSpec, ...] = ()  # attached data disks the VM must start with
    root_pool_id: str = ""  # the primary storage pool of its root disk ("": the host's own)
    ssh_key: str = ""  # the public key (OpenSSH form) the guest lets in; "" for none
    user_data: str = ""  # the guest's user data (Base64, as the API took it); "" for none
    iso: IsoSpec | None = None  # the ISO in its CD drive: a new guest boots from it
    nics: tuple[NicSpec, ...] = ()  # its guest NICs, default first: it starts with these alone
    keyboard: str = ""  # its console's keyboard layout (e.g. "fr"); "" for the default
    root_io_limits: dict[str, int] = field(default_factory=dict)  # as DiskSpec.io_limits


@dataclass(frozen=True)
class VmStatus:
    name: str
    state: str  # "Running", "Stopped", "Paused"
    cpu_number: int
    memory_mb: int


@dataclass(frozen=True)
class SnapshotSpec:
    """A snapshot of a VM as Stratus asks for it; `name` is unique among the VM's snapshots."""

    name: str
    description: str = ""
    memory: bool = False  # the guest's memory too (only a running VM has any to keep)
    quiesce: bool = False  # quiesce the guest's file systems first (VMware's tools)


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot as the hypervisor holds it."""

    name: str
    memory: bool


@dataclass(frozen=True)
class NetworkCounters:
    """A router's byte counters of its guest network: what the network's guests sent out
    through the router and what they received through it. Counters only grow within one
    `epoch`, a short text that changes whenever they start again from zero (a boot, or a
    driver that keeps running totals starting afresh)."""

    bytes_sent: int
    bytes_received: int
    epoch: str


@dataclass(frozen=True)
class DiskCounters:
    """One disk's counters within `epoch` (as for `NetworkCounters`); `device_id` is its
    slot (0: the root disk)."""

    device_id: int
    io_read: int
    io_write: int
    bytes_read: int
    bytes_write: int
    epoch: str


@dataclass(frozen=True)
class VpnConfig:
    """What a router's remote access VPN serves; the key and passwords exist in clear only in
    the worker's memory (they travel sealed with the host's credentials)."""

    public_ip: str
    local_ip: str
    ip_range: str
    preshared_key: str = field(repr=False)
    users: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (username, password)
    removing: bool = False


@dataclass(frozen=True)
class SiteVpnConfig:
    """A site-to-site VPN connection a VPC router is to hold (`removing`: to drop) as
    `generation`: both ends as `ends` says (addresses, networks, IKE and ESP policies,
    lifetimes, dead peer detection, passive) and the pre-shared key, in clear only in the
    worker's memory."""

    connection_id: str
    generation: int
    ends: dict[str, Any]
    psk: str = field(repr=False)
    removing: bool = False


@dataclass(frozen=True)
class PoolSpec:
    """A primary storage pool a host is to use: `pool_id` names it on the host; `pool_type`
    is CloudStack's (NetworkFilesystem, SharedMountPoint, RBD, ...), `host`/`path` where it is."""

    pool_id: str
    pool_type: str
    host: str
    path: str
    port: int = 0
    user: str = ""


@dataclass(frozen=True)
class PoolStatus:
    """A pool as the host sees it once connected."""

    pool_id: str
    capacity_bytes: int
    available_bytes: int
    location: str = ""  # where the host has it (a libvirt pool's name, a mount point)


class Hypervisor(Protocol):
    """What every driver does. Every action is idempotent by desired state: starting a running
    VM or stopping a stopped one succeeds without acting again."""

    kind: str
    capabilities: frozenset[Capability]  # the parts of this protocol it does (stratus.actions)

    def connect(self, credentials: Credentials) -> HostInventory:
        """Log in and report the host; AuthenticationError or Unreachable when it cannot."""
        ...

    def ping(self) -> bool:
        """Whether the connected host still answers."""
        ...

    def start_vm(self, spec: VmSpec) -> VmStatus:
        """Create the VM if it does not exist, then make sure it runs. A stopped VM is started
        at the spec's CPU count and memory: the spec is what Stratus last recorded for it."""
        ...

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus: ...

    def reboot_vm(self, name: str) -> VmStatus: ...

    def destroy_vm(self, name: str) -> None:
        """Remove the VM; removing one that is already gone succeeds."""
        ...

    def scale_vm(self, name: str, cpu_number: int, memory_mb: int) -> VmStatus: ...

    def vm_status(self, name: str) -> VmStatus:
        """NotFoundOnHost when there is no such VM."""
        ...

    def restore_vm(self, spec: VmSpec, restore_id: str) -> VmStatus:
        """Make the VM's root disk anew, empty or from `spec.template`, at `spec.root_disk_gb`;
        a running VM is powered off for it and started again, a stopped one stays stopped.
        `restore_id` names the restore: asked again for the same one, the disk is left as it
        is. NotFoundOnHost when there is no such VM."""
        ...

    def migrate_vm(
        self, name: str, destination: Credentials, volumes: Sequence[VolumeMove] = ()
    ) -> VmStatus:
        """Move the running VM (or appliance) live to the host `destination` logs in to, with
        its disks when that host does not share them; the status is the one it has there.
        `volumes` are disks that travel with it onto pools the destination has connected and
        this host has not (storage motion to another cluster): checked before anything moves.
        Asked again once it is there (the source no longer has it), it only reports that
        status. NotFoundOnHost when neither host has it; on a failure it keeps running here."""
        ...

    def appliance_version(self, name: str) -> str | None:
        """The release a system VM (router) reports about itself; None when it tells none."""
        ...

    def check_services(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        """The state of a system VM's daemons: "running", "restarted" (found stopped, brought
        back) or "failed" (stopped, and not brought back). Only `restart` ones are restarted;
        another one found stopped is "failed"."""
        ...

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        """Make the data disk (empty, at its size) if the host has none by its id, and plug it
        into the VM in its slot; a running VM gets it at once. Attaching an attached disk
        succeeds without acting again. NotFoundOnHost when there is no such VM."""
        ...

    def detach_volume(self, name: str, disk_id: str) -> None:
        """Unplug the data disk from the VM; the disk itself is kept. Detaching a disk that is
        not attached succeeds."""
        ...

    def resize_volume(
        self, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool = False
    ) -> DiskStatus:
        """Grow (or, with `shrink_ok`, shrink) an attached data disk to `size_gb`; a disk
        already of that size is left alone. HypervisorError when it would shrink otherwise."""
        ...

    def vm_disks(self, name: str) -> tuple[DiskStatus, ...]:
        """The data disks attached to the VM, by slot; NotFoundOnHost when there is no such VM."""
        ...

    def migrate_volume(self, move: VolumeMove) -> DiskStatus:
        """Copy the disk into pool `move.to_pool_id`, point its VM (if any) at the copy and
        delete the original; a disk found in the target pool already is only reported. The
        disk of a running VM is refused unless `move.live`; on a failure the disk stays where
        it was."""
        ...

    def attach_iso(self, name: str, iso: IsoSpec) -> str:
        """Put the ISO in the VM's CD drive (live while it runs, in its definition always);
        answers where the drive reads it from. Putting in the ISO already there succeeds;
        another ISO in the drive is refused."""
        ...

    def detach_iso(self, name: str) -> None:
        """Empty the VM's CD drive (an empty drive stays empty)."""
        ...

    def vm_iso(self, name: str) -> str | None:
        """Where the VM's CD drive reads an ISO from (as `attach_iso` answered), None when it
        is empty."""
        ...

    def plug_nic(self, name: str, nic: NicSpec) -> tuple[str, ...]:
        """Plug a guest NIC into the VM (live while it runs, in its definition always);
        answers the MACs of its NICs after. Plugging a MAC already there succeeds."""
        ...

    def unplug_nic(self, name: str, mac_address: str) -> tuple[str, ...]:
        """Unplug the NIC with that MAC (one that is not there stays away); answers the MACs
        of the VM's NICs after."""
        ...

    def create_template(self, name: str, capture: TemplateCapture) -> dict[str, int]:
        """Copy the stopped VM's root disk into the zone's image store as the template; answers
        its `size` (virtual) and `physical_size` in bytes. A template already made under that
        id is answered as it is; a running VM is refused, a missing one is NotFoundOnHost."""
        ...

    def create_snapshot(self, vm_name: str, snapshot: SnapshotSpec) -> SnapshotInfo:
        """Snapshot the VM's disks (and its memory when asked and it runs); a snapshot of that
        name that exists already is answered as it is, not taken again."""
        ...

    def revert_snapshot(self, vm_name: str, snapshot_name: str) -> VmStatus:
        """Put the VM's disks (and memory, for a memory snapshot) back as the snapshot holds
        them. The VM keeps its power state: a stopped VM stays stopped. NotFoundOnHost when
        the VM or the snapshot is missing."""
        ...

    def delete_snapshot(self, vm_name: str, snapshot_name: str) -> None:
        """Remove one snapshot, keeping the VM as it is; removing one that is gone succeeds."""
        ...

    def list_snapshots(self, vm_name: str) -> tuple[str, ...]:
        """The names of the VM's snapshots, sorted; NotFoundOnHost when there is no such VM."""
        ...

    def network_stats(self, name: str) -> NetworkCounters:
        """A running router's byte counters; NotFoundOnHost when there is no such VM."""
        ...

    def disk_stats(self, name: str) -> tuple[DiskCounters, ...]:
        """A running VM's disk counters, one per disk by slot; NotFoundOnHost when there is
        no such VM."""
        ...

    def apply_network_rules(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> int:
        """Make the running router hold exactly `rules` (its network's whole set: port
        forwarding, firewall, load balancing, static NAT) as `generation`. A set older than
        the one it holds is not applied, so requests answered out of order do no harm.
        `balancer`: the haproxy configuration of the set's load balancers and the PEM bundles
        of their certificates (kept in memory, never recorded in clear). Returns the
        generation the router holds afterwards."""
        ...

    def apply_network_acls(
        self, name: str, generation: int, acls: tuple[dict[str, Any], ...]
    ) -> int:
        """Make the running VPC router hold exactly `acls` (per tier: its CIDR and the ordered
        items of its ACL list) as `generation`; an older set than the one held is not applied.
        Returns the generation the router holds afterwards."""
        ...

    def apply_security_rules(self, name: str, rules: tuple[dict[str, Any], ...]) -> int:
        """Make the VM's guest traffic obey exactly `rules` (its security groups' whole set:
        direction, protocol, start, end, cidr; ingress is denied unless allowed, egress is
        allowed unless egress rules exist). Returns how many rules the host now holds."""
        ...

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        """Make the running router serve the remote access VPN as `vpn` says (or, `removing`,
        stop serving it); answers its state ("Running" or "Removed") and how many users."""
        ...

    def configure_site_vpn(self, name: str, connection: SiteVpnConfig) -> int:
        """Make the running VPC router hold the IPsec connection (or drop it) unless it holds
        a newer generation of it; returns the generation it holds afterwards."""
        ...

    def check_site_vpns(self, name: str, peers: tuple[str, ...]) -> tuple[str, ...]:
        """Of the far gateways `peers`, those to which the running VPC router's tunnel is up
        (see `adapters.site_vpn`)."""
        ...

    def connect_pool(self, pool: PoolSpec) -> PoolStatus:
        """Make the pool known to the host and in use (defining it if the host has none of
        that id); a pool already connected is answered as it is."""
        ...

    def close(self) -> None: ...
