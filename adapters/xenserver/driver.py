"""The XenServer driver: XAPI over XML-RPC through the XenAPI client.

URL forms: `http://host[:port]/`, `https://host[:port]/`, and `xenserver://host[:port]` (same as
https). A pool master serves every host of its pool: `?host=<name_label>` picks one, else the
master is used.
Only VMs that are neither templates nor control domains are ever touched.
"""

from __future__ import annotations

import hashlib
import http.client
import ssl
import xmlrpc.client
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qs, urlsplit

import XenAPI

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
from adapters.rates import RateTotals
from adapters.requests import Unsupported
from adapters.xenserver import disks
from adapters.xenserver.metrics import disk_counters, network_counters
from adapters.xenserver.snapshots import XenServerSnapshots
from stratus.actions import CAPABILITIES

MIB = 1024 * 1024
_STATES = {"Running": "Running", "Paused": "Paused", "Halted": "Stopped", "Suspended": "Paused"}
# SR types that are removable or ISO media, never storage for VM disks.
_NOT_STORAGE = {"udev", "iso"}


def _http_transport(timeout: float) -> xmlrpc.client.Transport:
    class Timed(xmlrpc.client.Transport):
        def make_connection(self, host: Any) -> http.client.HTTPConnection:
            connection = super().make_connection(host)
            connection.timeout = timeout
            return connection

    return Timed()


def _https_transport(timeout: float, verify_tls: bool) -> xmlrpc.client.Transport:
    context = ssl.create_default_context()
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    class Timed(xmlrpc.client.SafeTransport):
        def make_connection(self, host: Any) -> http.client.HTTPConnection:
            connection = super().make_connection(host)
            connection.timeout = timeout
            return connection

    return Timed(context=context)


def parse_url(url: str) -> tuple[str, bool, str | None]:
    """The XML-RPC endpoint, whether it is https, and the host name asked for, if any."""
    parts = urlsplit(url)
    scheme = {"http": "http", "https": "https", "xenserver": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise HypervisorError(f"not a XenServer URL: {parts.scheme}://{parts.hostname or ''}")
    host = parse_qs(parts.query).get("host", [None])[0]
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return f"{scheme}://{netloc}/", scheme == "https", host


class XenServerDriver(XenServerSnapshots):
    """Drives the VMs of one XenServer host through its pool master."""

    kind = "XenServer"
    capabilities = CAPABILITIES["xenserver"]

    def __init__(self, *, verify_tls: bool = True, timeout: float = 30.0) -> None:
        self._verify_tls = verify_tls
        self._timeout = timeout
        self._session: Any = None
        self._host_ref = ""
        self.rate_totals = RateTotals()  # traffic and disk I/O, from XenServer's rates

    # -- connection ---------------------------------------------------------------------------

    def connect(self, credentials: Credentials) -> HostInventory:
        endpoint, secure, wanted_host = parse_url(credentials.url)
        transport = (
            _https_transport(self._timeout, self._verify_tls)
            if secure
            else _http_transport(self._timeout)
        )
        session = XenAPI.Session(endpoint, transport=transport)
        with _translated("log in", endpoint):
            try:
                session.login_with_password(
                    credentials.username, credentials.password, "1.0", "stratus"
                )
            except XenAPI.Failure as failure:
                if failure.details[:1] == ["SESSION_AUTHENTICATION_FAILED"]:
                    raise AuthenticationError(
                        f"XenServer at {endpoint} refused the login of {credentials.username!r}"
                    ) from None
                raise
        self._session = session
        with _translated("read the inventory", endpoint):
            self._host_ref = self._pick_host(wanted_host)
            return self._inventory()

    def _pick_host(self, wanted: str | None) -> str:
        api = self._session.xenapi
        if wanted is None:
            return api.pool.get_master(api.pool.get_all()[0])
        for ref, record in api.host.get_all_records().items():
            if wanted in (record["name_label"], record["hostname"], record["address"]):
                return ref
        raise HypervisorError(f"the pool has no host named {wanted!r}")

    def _inventory(self) -> HostInventory:
        api = self._session.xenapi
        host = api.host.get_record(self._host_ref)
        metrics = api.host_metrics.get_record(host["metrics"])
        cpu = host["cpu_info"]
        return HostInventory(
            name=host["name_label"],
            hypervisor=self.kind,
            hypervisor_version=host["software_version"].get("product_version", ""),
            cpu_sockets=int(cpu["socket_count"]),
            cpu_cores=int(cpu["cpu_count"]),
            cpu_speed_mhz=int(float(cpu["speed"])),
            memory_bytes=int(metrics["memory_total"]),
            local_storage_bytes=self._local_storage_bytes(),
        )

    def _local_storage_bytes(self) -> int:
        api = self._session.xenapi
        on_this_host = {
            pbd["SR"] for pbd in api.PBD.get_all_records().values() if pbd["host"] == self._host_ref
        }
        return sum(
            int(sr["physical_size"])
            for ref, sr in api.SR.get_all_records().items()
            if ref in on_this_host
            and not sr["shared"]
            and sr["type"] not in _NOT_STORAGE
            and sr["content_type"] != "iso"
        )

    def ping(self) -> bool:
        if self._session is None:
            return False
        try:
            self._session.xenapi.host.get_name_label(self._host_ref)
        except (OSError, http.client.HTTPException, xmlrpc.client.Error, XenAPI.Failure):
            return False
        return True

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            # The session dies with the server anyway; closing must not fail.
            with suppress(OSError, http.client.HTTPException, xmlrpc.client.Error, XenAPI.Failure):
                session.xenapi.session.logout()

    # -- VMs ----------------------------------------------------------------------------------

    def vm_status(self, name: str) -> VmStatus:
        with self._acting("read", name):
            return _status(self._record(self._find(name)))

    def migrate_vm(
        self, name: str, destination: Credentials, volumes: Sequence[VolumeMove] = ()
    ) -> VmStatus:
        raise Unsupported(f"migrating {name} live is not supported yet on XenServer")

    def restore_vm(self, spec: VmSpec, restore_id: str) -> VmStatus:
        raise Unsupported(
            f"restoring the root disk of {spec.name} is not supported yet on XenServer"
        )

    def appliance_version(self, name: str) -> str | None:
        """System VM images are not driven on XenServer yet: a definitive "not supported"."""
        raise Unsupported(
            f"reading the release of system VM {name} is not supported yet on XenServer"
        )

    def check_services(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        raise Unsupported(
            f"checking the services of system VM {name} is not supported yet on XenServer"
        )

    def apply_network_rules(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> int:
        raise Unsupported(
            f"applying network rules on router {name} is not supported yet on XenServer"
        )

    def apply_network_acls(
        self, name: str, generation: int, acls: tuple[dict[str, Any], ...]
    ) -> int:
        raise Unsupported(
            f"applying network ACLs on router {name} is not supported yet on XenServer"
        )

    def apply_security_rules(self, name: str, rules: tuple[dict[str, Any], ...]) -> int:
        """As CloudStack does: the host's ``vmops`` plugin, function ``network_rules``, takes
        the VM's whole rule set (one ``I|E:proto:start:end:cidr`` entry per rule)."""
        with self._acting("apply the security group rules of", name):
            ref = self._find(name)
            args = {
                "vmName": name,
                "vmID": str(self._record(ref)["uuid"]),
                "rules": security_rules_text(rules),
                "signature": hashlib.sha256(security_rules_text(rules).encode()).hexdigest(),
            }
            answer = self._session.xenapi.host.call_plugin(
                self._host_ref, "vmops", "network_rules", args
            )
            if answer != "true":
                raise HypervisorError(f"the vmops plugin did not take the rules of {name}")
            return len(rules)

    def migrate_volume(self, move: VolumeMove) -> DiskStatus:
        raise Unsupported(
            f"moving disk {move.disk_id} between pools is not supported yet on XenServer"
        )

    def connect_pool(self, pool: PoolSpec) -> PoolStatus:
        raise Unsupported(
            f"connecting primary storage pool {pool.pool_id} is not supported yet on XenServer"
        )

    def configure_site_vpn(self, name: str, connection: SiteVpnConfig) -> int:
        raise Unsupported(
            f"configuring a site-to-site VPN on router {name} is not supported yet on XenServer"
        )

    def check_site_vpns(self, name: str, peers: tuple[str, ...]) -> tuple[str, ...]:
        raise Unsupported(
            f"checking the site-to-site VPNs of router {name} is not supported yet on XenServer"
        )

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        raise Unsupported(
            f"configuring the VPN of system VM {name} is not supported yet on XenServer"
        )

    def network_stats(self, name: str) -> NetworkCounters:
        with self._acting("read the traffic of", name):
            ref = self._running(name)
            return network_counters(self._session.xenapi, ref, name, self.rate_totals)

    def disk_stats(self, name: str) -> tuple[DiskCounters, ...]:
        with self._acting("read the disk I/O of", name):
            ref = self._running(name)
            return disk_counters(self._session.xenapi, ref, name, self.rate_totals)

    def _running(self, name: str) -> str:
        ref = self._find(name)
        if self._record(ref)["power_state"] != "Running":
            raise HypervisorError(f"cannot read the counters of {name}: it is not running")
        return ref

    def start_vm(self, spec: VmSpec) -> VmStatus:
        with self._acting("start", spec.name):
            ref = self._find_or_none(spec.name) or self._create(spec)
            api = self._session.xenapi
            state = api.VM.get_power_state(ref)
            if state == "Halted":
                # A halted VM starts at the size Stratus asks for now, with its data disks.
                self._scale_halted(ref, spec.cpu_number, spec.memory_mb * MIB)
                for disk in spec.data_disks:
                    disks.plug(api, self._host_ref, ref, disk)
                api.VM.start_on(ref, self._host_ref, False, False)
            elif state == "Suspended":
                api.VM.resume_on(ref, self._host_ref, False, False)
            elif state == "Paused":
                api.VM.unpause(ref)
            return _status(self._record(ref))

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus:
        with self._acting("stop", name):
            ref = self._find(name)
            if self._session.xenapi.VM.get_power_state(ref) != "Halted":
                self._shut_down(ref, forced=forced)
            return _status(self._record(ref))

    def reboot_vm(self, name: str) -> VmStatus:
        with self._acting("reboot", name):
            ref = self._find(name)
            api = self._session.xenapi
            if api.VM.get_power_state(ref) != "Running":
                raise HypervisorError(f"VM {name!r} is not running, so it cannot be rebooted")
            _gently_then_hard(api.VM.clean_reboot, api.VM.hard_reboot, ref)
            return _status(self._record(ref))

    def destroy_vm(self, name: str) -> None:
        with self._acting("destroy", name):
            ref = self._find_or_none(name)
            if ref is None:
                return
            if self._session.xenapi.VM.get_power_state(ref) != "Halted":
                self._shut_down(ref, forced=True)
            self._destroy_snapshots(ref)
            self._session.xenapi.VM.destroy(ref)

    def scale_vm(self, name: str, cpu_number: int, memory_mb: int) -> VmStatus:
        with self._acting("scale", name):
            ref = self._find(name)
            if self._session.xenapi.VM.get_power_state(ref) == "Halted":
                self._scale_halted(ref, cpu_number, memory_mb * MIB)
            else:
                self._scale_live(ref, cpu_number, memory_mb * MIB)
            return _status(self._record(ref))

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        """A VDI and its VBD (see `adapters.xenserver.disks`)."""
        with self._acting(f"attach disk {disk.disk_id} to", name):
            api = self._session.xenapi
            return disks.plug(api, self._host_ref, self._find(name), disk)

    def detach_volume(self, name: str, disk_id: str) -> None:
        with self._acting(f"detach disk {disk_id} from", name):
            disks.unplug(self._session.xenapi, self._find(name), disk_id)

    def resize_volume(
        self, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool = False
    ) -> DiskStatus:
        with self._acting(f"resize disk {disk_id} of", name):
            api, ref = self._session.xenapi, self._find(name)
            return disks.resize(api, ref, disk_id, size_gb, shrink_ok=shrink_ok)

    def create_template(self, name: str, capture: TemplateCapture) -> dict[str, int]:
        raise Unsupported(
            f"creating a template from the root volume of {name} is not supported yet on XenServer"
        )

    def attach_iso(self, name: str, iso: IsoSpec) -> str:
        raise Unsupported(f"attaching an ISO to {name} is not supported yet on XenServer")

    def detach_iso(self, name: str) -> None:
        raise Unsupported(f"detaching an ISO from {name} is not supported yet on XenServer")

    def plug_nic(self, name: str, nic: NicSpec) -> tuple[str, ...]:
        raise Unsupported(f"plugging a nic into {name} is not supported yet on XenServer")

    def unplug_nic(self, name: str, mac_address: str) -> tuple[str, ...]:
        raise Unsupported(f"unplugging a nic from {name} is not supported yet on XenServer")

    def vm_iso(self, name: str) -> str | None:
        raise Unsupported(f"reading the CD drive of {name} is not supported yet on XenServer")

    def vm_disks(self, name: str) -> tuple[DiskStatus, ...]:
        with self._acting("read the disks of", name):
            return disks.disks_of(self._session.xenapi, self._find(name))

    # -- helpers ------------------------------------------------------------------------------

    @contextmanager
    def _acting(self, action: str, name: str) -> Iterator[None]:
        if self._session is None:
            raise HypervisorError("the XenServer driver is not connected")
        with _translated(f"{action} VM {name!r}", "the XenServer host"):
            try:
                yield
            except XenAPI.Failure as failure:
                # The VM went away between finding it and acting on it.
                if failure.details[:2] == ["HANDLE_INVALID", "VM"]:
                    raise NotFoundOnHost(f"VM {name!r} is not on the XenServer host") from None
                raise

    def _record(self, ref: str) -> dict[str, Any]:
        return self._session.xenapi.VM.get_record(ref)

    def _find_or_none(self, name: str) -> str | None:
        api = self._session.xenapi
        for ref in api.VM.get_by_name_label(name):
            record = api.VM.get_record(ref)
            if not record["is_a_template"] and not record["is_control_domain"]:
                return ref
        return None

    def _find(self, name: str) -> str:
        ref = self._find_or_none(name)
        if ref is None:
            raise NotFoundOnHost(f"VM {name!r} is not on the XenServer host")
        return ref

    def _create(self, spec: VmSpec) -> str:
        return self._session.xenapi.VM.create(_new_vm_record(spec))

    def _shut_down(self, ref: str, *, forced: bool) -> None:
        api = self._session.xenapi
        # A paused VM cannot shut down cleanly: its guest is not running to do it.
        if forced or api.VM.get_power_state(ref) != "Running":
            api.VM.hard_shutdown(ref)
        else:
            _gently_then_hard(api.VM.clean_shutdown, api.VM.hard_shutdown, ref)

    def _scale_halted(self, ref: str, cpu_number: int, memory: int) -> None:
        api = self._session.xenapi
        # XAPI requires VCPUs_at_startup <= VCPUs_max at every step, so the order depends on
        # whether the count grows or shrinks.
        if cpu_number >= int(api.VM.get_VCPUs_max(ref)):
            api.VM.set_VCPUs_max(ref, str(cpu_number))
            api.VM.set_VCPUs_at_startup(ref, str(cpu_number))
        else:
            api.VM.set_VCPUs_at_startup(ref, str(cpu_number))
            api.VM.set_VCPUs_max(ref, str(cpu_number))
        size = str(memory)
        api.VM.set_memory_limits(ref, size, size, size, size)

    def _scale_live(self, ref: str, cpu_number: int, memory: int) -> None:
        # A running VM can only move within the static limits it was started with; saying so
        # beats passing on XAPI's bare constraint code.
        api = self._session.xenapi
        record = api.VM.get_record(ref)
        low, high = int(record["memory_static_min"]), int(record["memory_static_max"])
        if not (low <= memory <= high and cpu_number <= int(record["VCPUs_max"])):
            raise HypervisorError(
                f"VM {record['name_label']!r} can run with at most {record['VCPUs_max']} CPUs "
                f"and {low // MIB}-{high // MIB} MB; stop it to scale beyond that"
            )
        api.VM.set_VCPUs_number_live(ref, str(cpu_number))
        api.VM.set_memory_dynamic_range(ref, str(memory), str(memory))


def _gently_then_hard(gentle: Callable[[str], Any], hard: Callable[[str], Any], ref: str) -> None:
    # A clean operation needs the guest's PV drivers; without them XAPI refuses, and the
    # hard variant is what an operator would do next.
    try:
        gentle(ref)
    except XenAPI.Failure:
        hard(ref)


def _new_vm_record(spec: VmSpec) -> dict[str, Any]:
    memory = str(spec.memory_mb * MIB)
    return {
        "name_label": spec.name,
        "name_description": "created by Stratus",
        "user_version": "1",
        "is_a_template": False,
        "affinity": "",
        "memory_static_max": memory,
        "memory_dynamic_max": memory,
        "memory_dynamic_min": memory,
        "memory_static_min": memory,
        "VCPUs_params": {},
        "VCPUs_max": str(spec.cpu_number),
        "VCPUs_at_startup": str(spec.cpu_number),
        "actions_after_shutdown": "destroy",
        "actions_after_reboot": "restart",
        "actions_after_crash": "restart",
        "PV_bootloader": "",
        "PV_kernel": "",
        "PV_ramdisk": "",
        "PV_args": "",
        "PV_bootloader_args": "",
        "PV_legacy_args": "",
        "HVM_boot_policy": "BIOS order",
        "HVM_boot_params": {"order": "dc"},
        "platform": {"acpi": "true", "apic": "true", "pae": "true"},
        "PCI_bus": "",
        "other_config": {"stratus-cpu-speed-mhz": str(spec.cpu_speed_mhz)},
        "recommendations": "",
    }


def _status(record: dict[str, Any]) -> VmStatus:
    return VmStatus(
        name=record["name_label"],
        state=_STATES.get(record["power_state"], record["power_state"]),
        cpu_number=int(record["VCPUs_at_startup"]),
        memory_mb=int(record["memory_dynamic_max"]) // MIB,
    )


@contextmanager
def _translated(action: str, where: str) -> Iterator[None]:
    """Turns client and transport errors into the adapter's errors, without secrets."""
    try:
        yield
    except HypervisorError:
        raise
    except XenAPI.Failure as failure:
        code = failure.details[0] if failure.details else "UNKNOWN"
        raise HypervisorError(f"XenServer could not {action}: {code}") from None
    except xmlrpc.client.ProtocolError as error:
        raise Unreachable(f"{where} answered HTTP {error.errcode} to XML-RPC") from None
    except xmlrpc.client.Fault as fault:
        raise HypervisorError(f"XenServer could not {action}: {fault.faultString}") from None
    except (OSError, http.client.HTTPException) as error:
        raise Unreachable(f"cannot reach {where}: {type(error).__name__}") from None


def security_rules_text(rules: tuple[dict[str, Any], ...]) -> str:
    """The rule set as the vmops plugin takes it: ``I:tcp:22:22:0.0.0.0/0`` entries (``E`` for
    egress) separated by ``;``."""
    return ";".join(
        f"{'I' if r['direction'] == 'ingress' else 'E'}:{r['protocol']}:{r['start']}:{r['end']}:"
        f"{r['cidr']}"
        for r in rules
    )
