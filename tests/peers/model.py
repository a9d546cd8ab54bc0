"""The in-memory host that every stand-in peer serves: its hardware and its VMs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

GIB = 1024**3


@dataclass(frozen=True)
class HostShape:
    """The hardware a peer reports; `cores` counts all sockets together."""

    name: str = "peer-host-1"
    version: str = "1.0"
    sockets: int = 2
    cores: int = 16
    mhz: int = 2600
    memory_bytes: int = 128 * GIB
    local_storage_bytes: int = 2048 * GIB


@dataclass
class PeerVm:
    name: str
    cpus: int
    memory_bytes: int
    state: str = "Stopped"  # "Running", "Stopped", "Paused", "Suspended"
    boots: int = 0  # how many times the guest was started or restarted
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # Hyper-V checkpoints


@dataclass
class PeerHost:
    """A host and its VMs, shared between the peer's server thread and the test."""

    shape: HostShape
    vms: dict[str, PeerVm] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Guest firewalls by VM name, as each peer's hypervisor keeps them (security group rules).
    security_rules: dict[str, Any] = field(default_factory=dict)

    def named(self, name: str) -> list[PeerVm]:
        with self.lock:
            return [vm for vm in self.vms.values() if vm.name == name]
