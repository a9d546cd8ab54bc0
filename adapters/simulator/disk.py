"""The simulated hypervisor's own disk: each host's VMs and data disks kept in a file, so they
outlive the adapter process that drove them, and other processes can read them.

When ``STRATUS_SIMULATOR_STATE`` names a directory, simulated host ``h1`` keeps its VMs in
``<directory>/h1.json``. Every action on the host takes the host's file lock, reads the file,
acts, and writes it back (whole, then renamed into place) if anything changed, so several
adapter processes (or a restarted one) share one host the way several clients share one real
hypervisor, and a VM an adapter started keeps running after that adapter is killed. The file::

    {"volumes": {"<disk id>": <GiB>}, "disk_pools": {"<disk id>": "<pool id>"},
     "mocks": {"<action>": {"enabled": false, "wait_seconds": 2.0}},
     "templates": {"<template id>": {"vm": "<name>", "size": <bytes>, ...}},
     "vms": {"<name>": {"state": "Running", "boots": 1, "spec": {...},
                        "disks": {"<disk id>": {...}}, "snapshots": {"<name>": {...}}}}}

Without the variable the hosts live in the process's memory only, as before.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from adapters import DiskSpec, DiskStatus, IsoSpec, NicSpec, VmSpec
from adapters.simulator.snapshots import SavedState

if TYPE_CHECKING:
    from adapters.simulator.world import SimulatedHost

STATE_VARIABLE = "STRATUS_SIMULATOR_STATE"


class HostDisk:
    """One simulated host's file and its lock; `enter`/`leave` bracket each action."""

    def __init__(self, directory: Path, host_name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{host_name}.json"
        self._lock_path = directory / f"{host_name}.lock"
        self._depth = 0  # the host's turn is re-entrant; the file lock is taken once
        self._fd: int | None = None
        self._loaded = b""

    def enter(self, host: SimulatedHost) -> None:
        """Lock the file and load what the host holds (another process may have changed it)."""
        self._depth += 1
        if self._depth > 1:
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd
        try:
            self._loaded = self.path.read_bytes()
        except FileNotFoundError:
            self._loaded = b""
        if self._loaded:
            load(host, orjson.loads(self._loaded))

    def leave(self, host: SimulatedHost) -> None:
        """Write the host back if the action changed it, then unlock."""
        self._depth -= 1
        if self._depth > 0 or self._fd is None:
            return
        try:
            encoded = orjson.dumps(dump(host), option=orjson.OPT_SORT_KEYS)
            if encoded != self._loaded:
                partial = self.path.with_name(self.path.name + ".partial")
                partial.write_bytes(encoded)
                partial.replace(self.path)
        finally:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def state_directory(configured: str | None) -> Path | None:
    """The directory hosts keep their files in: the one given, else the variable's, else none."""
    chosen = configured or os.environ.get(STATE_VARIABLE)
    return Path(chosen) if chosen else None


def read_hosts(directory: Path) -> dict[str, dict[str, Any]]:
    """Every host's file in `directory`, by host name: what a process outside reads."""
    return {path.stem: orjson.loads(path.read_bytes()) for path in directory.glob("*.json")}


def dump(host: SimulatedHost) -> dict[str, Any]:
    return {
        "volumes": dict(host.volumes),
        "disk_pools": dict(host.disk_pools),
        "disk_images": dict(host.disk_images),
        "templates": dict(host.templates),
        "mocks": {action: asdict(mock) for action, mock in host.mocks.items()},
        "vms": {
            name: {
                "state": vm.state,
                "boots": vm.boots,
                "spec": asdict(vm.spec),
                "disks": {key: asdict(disk) for key, disk in vm.disks.items()},
                "snapshots": {key: asdict(saved) for key, saved in vm.snapshots.items()},
                "cdrom": vm.cdrom,
                "nics": [asdict(nic) for nic in vm.nics.values()],  # a list: keys are sorted
            }
            for name, vm in host.vms.items()
        },
    }


def load(host: SimulatedHost, data: dict[str, Any]) -> None:
    from adapters.simulator.world import Mock, SimulatedVm

    host.volumes = {key: int(size) for key, size in data.get("volumes", {}).items()}
    host.mocks = {action: Mock(**mock) for action, mock in data.get("mocks", {}).items()}
    host.disk_pools = dict(data.get("disk_pools", {}))
    host.disk_images = dict(data.get("disk_images", {}))
    host.templates = dict(data.get("templates", {}))
    host.vms = {
        name: SimulatedVm(
            spec=_spec(raw["spec"]),
            state=raw["state"],
            boots=int(raw["boots"]),
            disks={key: DiskStatus(**disk) for key, disk in raw.get("disks", {}).items()},
            snapshots={
                key: SavedState(_spec(saved["spec"]), saved["memory"], saved["description"])
                for key, saved in raw.get("snapshots", {}).items()
            },
            cdrom=raw.get("cdrom"),
            nics={nic["mac_address"]: NicSpec(**nic) for nic in _listed(raw.get("nics", []))},
        )
        for name, raw in data.get("vms", {}).items()
    }


def _listed(nics: Any) -> list[dict[str, Any]]:
    """A VM's NICs in their order (files written before kept them by MAC, sorted)."""
    return list(nics.values()) if isinstance(nics, dict) else list(nics)


def _spec(raw: dict[str, Any]) -> VmSpec:
    disks = tuple(DiskSpec(**disk) for disk in raw.get("data_disks", ()))
    nics = tuple(NicSpec(**nic) for nic in raw.get("nics", ()))
    iso = IsoSpec(**raw["iso"]) if raw.get("iso") else None
    return VmSpec(**{**raw, "data_disks": disks, "iso": iso, "nics": nics})
