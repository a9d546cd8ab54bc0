"""The simulator's world: every simulated host of a process (by URL host name), their VMs and
disks, and the knobs and counters tests use. Drivers (`adapters.simulator.driver`) talk to one
host of a world each; a host runs one action at a time (`Turn`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs

from adapters import (
    AuthenticationError,
    Credentials,
    DiskStatus,
    HypervisorError,
    NicSpec,
    Unreachable,
    VmSpec,
)
from adapters.simulator.appliances import ApplianceKnobs
from adapters.simulator.disk import HostDisk, state_directory
from adapters.simulator.rules import ACL_REPORT_VARIABLE, SITE_VPN_REPORT_VARIABLE, RuleSets
from adapters.simulator.security import GuestFirewalls
from adapters.simulator.statistics import StatisticsKnobs

_GIB = 1024**3


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


@dataclass(frozen=True)
class Mock:
    """How the host answers one action: after `wait_seconds`, done, or failed when not
    `enabled` (CloudStack's simulator mock: `enabled:false;wait:<ms>`)."""

    enabled: bool = True
    wait_seconds: float = 0.0


@dataclass
class SimulatedVm:
    spec: VmSpec
    state: str = "Stopped"
    boots: int = 0  # how many times it was started or rebooted: a run's identity
    disks: dict[str, DiskStatus] = field(default_factory=dict)  # data disks plugged in, by id
    snapshots: dict[str, Any] = field(default_factory=dict)  # name → adapters.simulator.snapshots
    cdrom: str | None = None  # where its CD drive reads an ISO from (None: empty)
    nics: dict[str, NicSpec] = field(default_factory=dict)  # guest NICs plugged in, by MAC
    root_builds: int = 1  # how many times its root disk was made (restores make it anew)
    restored_by: str = ""  # the last restore that made it


@dataclass
class SimulatedHost:
    """One simulated hypervisor host: its shape and its VMs."""

    name: str
    shape: HostShape
    vms: dict[str, SimulatedVm] = field(default_factory=dict)
    volumes: dict[str, int] = field(default_factory=dict)  # data disks on its storage: GiB
    pools: dict[str, Any] = field(default_factory=dict)  # primary storage it uses, by pool id
    disk_pools: dict[str, str] = field(default_factory=dict)  # data disk → the pool it is on
    # data disk → what was written into it (a snapshot's copy): byte count and SHA-256
    disk_images: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[str, Any] = field(default_factory=dict)  # root disks copied, by template id
    turn: threading.RLock = field(default_factory=threading.RLock)
    failing: frozenset[str] = frozenset()
    disk: HostDisk | None = None  # where the host keeps its VMs, if not in memory only
    # The answers an operator set for actions on this host (configureSimulator), by action.
    mocks: dict[str, Mock] = field(default_factory=dict)

    def boots(self, vm_name: str) -> int:
        """How many times `vm_name` was (re)started; tests use it to see "acted once"."""
        return self.vms[vm_name].boots


class SimulatedWorld:
    """Every simulated host of a process, plus the knobs and counters tests use."""

    def __init__(self, state_dir: str | None = None) -> None:
        self.hosts: dict[str, SimulatedHost] = {}
        self._state_dir = state_dir
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
        self.acl_sets = RuleSets(variable=ACL_REPORT_VARIABLE, balanced=False)
        self.site_vpns = RuleSets(variable=SITE_VPN_REPORT_VARIABLE, balanced=False)
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
                directory = state_directory(self._state_dir)
                host.disk = HostDisk(directory, name) if directory else None
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
        delay = (delay or self.appliances.delay(action)) + self.appliances.host_delay(host_name)
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


class Turn:
    """A host's one-action-at-a-time turn, with the action's knobs applied inside it."""

    def __init__(self, world: SimulatedWorld, host: SimulatedHost, action: str) -> None:
        self._world, self._host, self._action = world, host, action

    @property
    def host_name(self) -> str:
        return self._host.name

    def __enter__(self) -> SimulatedHost:
        self._host.turn.acquire()
        disk = self._host.disk
        try:
            if disk is not None:
                disk.enter(self._host)
            self._world.gate(self._action, self._host.name)
            if self._action in self._host.failing:
                raise HypervisorError(
                    f"{self._action} fails on {self._host.name} (its URL says so)"
                )
            self._mocked()
        except BaseException:
            self.__exit__()
            raise
        return self._host

    def _mocked(self) -> None:
        mock = self._host.mocks.get(self._action)
        if mock is None:
            return
        if mock.wait_seconds:
            time.sleep(mock.wait_seconds)
        if not mock.enabled:
            raise HypervisorError(
                f"{self._action} fails on {self._host.name} (the simulator is configured so)"
            )

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._host.disk is not None:
                self._host.disk.leave(self._host)
        finally:
            self._host.turn.release()
