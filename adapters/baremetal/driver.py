"""BaremetalDriver: a bare-metal host as the `Hypervisor` protocol sees it. There is no
hypervisor to ask: starting the host's instance writes its network boot on the PXE and DHCP
servers the request names (`adapters.baremetal.entries`) and powers the host on from the
network through its IPMI controller; destroying it powers the host off and removes the entries.

The host's session remembers the boot of its instance, so a later stop or reboot reaches the
IPMI controller through the same PXE server; a request that carries the boot again wins.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from adapters import Credentials, HostInventory, HypervisorError, VmSpec, VmStatus
from adapters.baremetal.entries import Boot, boot_of, dhcp_steps, ipmi, pxe_steps
from adapters.baremetal.ssh import Remove, carry_out
from stratus.actions import CAPABILITIES


class BaremetalDriver:
    kind = "BareMetal"
    capabilities = CAPABILITIES["baremetal"]

    def __init__(self) -> None:
        self._ipmi: Credentials | None = None
        self._boot: Boot | None = None
        self._states: dict[str, str] = {}

    def connect(self, credentials: Credentials) -> HostInventory:
        """Nothing answers for a bare-metal host: its IPMI login is kept for power actions,
        and its inventory is what the operator gave (the server records it)."""
        if not urlsplit(credentials.url).hostname:
            raise HypervisorError(f"{credentials.url} names no IPMI controller")
        self._ipmi = credentials
        return HostInventory(
            name=urlsplit(credentials.url).hostname or "",
            hypervisor=self.kind,
            hypervisor_version="",
            cpu_sockets=0,
            cpu_cores=0,
            cpu_speed_mhz=0,
            memory_bytes=0,
            local_storage_bytes=0,
        )

    def ping(self) -> bool:
        return self._ipmi is not None

    def network_boot(self, params: dict[str, Any]) -> None:
        """The boot a request carries, remembered for the host's later actions."""
        self._boot = boot_of(params)

    def start_vm(self, spec: VmSpec) -> VmStatus:
        boot = self._require_boot()
        carry_out(boot.dhcp, dhcp_steps(boot), "DHCP server")
        carry_out(
            boot.pxe,
            [*pxe_steps(boot), *self._power("chassis bootdev pxe", "chassis power on")],
            "PXE server",
        )
        self._states[spec.name] = "Running"
        return VmStatus(spec.name, "Running", spec.cpu_number, spec.memory_mb)

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus:
        boot = self._require_boot()
        carry_out(boot.pxe, self._power("chassis power off"), "PXE server")
        self._states[name] = "Stopped"
        return VmStatus(name, "Stopped", 0, 0)

    def reboot_vm(self, name: str) -> VmStatus:
        boot = self._require_boot()
        steps = self._power("chassis bootdev pxe", "chassis power reset")
        carry_out(boot.pxe, steps, "PXE server")
        self._states[name] = "Running"
        return VmStatus(name, "Running", 0, 0)

    def destroy_vm(self, name: str) -> None:
        boot = self._require_boot()
        carry_out(
            boot.pxe, [*self._power("chassis power off"), Remove(boot.pxelinux_file)], "PXE server"
        )
        carry_out(boot.dhcp, dhcp_steps(boot, remove=True), "DHCP server")
        self._states.pop(name, None)

    def vm_status(self, name: str) -> VmStatus:
        return VmStatus(name, self._states.get(name, "Running"), 0, 0)

    def close(self) -> None:
        self._boot = None

    def _require_boot(self) -> Boot:
        if self._boot is None:
            raise HypervisorError(
                "the bare-metal host's PXE and DHCP servers are not known to this adapter"
            )
        return self._boot

    def _power(self, *commands: str) -> list[Any]:
        if self._ipmi is None:
            raise HypervisorError("the bare-metal host's IPMI controller is not known")
        address = urlsplit(self._ipmi.url).hostname or ""
        return ipmi(address, self._ipmi.username, self._ipmi.password, *commands)
