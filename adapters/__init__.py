"""Hypervisor adapters: one `Hypervisor` protocol, one driver package per hypervisor.

Adapters run as separate worker processes. They share only `stratus.messages` (and the bus) with
the rest of Stratus: they import nothing from domain/, commands/, projections/ or api/.
Drivers are synchronous (every client library here is); workers run them in threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
class VmSpec:
    """A VM as Stratus asks for it; `name` is unique on the host and is how actions find it."""

    name: str
    cpu_number: int
    cpu_speed_mhz: int
    memory_mb: int
    root_disk_gb: int = 0
    template: str = ""


@dataclass(frozen=True)
class VmStatus:
    name: str
    state: str  # "Running", "Stopped", "Paused"
    cpu_number: int
    memory_mb: int


class Hypervisor(Protocol):
    """What every driver does. Every action is idempotent by desired state: starting a running
    VM or stopping a stopped one succeeds without acting again."""

    kind: str

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

    def close(self) -> None: ...
