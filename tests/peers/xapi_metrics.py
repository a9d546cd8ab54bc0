"""The XAPI stand-in's VIFs and the metrics objects of VIFs and VBDs, as XAPI has them.

- `VM.get_VIFs(vm)` lists the VM's VIFs; `VIF.get_record` answers `device`, `VM` and `metrics`;
  `VIF.get_metrics(vif)` and `VBD.get_metrics(vbd)` name the metrics objects.
- `VIF_metrics.get_record` and `VBD_metrics.get_record` answer `io_read_kbs` and
  `io_write_kbs` (KiB/s, as doubles) and `last_updated`: what the VM reads and writes now.

A VM made through the API has no VIF; a test gives it one with `add_vif(vm_name)` and sets
the rates of VIFs and VBDs with `set_rates(ref, read_kbs, write_kbs)`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from tests.peers.model import PeerHost


class XapiMetrics:
    """Mixed into the stand-in; its state lives beside the host it serves."""

    host: PeerHost
    _fail: Any  # the stand-in's failure (XapiFailure)
    _records: Any  # the stand-in's records of a class

    def _metrics_state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.__dict__.setdefault(
            "_metrics", {"vifs": {}, "rates": {}, "refs": itertools.count(1)}
        )
        return state

    def add_vif(self, vm_name: str) -> str:
        """Give the named VM a network interface; its ref."""
        vm_ref = next(ref for ref, vm in self.host.vms.items() if vm.name == vm_name)
        state = self._metrics_state()
        device = sum(1 for vif in state["vifs"].values() if vif["VM"] == vm_ref)
        ref = f"OpaqueRef:vif-{next(state['refs'])}"
        state["vifs"][ref] = {"device": str(device), "VM": vm_ref, "metrics": f"{ref}-metrics"}
        return ref

    def set_rates(self, ref: str, read_kbs: float, write_kbs: float) -> None:
        """What the VIF or VBD `ref` reads and writes now (KiB/s)."""
        self._metrics_state()["rates"][ref] = (float(read_kbs), float(write_kbs))

    def _vif(self, ref: str) -> dict[str, Any]:
        vifs = self._metrics_state()["vifs"]
        if ref not in vifs:
            raise self._fail("HANDLE_INVALID", "VIF", ref)
        return dict(vifs[ref])

    def _VM_get_VIFs(self, vm_ref: str) -> list[str]:
        if vm_ref not in self.host.vms:
            raise self._fail("HANDLE_INVALID", "VM", vm_ref)
        vifs = self._metrics_state()["vifs"]
        return [ref for ref, vif in vifs.items() if vif["VM"] == vm_ref]

    def _VIF_get_record(self, ref: str) -> dict[str, Any]:
        return self._vif(ref)

    def _VIF_get_metrics(self, ref: str) -> str:
        return str(self._vif(ref)["metrics"])

    def _VBD_get_metrics(self, ref: str) -> str:
        self._VBD_get_record(ref)
        return f"{ref}-metrics"

    def _VBD_get_record(self, ref: str) -> dict[str, Any]:
        records = self._records("VBD") or {}
        if ref not in records:
            raise self._fail("HANDLE_INVALID", "VBD", ref)
        return {**records[ref], "metrics": f"{ref}-metrics"}

    def _metrics_record(self, cls: str, ref: str) -> dict[str, Any]:
        owner = ref.removesuffix("-metrics")
        if not ref.endswith("-metrics"):
            raise self._fail("HANDLE_INVALID", cls, ref)
        read, write = self._metrics_state()["rates"].get(owner, (0.0, 0.0))
        return {
            "io_read_kbs": read,
            "io_write_kbs": write,
            "last_updated": datetime.now(UTC).strftime("%Y%m%dT%H:%M:%SZ"),
        }

    def _VIF_metrics_get_record(self, ref: str) -> dict[str, Any]:
        return self._metrics_record("VIF_metrics", ref)

    def _VBD_metrics_get_record(self, ref: str) -> dict[str, Any]:
        return self._metrics_record("VBD_metrics", ref)
