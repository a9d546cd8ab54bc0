"""The Hyper-V driver: PowerShell's Hyper-V cmdlets run over WinRM (pywinrm).

URL forms: `http://host[:5985][/wsman]`, `https://host[:5986][/wsman]`, and `hyperv://host[:port]`
(same as https). Every value placed in a script is a PowerShell single-quoted literal or an
integer, so a VM name cannot inject commands. VMs are matched by exact, case-sensitive name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError

from adapters import (
    AuthenticationError,
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
from adapters.haproxy import BalancerConfig
from adapters.hyperv import disks
from adapters.hyperv.metering import Metered, metering_script, parse_metering
from adapters.hyperv.snapshots import HypervSnapshots
from adapters.requests import Unsupported
from stratus.actions import CAPABILITIES

MIB = 1024 * 1024
# ConvertTo-Json writes Hyper-V's VMState enum as its number; newer hosts may send the name.
_STATES = {2: "Running", 3: "Stopped", 6: "Paused", 9: "Paused"}
_STATES_BY_NAME = {"Running": "Running", "Off": "Stopped", "Saved": "Paused", "Paused": "Paused"}
_PREAMBLE = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n"
_STATUS_FIELDS = "Name,State,ProcessorCount,MemoryStartup"
# PowerShell ends a single-quoted string at any of these quote marks, so each must be doubled.
_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote(value: str) -> str:
    """`value` as a PowerShell single-quoted literal, which expands nothing."""
    escaped = "".join(char * 2 if char in _QUOTES else char for char in value)
    return f"'{escaped}'"


TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")


def transport_of(url: str, default: str) -> str:
    """The WinRM transport a host URL asks for (`?transport=basic`), else the driver's own."""
    chosen = parse_qs(urlsplit(url).query).get("transport", [default])[-1].lower()
    if chosen not in TRANSPORTS:
        raise HypervisorError(f"unknown WinRM transport {chosen!r} (use one of {TRANSPORTS})")
    return chosen


def endpoint(url: str) -> str:
    """The WS-Management endpoint for a host URL."""
    parts = urlsplit(url)
    scheme = {"http": "http", "https": "https", "hyperv": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise HypervisorError(f"not a Hyper-V URL: {parts.scheme}://{parts.hostname or ''}")
    port = parts.port or (5985 if scheme == "http" else 5986)
    return f"{scheme}://{parts.hostname}:{port}{parts.path.rstrip('/') or '/wsman'}"


class HypervDriver(HypervSnapshots):
    """Drives the VMs of one Hyper-V host."""

    kind = "Hyperv"
    capabilities = CAPABILITIES["hyperv"]

    def __init__(
        self,
        *,
        transport: str = "ntlm",
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        timeout: int = 60,
    ) -> None:
        self._transport = transport
        self._ca_bundle = ca_bundle
        self._verify_tls = verify_tls
        self._timeout = timeout
        self._session: winrm.Session | None = None
        self._where = ""

    # -- connection ---------------------------------------------------------------------------

    def connect(self, credentials: Credentials) -> HostInventory:
        self._where = endpoint(credentials.url)
        self._session = winrm.Session(
            self._where,
            auth=(credentials.username, credentials.password),
            transport=transport_of(credentials.url, self._transport),
            server_cert_validation="validate" if self._verify_tls else "ignore",
            # Explicit, so the CA bundle never comes silently from the environment.
            ca_trust_path=self._ca_bundle,
            read_timeout_sec=self._timeout + 10,
            operation_timeout_sec=self._timeout,
        )
        try:
            return self._inventory()
        except AuthenticationError:
            self._session = None
            raise AuthenticationError(
                f"Hyper-V at {self._where} refused the login of {credentials.username!r}"
            ) from None

    def _inventory(self) -> HostInventory:
        lines = self._run(
            "Get-VMHost | Select-Object ComputerName,MemoryCapacity | ConvertTo-Json -Compress\n"
            "Get-CimInstance -ClassName Win32_Processor"
            " | Select-Object NumberOfCores,MaxClockSpeed | ConvertTo-Json -Compress\n"
            "Get-CimInstance -ClassName Win32_OperatingSystem"
            " | Select-Object Version | ConvertTo-Json -Compress\n"
            "Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3'"
            " | Select-Object Size | ConvertTo-Json -Compress"
        )
        # The last pipeline prints nothing on a host without fixed disks.
        host, processors, system, disks = (lines + ["[]"] * 4)[:4]
        vmhost, sockets = _objects(host)[0], _objects(processors)
        return HostInventory(
            name=vmhost["ComputerName"],
            hypervisor=self.kind,
            hypervisor_version=_objects(system)[0]["Version"],
            cpu_sockets=len(sockets),
            cpu_cores=sum(int(cpu["NumberOfCores"]) for cpu in sockets),
            cpu_speed_mhz=max(int(cpu["MaxClockSpeed"]) for cpu in sockets),
            memory_bytes=int(vmhost["MemoryCapacity"]),
            local_storage_bytes=sum(int(disk["Size"] or 0) for disk in _objects(disks)),
        )

    def ping(self) -> bool:
        if self._session is None:
            return False
        try:
            self._run("Get-VMHost | Select-Object ComputerName | ConvertTo-Json -Compress")
        except HypervisorError:
            return False
        return True

    def close(self) -> None:
        # Each command opens and closes its own shell, so nothing stays open between calls.
        self._session = None

    # -- VMs ----------------------------------------------------------------------------------

    def vm_status(self, name: str) -> VmStatus:
        return self._status(name)

    def migrate_vm(
        self, name: str, destination: Credentials, volumes: Sequence[VolumeMove] = ()
    ) -> VmStatus:
        raise Unsupported(f"migrating {name} live is not supported yet on Hyper-V")

    def restore_vm(self, spec: VmSpec, restore_id: str) -> VmStatus:
        raise Unsupported(f"restoring the root disk of {spec.name} is not supported yet on Hyper-V")

    def appliance_version(self, name: str) -> str | None:
        """System VM images are not driven on Hyper-V yet: a definitive "not supported"."""
        raise Unsupported(
            f"reading the release of system VM {name} is not supported yet on Hyper-V"
        )

    def check_services(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        raise Unsupported(
            f"checking the services of system VM {name} is not supported yet on Hyper-V"
        )

    def apply_network_rules(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> int:
        raise Unsupported(
            f"applying network rules on router {name} is not supported yet on Hyper-V"
        )

    def apply_network_acls(
        self, name: str, generation: int, acls: tuple[dict[str, Any], ...]
    ) -> int:
        raise Unsupported(f"applying network ACLs on router {name} is not supported yet on Hyper-V")

    def apply_security_rules(self, name: str, rules: tuple[dict[str, Any], ...]) -> int:
        """The VM's extended port ACLs are replaced by one Allow per rule over a Deny of the
        rest of the inbound traffic (and of the outbound, once egress rules exist). Hyper-V's
        ACLs know no ICMP type or code: an ICMP rule allows all of ICMPv4."""
        if self._lookup(name) is None:
            raise NotFoundOnHost(f"VM {name!r} is not on the Hyper-V host")
        vm = quote(name)
        lines = [
            f"Get-VMNetworkAdapterExtendedAcl -VMName {vm} | Remove-VMNetworkAdapterExtendedAcl"
        ]
        lines += [_deny(vm, "Inbound")]
        if any(rule["direction"] == "egress" for rule in rules):
            lines.append(_deny(vm, "Outbound"))
        lines += [_allow(vm, rule, 100 + index) for index, rule in enumerate(rules)]
        lines.append(
            f"Get-VMNetworkAdapterExtendedAcl -VMName {vm} | Where-Object Action -ceq 'Allow' "
            "| Select-Object Action | ConvertTo-Json -Compress"
        )
        found = self._run("\n".join(lines))
        return sum(len(_objects(line)) for line in found)

    def migrate_volume(self, move: VolumeMove) -> DiskStatus:
        raise Unsupported(
            f"moving disk {move.disk_id} between pools is not supported yet on Hyper-V"
        )

    def connect_pool(self, pool: PoolSpec) -> PoolStatus:
        raise Unsupported(
            f"connecting primary storage pool {pool.pool_id} is not supported yet on Hyper-V"
        )

    def configure_site_vpn(self, name: str, connection: SiteVpnConfig) -> int:
        raise Unsupported(
            f"configuring a site-to-site VPN on router {name} is not supported yet on Hyper-V"
        )

    def check_site_vpns(self, name: str, peers: tuple[str, ...]) -> tuple[str, ...]:
        raise Unsupported(
            f"checking the site-to-site VPNs of router {name} is not supported yet on Hyper-V"
        )

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        raise Unsupported(
            f"configuring the VPN of system VM {name} is not supported yet on Hyper-V"
        )

    def network_stats(self, name: str) -> NetworkCounters:
        """What the router's adapters sent and received, as resource metering counts it."""
        found = self._metered(name)
        return NetworkCounters(found.outbound, found.inbound, found.epoch)

    def disk_stats(self, name: str) -> tuple[DiskCounters, ...]:
        """The VM's disks together, as the root disk's slot (see adapters.hyperv.metering)."""
        found = self._metered(name)
        return (DiskCounters(0, 0, 0, found.disk_read, found.disk_written, found.epoch),)

    def _metered(self, name: str) -> Metered:
        if self._status(name).state != "Running":
            raise HypervisorError(f"cannot read the counters of {name}: it is not running")
        return parse_metering(self._run(metering_script(quote(name))))

    def start_vm(self, spec: VmSpec) -> VmStatus:
        found = self._lookup(spec.name)
        if found is None:
            self._run(
                f"New-VM -Name {quote(spec.name)} -MemoryStartupBytes {int(spec.memory_mb) * MIB}"
                f" -Generation 2 -NoVHD | Set-VMProcessor -Count {int(spec.cpu_number)}"
            )
            found = self._lookup(spec.name) or {}
        state = _status(found).state
        if state == "Running":
            return _status(found)
        if state == "Stopped":
            # A VM that is off starts at the size Stratus asks for now (it may have been scaled),
            # with the data disks attached to it meanwhile.
            self.scale_vm(spec.name, spec.cpu_number, spec.memory_mb)
            for disk in spec.data_disks:
                disks.plug(self._run, spec.name, disk)
        # A paused VM resumes; an off or saved one starts (a saved one from its saved memory).
        return self._act(spec.name, "Resume-VM" if found["State"] in (9, "Paused") else "Start-VM")

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus:
        if self._status(name).state == "Stopped":
            return self._status(name)
        # -Force answers the prompt a non-interactive session could not; -TurnOff pulls the plug.
        return self._act(name, "Stop-VM -TurnOff -Force" if forced else "Stop-VM -Force")

    def reboot_vm(self, name: str) -> VmStatus:
        if self._status(name).state != "Running":
            raise HypervisorError(f"VM {name!r} is not running, so it cannot be rebooted")
        return self._act(name, "Restart-VM -Force")

    def destroy_vm(self, name: str) -> None:
        status = self._status_or_none(name)
        if status is None:
            return
        if status.state != "Stopped":
            self._act(name, "Stop-VM -TurnOff -Force")
        self._run(f"{_select(name)} | Remove-VM -Force")

    def scale_vm(self, name: str, cpu_number: int, memory_mb: int) -> VmStatus:
        status = self._status(name)
        if (status.cpu_number, status.memory_mb) == (cpu_number, memory_mb):
            return status
        self._run(
            f"{_select(name)} | Set-VMProcessor -Count {int(cpu_number)}\n"
            f"{_select(name)} | Set-VMMemory -StartupBytes {int(memory_mb) * MIB}"
        )
        return self._status(name)

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        """A VHDX on the VM's SCSI controller (see `adapters.hyperv.disks`)."""
        self._status(name)
        return disks.plug(self._run, name, disk)

    def detach_volume(self, name: str, disk_id: str) -> None:
        self._status(name)
        disks.unplug(self._run, name, disk_id)

    def resize_volume(
        self, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool = False
    ) -> DiskStatus:
        self._status(name)
        return disks.resize(self._run, name, disk_id, size_gb, shrink_ok=shrink_ok)

    def create_template(self, name: str, capture: TemplateCapture) -> dict[str, int]:
        raise Unsupported(
            f"creating a template from the root volume of {name} is not supported yet on Hyper-V"
        )

    def attach_iso(self, name: str, iso: IsoSpec) -> str:
        raise Unsupported(f"attaching an ISO to {name} is not supported yet on Hyper-V")

    def detach_iso(self, name: str) -> None:
        raise Unsupported(f"detaching an ISO from {name} is not supported yet on Hyper-V")

    def plug_nic(self, name: str, nic: NicSpec) -> tuple[str, ...]:
        raise Unsupported(f"plugging a nic into {name} is not supported yet on Hyper-V")

    def unplug_nic(self, name: str, mac_address: str) -> tuple[str, ...]:
        raise Unsupported(f"unplugging a nic from {name} is not supported yet on Hyper-V")

    def vm_iso(self, name: str) -> str | None:
        raise Unsupported(f"reading the CD drive of {name} is not supported yet on Hyper-V")

    def vm_disks(self, name: str) -> tuple[DiskStatus, ...]:
        self._status(name)
        return disks.disks_of(self._run, name)

    # -- helpers ------------------------------------------------------------------------------

    def _act(self, name: str, cmdlet: str) -> VmStatus:
        self._run(f"{_select(name)} | {cmdlet}")
        return self._status(name)

    def _lookup(self, name: str) -> dict[str, Any] | None:
        lines = self._run(
            f"{_select(name)} | Select-Object {_STATUS_FIELDS} | ConvertTo-Json -Compress"
        )
        found = _objects(lines[0]) if lines else []
        return found[0] if found else None

    def _status_or_none(self, name: str) -> VmStatus | None:
        found = self._lookup(name)
        return None if found is None else _status(found)

    def _status(self, name: str) -> VmStatus:
        status = self._status_or_none(name)
        if status is None:
            raise NotFoundOnHost(f"VM {name!r} is not on the Hyper-V host")
        return status

    def _run(self, script: str) -> list[str]:
        """Runs a script; its output lines, or the adapter's error for whatever went wrong."""
        if self._session is None:
            raise HypervisorError("the Hyper-V driver is not connected")
        try:
            response = self._session.run_ps(_PREAMBLE + script)
        except InvalidCredentialsError:
            raise AuthenticationError(f"Hyper-V at {self._where} refused the login") from None
        except (requests.ConnectionError, requests.Timeout) as error:
            raise Unreachable(f"cannot reach {self._where}: {type(error).__name__}") from None
        except (WinRMError, WinRMTransportError) as error:
            raise HypervisorError(f"WinRM at {self._where} failed: {error}") from None
        if response.status_code != 0:
            message = response.std_err.decode("utf-8", "replace").strip().splitlines()
            raise HypervisorError(f"Hyper-V refused: {message[0] if message else 'no message'}")
        return [line for line in response.std_out.decode("utf-8").splitlines() if line.strip()]


def _select(name: str) -> str:
    return f"Get-VM | Where-Object Name -ceq {quote(name)}"


_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMPv4"}


def _deny(vm: str, direction: str) -> str:
    return (
        f"Add-VMNetworkAdapterExtendedAcl -VMName {vm} -Action 'Deny' -Direction '{direction}' "
        "-Weight 1"
    )


def _allow(vm: str, rule: dict[str, Any], weight: int) -> str:
    inbound = rule["direction"] == "ingress"
    line = (
        f"Add-VMNetworkAdapterExtendedAcl -VMName {vm} -Action 'Allow' "
        f"-Direction '{'Inbound' if inbound else 'Outbound'}' "
        f"-RemoteIPAddress {quote(str(rule['cidr']))} -Weight {int(weight)}"
    )
    protocol = _PROTOCOLS.get(rule["protocol"])
    if protocol:
        line += f" -Protocol '{protocol}'"
    if rule["protocol"] in ("tcp", "udp"):
        port = f"{int(rule['start'])}-{int(rule['end'])}"
        line += f" -{'LocalPort' if inbound else 'RemotePort'} '{port}'"
    return line


def _objects(line: str) -> list[dict[str, Any]]:
    # ConvertTo-Json writes one object bare and several as an array.
    value = json.loads(line)
    return value if isinstance(value, list) else [value]


def _status(found: dict[str, Any]) -> VmStatus:
    state = found["State"]
    return VmStatus(
        name=found["Name"],
        state=(_STATES_BY_NAME if isinstance(state, str) else _STATES).get(state, str(state)),
        cpu_number=int(found["ProcessorCount"]),
        memory_mb=int(found["MemoryStartup"]) // MIB,
    )
