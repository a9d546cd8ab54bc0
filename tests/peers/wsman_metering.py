"""The Hyper-V stand-in's resource metering, as Hyper-V meters VMs.

- `Enable-VMResourceMetering -VMName v` turns metering on for the VM (again: no change).
- `Measure-VM -VMName v` answers what was metered since it was turned on: VMName, VMId, the
  disks' data read and written together (`AggregatedDiskDataRead`, `AggregatedDiskDataWritten`,
  whole MB) and `NetworkMeteredTrafficReport`, one entry per direction (Inbound 0, Outbound 1:
  ConvertTo-Json writes the enum's number) with its `TotalTraffic` in whole MB. It is an
  error while metering is off. Metering goes on across the VM's restarts, as Hyper-V keeps it.
- `Reset-VMResourceMetering -VMName v` sets the metered amounts back to zero.

A test makes the guest busy with `meter(vm_name, ...)`, adding to what is metered.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.peers.model import PeerHost

_FIELDS = ("disk_read_mb", "disk_written_mb", "inbound_mb", "outbound_mb")


class MeteringCmdlets:
    """Mixed into the stand-in's interpreter; its state lives beside the host it serves."""

    host: PeerHost
    _ps_error: type[Exception]  # the interpreter's terminating error

    def _meters(self) -> dict[str, dict[str, Any]]:
        meters: dict[str, dict[str, Any]] = self.__dict__.setdefault("_vm_meters", {})
        return meters

    def _metered(self, named: dict[str, Any]) -> dict[str, Any]:
        name = str(named.get("VMName", ""))
        if not self.host.named(name):
            raise self._ps_error(
                f"Hyper-V was unable to find a virtual machine with name '{name}'."
            )
        return self._meters().setdefault(
            name, {"enabled": False, "id": str(uuid.uuid4()), **dict.fromkeys(_FIELDS, 0)}
        )

    def meter(self, vm_name: str, **amounts: int) -> None:
        """The guest moved this much more (MB): disk_read_mb, disk_written_mb, inbound_mb,
        outbound_mb. Counted only while metering is on, as Hyper-V counts."""
        meters = self._metered({"VMName": vm_name})
        if meters["enabled"]:
            for field, amount in amounts.items():
                meters[field] += int(amount)

    def _enable_vmresourcemetering(
        self, _input: Any, named: dict[str, Any], _pos: list[str]
    ) -> list[Any]:
        self._metered(named)["enabled"] = True
        return []

    def _reset_vmresourcemetering(
        self, _input: Any, named: dict[str, Any], _pos: list[str]
    ) -> list[Any]:
        meters = self._metered(named)
        meters.update(dict.fromkeys(_FIELDS, 0))
        return []

    def _measure_vm(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        meters = self._metered(named)
        if not meters["enabled"]:
            raise self._ps_error(
                f"Resource metering is not enabled for virtual machine '{named['VMName']}'."
            )
        return [
            {
                "VMName": named["VMName"],
                "VMId": meters["id"],
                "AggregatedDiskDataRead": meters["disk_read_mb"],
                "AggregatedDiskDataWritten": meters["disk_written_mb"],
                "NetworkMeteredTrafficReport": [
                    {"Direction": 0, "TotalTraffic": meters["inbound_mb"]},
                    {"Direction": 1, "TotalTraffic": meters["outbound_mb"]},
                ],
            }
        ]
