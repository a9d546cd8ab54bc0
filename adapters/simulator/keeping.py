"""A simulated host's VMs and disks kept on disk, so the simulated hypervisor outlives the
process that drives it, as a real one outlives a crashed management server.

When ``STRATUS_SIMULATOR_STATE`` names a directory, every action on a host rewrites that host's
file there (whole, then renamed into place, inside the host's turn), and a host met for the
first time by a process starts from its file. Without it the world is memory only.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from adapters import DiskSpec, DiskStatus, VmSpec
from adapters.simulator.snapshots import SavedState

STATE_VARIABLE = "STRATUS_SIMULATOR_STATE"


def state_dir() -> Path | None:
    path = os.environ.get(STATE_VARIABLE)
    return Path(path) if path else None


def save_host(directory: Path, name: str, vms: dict[str, Any], volumes: dict[str, int]) -> None:
    """Write one host's VMs and volumes (the caller holds the host's turn)."""
    body = {"vms": {vm_name: _vm(vm) for vm_name, vm in vms.items()}, "volumes": volumes}
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.json"
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(orjson.dumps(body))
    partial.replace(target)


def load_host(directory: Path, name: str) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """One host's VMs (as `SimulatedVm` keyword arguments) and volumes; empty when unknown."""
    target = directory / f"{name}.json"
    if not target.exists():
        return {}, {}
    body = orjson.loads(target.read_bytes())
    vms = {vm_name: _vm_fields(raw) for vm_name, raw in body.get("vms", {}).items()}
    return vms, {key: int(value) for key, value in body.get("volumes", {}).items()}


def _vm(vm: Any) -> dict[str, Any]:
    return {
        "spec": asdict(vm.spec),
        "state": vm.state,
        "boots": vm.boots,
        "disks": {key: asdict(disk) for key, disk in vm.disks.items()},
        "snapshots": {
            key: {"spec": asdict(s.spec), "memory": s.memory, "description": s.description}
            for key, s in vm.snapshots.items()
        },
    }


def _vm_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": _spec(raw["spec"]),
        "state": raw["state"],
        "boots": int(raw["boots"]),
        "disks": {key: DiskStatus(**disk) for key, disk in raw.get("disks", {}).items()},
        "snapshots": {
            key: SavedState(_spec(s["spec"]), bool(s["memory"]), str(s["description"]))
            for key, s in raw.get("snapshots", {}).items()
        },
    }


def _spec(raw: dict[str, Any]) -> VmSpec:
    disks = tuple(DiskSpec(**disk) for disk in raw.get("data_disks", ()))
    return VmSpec(**{**raw, "data_disks": disks})
