"""SimulatorDriver: a whole `Hypervisor` in memory, with knobs a test turns to make it misbehave.

A `SimulatedWorld` holds every simulated host of a process (by URL host name) and the knobs; each
driver instance talks to one host of a world, so many drivers (one per worker, say) can share
one world the way many clients share one real hypervisor. Host shape comes from the URL query:
``simulator://host1?sockets=2&cores=16&mhz=2400&memory_gb=64&storage_gb=500`` (``cores`` counts
all sockets together, as `HostInventory.cpu_cores` does). ``connect_delay=2`` (seconds) makes each
connect to that host slow: the knob a test reaches from outside the worker's process.
``fail=start_vm`` (repeatable, or comma-separated) makes every such action on that host fail
(``fail=attach_volume`` for a disk action, say).

Data disks live in a host's storage by disk id (their size survives a detach) and are plugged
into a VM's slots; `start_vm` plugs in the data disks its spec lists. A VM that was not running
comes up with exactly the guest NICs its spec lists (`SimulatedVm.nics`, as hot-plug keeps them).

Template downloads (`download_template`) need no host: they succeed at once with the size the
image URL's query gives (``size_gb=N``) or one derived from the URL, or fail with ``fail=<reason>``.

Each host runs one action at a time (a real hypervisor serialises jobs per VM as well), and a
configured delay is served inside that turn: a second worker asking for the same thing waits,
then finds it done. `acted` counts the actions that changed something; `calls` every call.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adapters import (
    Credentials,
    DiskCounters,
    DiskSpec,
    DiskStatus,
    HostInventory,
    HypervisorError,
    IsoSpec,
    NetworkCounters,
    NicSpec,
    NotFoundOnHost,
    PoolSpec,
    PoolStatus,
    SiteVpnConfig,
    TemplateCapture,
    Unreachable,
    VmSpec,
    VmStatus,
    VolumeMove,
    VpnConfig,
)
from adapters.fetch import FetchPolicy, refused
from adapters.haproxy import BalancerConfig
from adapters.simulator.security import digest
from adapters.simulator.snapshots import SimulatedSnapshots
from adapters.simulator.world import (
    DEFAULT_WORLD,
    HostShape,
    Mock,
    SimulatedHost,
    SimulatedVm,
    SimulatedWorld,
    Turn,
    connect_delay,
    failing_actions,
)
from adapters.site_vpn import tunnel_up
from stratus.actions import CAPABILITIES

_GIB = 1024**3
SIMULATOR_VERSION = "4.3.0-sim"
SHARE_BYTES = 2 * 1024**4  # every simulated primary storage share


class SimulatorDriver(SimulatedSnapshots):
    """The `Hypervisor` protocol in memory; `kind` lets it stand in for any hypervisor.

    It can do everything, whatever kind it stands in for: a test of what a kind lacks drives
    that kind's own driver, and the server refuses such work before it reaches any adapter.
    """

    capabilities = CAPABILITIES["simulator"]

    def __init__(self, world: SimulatedWorld | None = None, *, kind: str = "Simulator") -> None:
        self.kind = kind
        self.world = world if world is not None else DEFAULT_WORLD
        self._host: SimulatedHost | None = None

    def connect(self, credentials: Credentials) -> HostInventory:
        parts = urlsplit(credentials.url)
        if not parts.hostname:
            raise Unreachable(f"no host name in simulator URL {parts.scheme}://{parts.netloc}")
        shape = HostShape.from_query(parts.query)
        self.world.gate("connect", parts.hostname)
        # Served before acting, so a worker killed during the delay has changed nothing.
        time.sleep(connect_delay(parts.query))
        self.world.check_login(credentials)
        host = self.world.host(parts.hostname, shape)
        host.failing = failing_actions(parts.query)
        self.world.record("connect")
        self._host = host
        return self._inventory(host)

    def ping(self) -> bool:
        host = self._host
        if host is None:
            return False
        try:
            self.world.gate("ping", host.name)
        except HypervisorError:
            return False
        return True

    def start_vm(self, spec: VmSpec) -> VmStatus:
        with self._turn("start_vm") as host:
            vm = host.vms.get(spec.name)
            if vm is None:
                # Its root disk is made on its pool when the host has that pool connected.
                pool = spec.root_pool_id if spec.root_pool_id in host.pools else ""
                vm = host.vms[spec.name] = SimulatedVm(replace(spec, root_pool_id=pool, nics=()))
            elif vm.state == "Stopped":
                # A stopped VM starts at the size Stratus asks for now (it may have been scaled).
                vm.spec = replace(
                    vm.spec,
                    cpu_number=spec.cpu_number,
                    memory_mb=spec.memory_mb,
                    ssh_key=spec.ssh_key,
                    user_data=spec.user_data,
                    keyboard=spec.keyboard,
                )
            for disk in spec.data_disks:
                if disk.disk_id not in vm.disks:
                    _plug(host, vm, disk)
            if spec.iso is not None and vm.cdrom is None:
                vm.cdrom = _iso_location(host, spec.iso)
            if vm.state != "Running":
                # It comes up with the NICs Stratus names, in its order, and no others.
                vm.nics = {nic.mac_address: nic for nic in spec.nics}
                vm.state, vm.boots = "Running", vm.boots + 1
                self.world.record("start_vm")
            return _status(vm)

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus:
        with self._turn("stop_vm") as host:
            vm = _find(host, name)
            if vm.state != "Stopped":
                vm.state = "Stopped"
                self.world.record("stop_vm")
            return _status(vm)

    def reboot_vm(self, name: str) -> VmStatus:
        with self._turn("reboot_vm") as host:
            vm = _find(host, name)
            if vm.state != "Running":
                raise HypervisorError(f"cannot reboot {name}: it is {vm.state.lower()}")
            vm.boots += 1
            self.world.record("reboot_vm")
            return _status(vm)

    def destroy_vm(self, name: str) -> None:
        with self._turn("destroy_vm") as host:
            if host.vms.pop(name, None) is not None:
                self.world.firewalls.forget(name)
                self.world.record("destroy_vm")

    def scale_vm(self, name: str, cpu_number: int, memory_mb: int) -> VmStatus:
        with self._turn("scale_vm") as host:
            vm = _find(host, name)
            wanted = replace(vm.spec, cpu_number=cpu_number, memory_mb=memory_mb)
            if wanted != vm.spec:
                vm.spec = wanted
                self.world.record("scale_vm")
            return _status(vm)

    def vm_status(self, name: str) -> VmStatus:
        with self._turn("vm_status") as host:
            return _status(_find(host, name))

    def restore_vm(self, spec: VmSpec, restore_id: str) -> VmStatus:
        with self._turn("restore_vm") as host:
            vm = _find(host, spec.name)
            if vm.restored_by != restore_id:
                vm.spec = replace(vm.spec, template=spec.template, root_disk_gb=spec.root_disk_gb)
                vm.root_builds, vm.restored_by = vm.root_builds + 1, restore_id
                if vm.state == "Running":
                    vm.boots += 1  # powered off for the new disk, and started again
                self.world.record("restore_vm")
            return _status(vm)

    def migrate_vm(
        self, name: str, destination: Credentials, volumes: Sequence[VolumeMove] = ()
    ) -> VmStatus:
        """Move the VM, its data disks with it, to the simulated host `destination` names;
        `volumes` land on pools the destination must have connected (checked first). Both
        hosts take their turn, in the order of their names, so two moves the opposite way
        cannot wait for each other."""
        target = self._destination(destination)
        source = self._turn("migrate_vm")
        arriving = Turn(self.world, target, "receive_vm")
        with contextlib.ExitStack() as turns:
            for turn in sorted((source, arriving), key=lambda t: t.host_name):
                turns.enter_context(turn)
            return _move(self._require_host(), target, name, self.world, volumes)

    def _destination(self, credentials: Credentials) -> SimulatedHost:
        parts = urlsplit(credentials.url)
        if not parts.hostname:
            raise Unreachable(f"no host name in simulator URL {parts.scheme}://{parts.netloc}")
        self.world.check_login(credentials)
        if self._host is not None and parts.hostname == self._host.name:
            raise HypervisorError(f"{parts.hostname} is the host the VM runs on")
        return self.world.host(parts.hostname, HostShape.from_query(parts.query))

    def _require_host(self) -> SimulatedHost:
        if self._host is None:
            raise HypervisorError("the simulator driver is not connected")
        return self._host

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        with self._turn("attach_volume") as host:
            vm = _find(host, name)
            if disk.disk_id not in vm.disks:
                _plug(host, vm, disk)
                self.world.record("attach_volume")
            return vm.disks[disk.disk_id]

    def fill_volume(self, name: str, disk_id: str, blocks: Iterable[bytes]) -> int:
        """Write an image's bytes into the VM's disk: a simulated disk keeps only their count
        and digest (`SimulatedHost.disk_images`); returns how many bytes were written."""
        digest, size = hashlib.sha256(), 0
        for block in blocks:
            digest.update(block)
            size += len(block)
        with self._turn("fill_volume") as host:
            if disk_id not in _find(host, name).disks:
                raise NotFoundOnHost(f"no disk {disk_id} is attached to {name} on {host.name}")
            host.disk_images[disk_id] = {"bytes": size, "sha256": digest.hexdigest()}
            self.world.record("fill_volume")
        return size

    def detach_volume(self, name: str, disk_id: str) -> None:
        with self._turn("detach_volume") as host:
            if _find(host, name).disks.pop(disk_id, None) is not None:
                self.world.record("detach_volume")

    def resize_volume(
        self, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool = False
    ) -> DiskStatus:
        with self._turn("resize_volume") as host:
            vm = _find(host, name)
            disk = vm.disks.get(disk_id)
            if disk is None:
                raise NotFoundOnHost(f"no disk {disk_id} is attached to {name} on {host.name}")
            if size_gb < disk.size_gb and not shrink_ok:
                raise HypervisorError(f"disk {disk_id} of {name} would shrink: not allowed")
            if size_gb != disk.size_gb:
                vm.disks[disk_id] = replace(disk, size_gb=size_gb)
                host.volumes[disk_id] = size_gb
                self.world.record("resize_volume")
            return vm.disks[disk_id]

    def migrate_volume(self, move: VolumeMove) -> DiskStatus:
        """Record the disk on the target pool (which the host must have connected): a data
        disk in the host's disk map and its VM's plugged disk, a root disk in its VM's spec."""
        with self._turn("migrate_volume") as host:
            return _moved(host, move, self.world)

    def attach_iso(self, name: str, iso: IsoSpec) -> str:
        with self._turn("attach_iso") as host:
            vm = _find(host, name)
            location = _iso_location(host, iso)
            if vm.cdrom not in (None, location):
                raise HypervisorError(f"the CD drive of {name} holds {vm.cdrom} already")
            if vm.cdrom is None:
                vm.cdrom = location
                self.world.record("attach_iso")
            return location

    def detach_iso(self, name: str) -> None:
        with self._turn("detach_iso") as host:
            vm = _find(host, name)
            if vm.cdrom is not None:
                vm.cdrom = None
                self.world.record("detach_iso")

    def plug_nic(self, name: str, nic: NicSpec) -> tuple[str, ...]:
        with self._turn("plug_nic") as host:
            vm = _find(host, name)
            if nic.mac_address not in vm.nics:
                vm.nics[nic.mac_address] = nic
                self.world.record("plug_nic")
            return tuple(vm.nics)

    def unplug_nic(self, name: str, mac_address: str) -> tuple[str, ...]:
        with self._turn("unplug_nic") as host:
            vm = _find(host, name)
            if vm.nics.pop(mac_address, None) is not None:
                self.world.record("unplug_nic")
            return tuple(vm.nics)

    def vm_iso(self, name: str) -> str | None:
        with self._turn("vm_iso") as host:
            return _find(host, name).cdrom

    def vm_disks(self, name: str) -> tuple[DiskStatus, ...]:
        with self._turn("vm_disks") as host:
            disks = _find(host, name).disks.values()
            return tuple(sorted(disks, key=lambda disk: disk.device_id))

    def appliance_version(self, name: str) -> str | None:
        """The release in the image the appliance booted (see `ApplianceKnobs`)."""
        with self._turn("appliance_version") as host:
            return self.world.appliances.release(_find(host, name).spec.template)

    def check_services(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        with self._turn("check_services") as host:
            vm = _find(host, name)
            if vm.state != "Running":
                raise HypervisorError(f"cannot check the services of {name}: it is not running")
            found = self.world.appliances.check(name, services, restart)
            if "restarted" in found.values():
                self.world.record("restart_service")
            return found

    def network_stats(self, name: str) -> NetworkCounters:
        """The router's counters of its current boot (see `StatisticsKnobs`)."""
        with self._turn("network_stats") as host:
            vm = _running(host, name)
            sent, received = self.world.statistics.network(name, vm.boots)
            return NetworkCounters(sent, received, _epoch(host, vm))

    def disk_stats(self, name: str) -> tuple[DiskCounters, ...]:
        """The root disk's counters (slot 0): the simulator keeps no counters of data disks."""
        with self._turn("disk_stats") as host:
            vm = _running(host, name)
            reads, writes, read, written = self.world.statistics.disks(name, vm.boots, (0,))[0]
            return (DiskCounters(0, reads, writes, read, written, _epoch(host, vm)),)

    def apply_network_rules(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> int:
        """The running router holds the set (see `RuleSets`); an older generation is ignored."""
        with self._turn("apply_network_rules") as host:
            vm = _find(host, name)
            if vm.state != "Running":
                raise HypervisorError(f"cannot apply network rules on {name}: it is not running")
            if self.world.rule_sets.apply(name, generation, rules, balancer):
                self.world.record("apply_network_rules")
            return self.world.rule_sets.generation(name)

    def apply_network_acls(
        self, name: str, generation: int, acls: tuple[dict[str, Any], ...]
    ) -> int:
        """The running VPC router holds the ACL set (see `RuleSets`); an older one is ignored."""
        with self._turn("apply_network_acls") as host:
            vm = _find(host, name)
            if vm.state != "Running":
                raise HypervisorError(f"cannot apply network ACLs on {name}: it is not running")
            if self.world.acl_sets.apply(name, generation, acls):
                self.world.record("apply_network_acls")
            return self.world.acl_sets.generation(name)

    def configure_site_vpn(self, name: str, connection: SiteVpnConfig) -> int:
        """The running VPC router holds the connection, as a set of its own (`RuleSets`,
        keyed `<router>/<connection>`: its ends and a digest of the key; empty once dropped);
        an older generation is ignored."""
        with self._turn("configure_site_vpn") as host:
            if _find(host, name).state != "Running":
                raise HypervisorError(f"cannot configure a site-to-site VPN on {name}: not running")
            key = f"{name}/{connection.connection_id}"
            held = {**connection.ends, "psk_sha256": digest(connection.psk)}
            entries = () if connection.removing else (held,)
            if self.world.site_vpns.apply(key, connection.generation, entries):
                self.world.record("configure_site_vpn")
            return self.world.site_vpns.generation(key)

    def check_site_vpns(self, name: str, peers: tuple[str, ...]) -> tuple[str, ...]:
        """The running router's tunnels that are up: a connection it holds that a connection
        held by another running router of the simulated world mirrors (`tunnel_up`)."""
        with self._turn("check_site_vpns") as host:
            if _find(host, name).state != "Running":
                raise HypervisorError(f"cannot check the site-to-site VPNs of {name}: not running")
            running = {
                vm_name
                for other in self.world.hosts.values()
                for vm_name, vm in other.vms.items()
                if vm.state == "Running"
            }
            own: list[dict[str, Any]] = []
            others: list[dict[str, Any]] = []
            for key, (_generation, entries) in self.world.site_vpns.everything().items():
                router = key.rpartition("/")[0]
                if router == name:
                    own.extend(entries)
                elif router in running:
                    others.extend(entries)
            return tuple(p for p in peers if tunnel_up(p, own, others))

    def apply_security_rules(self, name: str, rules: tuple[dict[str, Any], ...]) -> int:
        """The VM's guest firewall holds the set (see `GuestFirewalls`)."""
        with self._turn("apply_security_rules") as host:
            _find(host, name)
            if self.world.firewalls.apply(name, rules):
                self.world.record("apply_security_rules")
            return len(self.world.firewalls.rules(name))

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        """The running router serves the VPN (or stops serving it)."""
        with self._turn("configure_vpn") as host:
            if _find(host, name).state != "Running":
                raise HypervisorError(f"cannot configure the VPN of {name}: it is not running")
            self.world.record("configure_vpn")
            return self.world.firewalls.configure_vpn(name, vpn)

    def create_template(self, name: str, capture: TemplateCapture) -> dict[str, int]:
        """Copy a stopped VM's root disk into the host's image store, under the template's id:
        its size is the root disk's (1 GiB for a VM started with none)."""
        with self._turn("create_template") as host:
            made = host.templates.get(capture.template_id)
            if made is not None:
                return {"size": made["size"], "physical_size": made["physical_size"]}
            vm = _find(host, name)
            if vm.state != "Stopped":
                raise HypervisorError(f"cannot copy the root disk of {name}: it is {vm.state}")
            size = max(vm.spec.root_disk_gb, 1) * _GIB
            host.templates[capture.template_id] = {
                "vm": name,
                "volume_id": capture.volume_id,
                "zone_id": capture.zone_id,
                "format": capture.image_format,
                "size": size,
                "physical_size": size // 3,
            }
            self.world.record("create_template")
            return {"size": size, "physical_size": size // 3}

    def download_template(
        self,
        *,
        url: str,
        image_format: str,
        checksum: str,
        zone_id: str,
        policy: FetchPolicy | None = None,
    ) -> dict[str, int]:
        """Fetch an image into a zone's store, at once. The URL's query shapes the outcome:
        ``size_gb=N`` (else a size derived from the URL) and ``fail=<reason>``; an image larger
        than the policy allows is refused as a real fetch refuses it (nothing is fetched)."""
        parts = urlsplit(url)
        self.world.gate("download_template", parts.hostname or "")
        query = {key: items[-1] for key, items in parse_qs(parts.query).items()}
        if "fail" in query:
            raise HypervisorError(f"download of {url} failed: {query['fail']}")
        size = _image_size(url, query.get("size_gb"))
        if size > (policy or FetchPolicy()).max_bytes:
            raise refused(url)
        self.world.record("download_template")
        return {"size": size, "physical_size": size // 3}

    def close(self) -> None:
        self._host = None

    def connect_pool(self, pool: PoolSpec) -> PoolStatus:
        """A simulated share is always there: SHARE_BYTES big, and all of it free."""
        with self._turn("connect_pool") as host:
            if pool.pool_id not in host.pools:
                host.pools[pool.pool_id] = PoolStatus(
                    pool.pool_id, SHARE_BYTES, SHARE_BYTES, f"{pool.host}:{pool.path}"
                )
                self.world.record("connect_pool")
            status: PoolStatus = host.pools[pool.pool_id]
            return status

    def configure_simulator(self, action: str, mock: Mock | None) -> dict[str, Any]:
        """How this host answers `action` from now on (None: as it always did)."""
        with self._turn("configure_simulator") as host:
            if mock is None:
                host.mocks.pop(action, None)
            else:
                host.mocks[action] = mock
            return {"action": action, "mocked": mock is not None}

    def _turn(self, action: str) -> Turn:
        if self._host is None:
            raise HypervisorError("the simulator driver is not connected")
        return Turn(self.world, self._host, action)

    def _inventory(self, host: SimulatedHost) -> HostInventory:
        shape = host.shape
        return HostInventory(
            name=host.name,
            hypervisor=self.kind,
            hypervisor_version=SIMULATOR_VERSION,
            cpu_sockets=shape.sockets,
            cpu_cores=shape.cores,
            cpu_speed_mhz=shape.mhz,
            memory_bytes=shape.memory_gb * _GIB,
            local_storage_bytes=shape.storage_gb * _GIB,
            capabilities=("hvm",),
        )


def _image_size(url: str, size_gb: str | None) -> int:
    """Bytes of a simulated image: as asked, or 1 to 2 GiB, the same for the same URL."""
    if size_gb is not None:
        try:
            return int(size_gb) * _GIB
        except ValueError:
            raise HypervisorError(
                f"simulator size_gb must be a whole number: {size_gb!r}"
            ) from None
    return _GIB + (zlib.crc32(url.encode()) % 1024) * 1024**2


def _find(host: SimulatedHost, name: str) -> SimulatedVm:
    vm = host.vms.get(name)
    if vm is None:
        raise NotFoundOnHost(f"no VM named {name} on simulated host {host.name}")
    return vm


def _move(
    source: SimulatedHost,
    target: SimulatedHost,
    name: str,
    world: SimulatedWorld,
    volumes: Sequence[VolumeMove] = (),
) -> VmStatus:
    """The running VM leaves `source` for `target` with its data disks, those of `volumes`
    onto their pools there (each must be connected to `target`, or nothing moves); done
    already when only `target` has it."""
    vm = source.vms.get(name)
    if vm is None:
        return _status(_find(target, name))
    if vm.state != "Running":
        raise HypervisorError(f"cannot migrate {name} live: it is {vm.state.lower()}")
    for move in volumes:
        if move.to_pool_id not in target.pools:
            raise HypervisorError(
                f"storage pool {move.to_pool_id} is not connected to {target.name}"
            )
    for disk_id, disk in list(vm.disks.items()):
        target.volumes[disk_id] = source.volumes.pop(disk_id, disk.size_gb)
        pool_id = source.disk_pools.pop(disk_id, "")
        if pool_id:
            target.disk_pools[disk_id] = pool_id
        vm.disks[disk_id] = replace(disk, location=_location(target, disk_id, pool_id))
    target.vms[name] = source.vms.pop(name)
    for move in volumes:
        _moved(target, replace(move, vm_name=name, live=True), world)
    world.record("migrate_vm")
    return _status(vm)


def _running(host: SimulatedHost, name: str) -> SimulatedVm:
    vm = _find(host, name)
    if vm.state != "Running":
        raise HypervisorError(f"cannot read the counters of {name}: it is not running")
    return vm


def _iso_location(host: SimulatedHost, iso: IsoSpec) -> str:
    """Where a simulated CD drive reads the ISO from."""
    return f"simulator://{host.name}/isos/{iso.iso_id}"


def _plug(host: SimulatedHost, vm: SimulatedVm, disk: DiskSpec) -> None:
    """Plug a data disk (made at its size if the host has none by its id, on the pool it was
    placed on when the host has that pool connected) into its slot."""
    if any(plugged.device_id == disk.device_id for plugged in vm.disks.values()):
        raise HypervisorError(f"slot {disk.device_id} of {vm.spec.name} is taken")
    if disk.disk_id not in host.volumes and disk.pool_id in host.pools:
        host.disk_pools[disk.disk_id] = disk.pool_id
    size = host.volumes.setdefault(disk.disk_id, disk.size_gb)
    location = _location(host, disk.disk_id, host.disk_pools.get(disk.disk_id, ""))
    vm.disks[disk.disk_id] = DiskStatus(disk.disk_id, disk.device_id, size, location)


def _location(host: SimulatedHost, disk_id: str, pool_id: str) -> str:
    """Where a simulated disk is: on a pool the host has connected, else the host's own."""
    if pool_id:
        return f"simulator://{host.name}/pools/{pool_id}/{disk_id}"
    return f"simulator://{host.name}/volumes/{disk_id}"


def _moved(host: SimulatedHost, move: VolumeMove, world: SimulatedWorld) -> DiskStatus:
    """The disk recorded on `move.to_pool_id` (see `SimulatorDriver.migrate_volume`)."""
    if move.to_pool_id not in host.pools:
        raise HypervisorError(f"storage pool {move.to_pool_id} is not connected to {host.name}")
    vm = _find(host, move.vm_name) if move.vm_name else None
    if vm is not None and vm.state == "Running" and not move.live:
        raise HypervisorError(f"cannot move a disk of {move.vm_name} while it runs: not live")
    if move.root:
        if vm is None:
            raise HypervisorError(f"root disk {move.disk_id} names no VM on {host.name}")
        if vm.spec.root_pool_id != move.to_pool_id:
            vm.spec = replace(vm.spec, root_pool_id=move.to_pool_id)
            world.record("migrate_volume")
        location = _location(host, f"{vm.spec.name}-root", move.to_pool_id)
        return DiskStatus(move.disk_id, 0, vm.spec.root_disk_gb, location)
    size = host.volumes.setdefault(move.disk_id, move.size_gb)
    if host.disk_pools.get(move.disk_id) != move.to_pool_id:
        host.disk_pools[move.disk_id] = move.to_pool_id
        world.record("migrate_volume")
    location = _location(host, move.disk_id, move.to_pool_id)
    plugged = vm.disks.get(move.disk_id) if vm is not None else None
    if vm is not None and plugged is not None:
        vm.disks[move.disk_id] = replace(plugged, location=location)
    return DiskStatus(move.disk_id, plugged.device_id if plugged else -1, size, location)


def _epoch(host: SimulatedHost, vm: SimulatedVm) -> str:
    """A simulated VM's counters start from zero at each boot on a host."""
    return f"{host.name}/{vm.boots}"


def _status(vm: SimulatedVm) -> VmStatus:
    return VmStatus(vm.spec.name, vm.state, vm.spec.cpu_number, vm.spec.memory_mb)
