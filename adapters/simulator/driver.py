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
into a VM's slots; `start_vm` plugs in the data disks its spec lists.

Template downloads (`download_template`) need no host: they succeed at once with the size the
image URL's query gives (``size_gb=N``) or one derived from the URL, or fail with ``fail=<reason>``.

Each host runs one action at a time (a real hypervisor serialises jobs per VM as well), and a
configured delay is served inside that turn: a second worker asking for the same thing waits,
then finds it done. `acted` counts the actions that changed something; `calls` every call.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adapters import (
    AuthenticationError,
    Credentials,
    DiskCounters,
    DiskSpec,
    DiskStatus,
    HostInventory,
    HypervisorError,
    NetworkCounters,
    NotFoundOnHost,
    Unreachable,
    VmSpec,
    VmStatus,
    VpnConfig,
)
from adapters.simulator.appliances import ApplianceKnobs
from adapters.simulator.rules import RuleSets
from adapters.simulator.security import GuestFirewalls
from adapters.simulator.snapshots import SimulatedSnapshots
from adapters.simulator.statistics import StatisticsKnobs

_GIB = 1024**3
SIMULATOR_VERSION = "4.3.0-sim"


@dataclass(frozen=True)
class HostShape:
    """What a simulated host is made of."""

    sockets: int = 2
    cores: int = 16
    mhz: int = 2400
    memory_gb: int = 64
    storage_gb: int = 500

    @classmethod
    def from_query(cls, query: str) -> HostShape:
        values = {key: items[-1] for key, items in parse_qs(query).items()}
        try:
            numbers = {name: int(values[name]) for name in cls.__annotations__ if name in values}
        except ValueError as exc:
            raise HypervisorError(f"simulator host shape must be whole numbers: {exc}") from None
        return replace(cls(), **numbers)


def connect_delay(query: str) -> float:
    """The ``connect_delay`` of a host URL's query, in seconds (0 when absent)."""
    raw = parse_qs(query).get("connect_delay", ["0"])[-1]
    try:
        seconds = float(raw)
    except ValueError:
        message = f"simulator connect_delay must be a number of seconds: {raw!r}"
        raise HypervisorError(message) from None
    if not 0 <= seconds <= 600:
        raise HypervisorError(f"simulator connect_delay must be 0 to 600 seconds: {raw!r}")
    return seconds


def failing_actions(query: str) -> frozenset[str]:
    """The VM actions a host URL's ``fail`` knob makes fail on that host."""
    named = (item.strip() for raw in parse_qs(query).get("fail", []) for item in raw.split(","))
    return frozenset(name for name in named if name)


@dataclass
class _Vm:
    spec: VmSpec
    state: str = "Stopped"
    boots: int = 0  # how many times it was started or rebooted: a run's identity
    disks: dict[str, DiskStatus] = field(default_factory=dict)  # data disks plugged in, by id
    snapshots: dict[str, Any] = field(default_factory=dict)  # name → adapters.simulator.snapshots


@dataclass
class SimulatedHost:
    """One simulated hypervisor host: its shape and its VMs."""

    name: str
    shape: HostShape
    vms: dict[str, _Vm] = field(default_factory=dict)
    volumes: dict[str, int] = field(default_factory=dict)  # data disks on its storage: GiB
    turn: threading.RLock = field(default_factory=threading.RLock)
    failing: frozenset[str] = frozenset()

    def boots(self, vm_name: str) -> int:
        """How many times `vm_name` was (re)started; tests use it to see "acted once"."""
        return self.vms[vm_name].boots


class SimulatedWorld:
    """Every simulated host of a process, plus the knobs and counters tests use."""

    def __init__(self) -> None:
        self.hosts: dict[str, SimulatedHost] = {}
        self.acted: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._fail_next: dict[str, tuple[int, type[HypervisorError]]] = {}
        self._fail_always: dict[str, type[HypervisorError]] = {}
        self._delays: dict[str, float] = {}
        self._unreachable: set[str] = set()
        self._refuse_all = False
        self._accepted: tuple[str, str] | None = None
        self.appliances = ApplianceKnobs()
        self.rule_sets = RuleSets()
        self.firewalls = GuestFirewalls()
        self.statistics = StatisticsKnobs()

    # Knobs -------------------------------------------------------------------------------

    def fail_next(
        self, action: str, times: int = 1, error: type[HypervisorError] = HypervisorError
    ) -> None:
        """The next `times` calls of `action` raise `error` before acting."""
        with self._lock:
            self._fail_next[action] = (times, error)

    def fail_always(self, action: str, error: type[HypervisorError] = HypervisorError) -> None:
        with self._lock:
            self._fail_always[action] = error

    def heal(self) -> None:
        """Forget every injected failure, delay and unreachable host."""
        with self._lock:
            self._fail_next.clear()
            self._fail_always.clear()
            self._delays.clear()
            self._unreachable.clear()

    def delay(self, action: str, seconds: float) -> None:
        with self._lock:
            self._delays[action] = seconds

    def mark_unreachable(self, host_name: str, unreachable: bool = True) -> None:
        with self._lock:
            (self._unreachable.add if unreachable else self._unreachable.discard)(host_name)

    def refuse_credentials(self, refuse: bool = True) -> None:
        """Refuse every login, whatever the credentials."""
        self._refuse_all = refuse

    def accept_only(self, username: str, password: str) -> None:
        """Refuse logins with any other username or password."""
        self._accepted = (username, password)

    # Used by the driver ------------------------------------------------------------------

    def host(self, name: str, shape: HostShape) -> SimulatedHost:
        with self._lock:
            host = self.hosts.get(name)
            if host is None:
                host = self.hosts[name] = SimulatedHost(name, shape)
            host.shape = shape
            return host

    def check_login(self, credentials: Credentials) -> None:
        wanted = self._accepted
        if self._refuse_all or (
            wanted is not None and wanted != (credentials.username, credentials.password)
        ):
            # Name the user, never the password.
            raise AuthenticationError(
                f"the simulator refused the login of {credentials.username!r}"
            )

    def gate(self, action: str, host_name: str) -> None:
        """Count the call, serve its delay, then raise whatever failure a test asked for."""
        with self._lock:
            self.calls[action] += 1
            delay = self._delays.get(action, 0.0)
        delay = delay or self.appliances.delay(action)
        if delay:
            time.sleep(delay)
        with self._lock:
            if host_name in self._unreachable:
                raise Unreachable(f"simulated host {host_name} does not answer")
            error = self._fail_always.get(action) or self._take_failure(action)
        if error is None and self.appliances.take_failure(action):
            error = HypervisorError
        if error is not None:
            raise error(f"simulated failure of {action} on {host_name}")

    def _take_failure(self, action: str) -> type[HypervisorError] | None:
        times, error = self._fail_next.get(action, (0, HypervisorError))
        if times <= 0:
            return None
        self._fail_next[action] = (times - 1, error)
        return error

    def record(self, action: str) -> None:
        with self._lock:
            self.acted[action] += 1


DEFAULT_WORLD = SimulatedWorld()


class SimulatorDriver(SimulatedSnapshots):
    """The `Hypervisor` protocol in memory; `kind` lets it stand in for any hypervisor."""

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
                vm = host.vms[spec.name] = _Vm(spec)
            elif vm.state == "Stopped":
                # A stopped VM starts at the size Stratus asks for now (it may have been scaled).
                vm.spec = replace(vm.spec, cpu_number=spec.cpu_number, memory_mb=spec.memory_mb)
            for disk in spec.data_disks:
                if disk.disk_id not in vm.disks:
                    _plug(host, vm, disk)
            if vm.state != "Running":
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

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        with self._turn("attach_volume") as host:
            vm = _find(host, name)
            if disk.disk_id not in vm.disks:
                _plug(host, vm, disk)
                self.world.record("attach_volume")
            return vm.disks[disk.disk_id]

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
        self, name: str, generation: int, rules: tuple[dict[str, Any], ...]
    ) -> int:
        """The running router holds the set (see `RuleSets`); an older generation is ignored."""
        with self._turn("apply_network_rules") as host:
            vm = _find(host, name)
            if vm.state != "Running":
                raise HypervisorError(f"cannot apply network rules on {name}: it is not running")
            if self.world.rule_sets.apply(name, generation, rules):
                self.world.record("apply_network_rules")
            return self.world.rule_sets.generation(name)

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

    def download_template(
        self, *, url: str, image_format: str, checksum: str, zone_id: str
    ) -> dict[str, int]:
        """Fetch an image into a zone's store, at once. The URL's query shapes the outcome:
        ``size_gb=N`` (else a size derived from the URL) and ``fail=<reason>``."""
        parts = urlsplit(url)
        self.world.gate("download_template", parts.hostname or "")
        query = {key: items[-1] for key, items in parse_qs(parts.query).items()}
        if "fail" in query:
            raise HypervisorError(f"download of {url} failed: {query['fail']}")
        size = _image_size(url, query.get("size_gb"))
        self.world.record("download_template")
        return {"size": size, "physical_size": size // 3}

    def close(self) -> None:
        self._host = None

    def _turn(self, action: str) -> _Turn:
        if self._host is None:
            raise HypervisorError("the simulator driver is not connected")
        return _Turn(self.world, self._host, action)

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


class _Turn:
    """A host's one-action-at-a-time turn, with the action's knobs applied inside it."""

    def __init__(self, world: SimulatedWorld, host: SimulatedHost, action: str) -> None:
        self._world, self._host, self._action = world, host, action

    def __enter__(self) -> SimulatedHost:
        self._host.turn.acquire()
        try:
            self._world.gate(self._action, self._host.name)
            if self._action in self._host.failing:
                raise HypervisorError(
                    f"{self._action} fails on {self._host.name} (its URL says so)"
                )
        except BaseException:
            self._host.turn.release()
            raise
        return self._host

    def __exit__(self, *exc_info: object) -> None:
        self._host.turn.release()


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


def _find(host: SimulatedHost, name: str) -> _Vm:
    vm = host.vms.get(name)
    if vm is None:
        raise NotFoundOnHost(f"no VM named {name} on simulated host {host.name}")
    return vm


def _running(host: SimulatedHost, name: str) -> _Vm:
    vm = _find(host, name)
    if vm.state != "Running":
        raise HypervisorError(f"cannot read the counters of {name}: it is not running")
    return vm


def _plug(host: SimulatedHost, vm: _Vm, disk: DiskSpec) -> None:
    """Plug a data disk (made at its size if the host has none by its id) into its slot."""
    if any(plugged.device_id == disk.device_id for plugged in vm.disks.values()):
        raise HypervisorError(f"slot {disk.device_id} of {vm.spec.name} is taken")
    size = host.volumes.setdefault(disk.disk_id, disk.size_gb)
    location = f"simulator://{host.name}/volumes/{disk.disk_id}"
    vm.disks[disk.disk_id] = DiskStatus(disk.disk_id, disk.device_id, size, location)


def _epoch(host: SimulatedHost, vm: _Vm) -> str:
    """A simulated VM's counters start from zero at each boot on a host."""
    return f"{host.name}/{vm.boots}"


def _status(vm: _Vm) -> VmStatus:
    return VmStatus(vm.spec.name, vm.state, vm.spec.cpu_number, vm.spec.memory_mb)
