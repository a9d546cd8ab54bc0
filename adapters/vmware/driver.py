"""The VMware driver: one ESXi host, directly or through vCenter, over the vSphere API (pyvmomi).

URL forms: `https://server[:port][/sdk]`, `http://server[:port][/sdk]`, and `vmware://server[:port]`
(same as https). Through a vCenter with several hosts, `?host=<name>` or a last path segment
other than `sdk` (`https://vc/sdk/esx-07`) names the host; otherwise the first host is used.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

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
from adapters.vmware import datacenters, disks
from adapters.vmware.performance import disk_counters, network_counters
from adapters.vmware.snapshots import VmwareSnapshots
from stratus.actions import CAPABILITIES

_STATES = {"poweredOn": "Running", "poweredOff": "Stopped", "suspended": "Paused"}
_NETWORK_ERRORS = (OSError, http.client.HTTPException)


def parse_url(url: str) -> tuple[str, str, int, str | None]:
    """Protocol, server, port and the host name asked for (or None)."""
    parts = urlsplit(url)
    protocol = {"http": "http", "https": "https", "vmware": "https"}.get(parts.scheme)
    if protocol is None or not parts.hostname:
        raise HypervisorError(f"not a vSphere URL: {parts.scheme}://{parts.hostname or ''}")
    port = parts.port or (80 if protocol == "http" else 443)
    segments = [segment for segment in parts.path.split("/") if segment and segment != "sdk"]
    wanted = parse_qs(parts.query).get("host", [None])[0] or (segments[-1] if segments else None)
    return protocol, parts.hostname, port, wanted


class VmwareDriver(VmwareSnapshots):
    """Drives the VMs of one HostSystem."""

    kind = "VMware"
    capabilities = CAPABILITIES["vmware"]

    def __init__(
        self, *, verify_tls: bool = True, timeout: float = 30.0, shutdown_timeout: float = 120.0
    ) -> None:
        self._verify_tls = verify_tls
        self._timeout = timeout
        self._shutdown_timeout = shutdown_timeout
        self._si: Any = None
        self._host: Any = None
        self.rate_totals = RateTotals()  # traffic and disk I/O, from vSphere's rates

    # -- connection ---------------------------------------------------------------------------

    def connect(self, credentials: Credentials) -> HostInventory:
        where, wanted = self._login(credentials)
        with _translated("read the inventory", where):
            self._host = self._pick_host(wanted)
            return self._inventory()

    def claim_datacenter(self, credentials: Credentials, name: str) -> dict[str, str]:
        """Mark the vCenter's datacenter `name` as this cloud's zone (see `datacenters`)."""
        where, _ = self._login(credentials)
        with _translated("claim the datacenter", where):
            return datacenters.claim(self._si.RetrieveContent(), name, where)

    def release_datacenter(self, credentials: Credentials, name: str) -> dict[str, str]:
        where, _ = self._login(credentials)
        with _translated("release the datacenter", where):
            return datacenters.release(self._si.RetrieveContent(), name, where)

    def discover_cluster(self, credentials: Credentials, name: str) -> dict[str, list[str]]:
        """The hosts of the vCenter's cluster `name` (`datacenter/cluster`)."""
        where, _ = self._login(credentials)
        with _translated("list the hosts of the cluster", where):
            return datacenters.cluster_hosts(self._si.RetrieveContent(), name, where)

    def _login(self, credentials: Credentials) -> tuple[str, str | None]:
        """Log in to the vSphere server; where it is, and the host the URL asks for."""
        protocol, server, port, wanted = parse_url(credentials.url)
        where = f"{protocol}://{server}:{port}/sdk"
        with _translated("log in", where):
            try:
                self._si = SmartConnect(
                    protocol=protocol,
                    host=server,
                    port=port,
                    user=credentials.username,
                    pwd=credentials.password,
                    disableSslCertValidation=not self._verify_tls,
                    httpConnectionTimeout=self._timeout,
                )
            except vim.fault.InvalidLogin:
                raise AuthenticationError(
                    f"vSphere at {where} refused the login of {credentials.username!r}"
                ) from None
        return where, wanted

    def _pick_host(self, wanted: str | None) -> Any:
        content = self._si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        try:
            hosts = list(view.view)
        finally:
            view.Destroy()
        if not hosts:
            raise HypervisorError("the vSphere server manages no host")
        if wanted is None:
            return hosts[0]
        for host in hosts:
            if host.name == wanted:
                return host
        raise HypervisorError(f"the vSphere server has no host named {wanted!r}")

    def _inventory(self) -> HostInventory:
        summary = self._host.summary
        hardware = summary.hardware
        return HostInventory(
            name=self._host.name,
            hypervisor=self.kind,
            hypervisor_version=summary.config.product.version,
            cpu_sockets=hardware.numCpuPkgs,
            cpu_cores=hardware.numCpuCores,
            cpu_speed_mhz=hardware.cpuMhz,
            memory_bytes=hardware.memorySize,
            local_storage_bytes=sum(ds.summary.capacity for ds in self._local_datastores()),
        )

    def _local_datastores(self) -> list[Any]:
        def is_local(info: Any) -> bool:
            if isinstance(info, vim.host.LocalDatastoreInfo):
                return True
            return isinstance(info, vim.host.VmfsDatastoreInfo) and bool(info.vmfs.local)

        return [ds for ds in self._host.datastore if is_local(ds.info)]

    def ping(self) -> bool:
        if self._si is None:
            return False
        try:
            self._si.CurrentTime()
        except (*_NETWORK_ERRORS, vmodl.MethodFault):
            return False
        return True

    def close(self) -> None:
        si, self._si = self._si, None
        if si is not None:
            try:
                Disconnect(si)
            except (*_NETWORK_ERRORS, vmodl.MethodFault):
                pass  # the server drops idle sessions itself; closing must not fail

    # -- VMs ----------------------------------------------------------------------------------

    def vm_status(self, name: str) -> VmStatus:
        with self._acting("read", name):
            return _status(self._find(name))

    def migrate_vm(
        self, name: str, destination: Credentials, volumes: Sequence[VolumeMove] = ()
    ) -> VmStatus:
        raise Unsupported(f"migrating {name} live is not supported yet on VMware")

    def restore_vm(self, spec: VmSpec, restore_id: str) -> VmStatus:
        raise Unsupported(f"restoring the root disk of {spec.name} is not supported yet on VMware")

    def network_stats(self, name: str) -> NetworkCounters:
        with self._acting("read the traffic of", name):
            vm = self._running(name)
            perf = self._si.RetrieveContent().perfManager
            return network_counters(perf, vm, name, self.rate_totals)

    def disk_stats(self, name: str) -> tuple[DiskCounters, ...]:
        with self._acting("read the disk I/O of", name):
            vm = self._running(name)
            perf = self._si.RetrieveContent().perfManager
            return disk_counters(perf, vm, name, self.rate_totals)

    def _running(self, name: str) -> Any:
        vm = self._find(name)
        if vm.runtime.powerState != "poweredOn":
            raise HypervisorError(f"cannot read the counters of {name}: it is not running")
        return vm

    def appliance_version(self, name: str) -> str | None:
        """System VM images are not driven on VMware yet: a definitive "not supported"."""
        raise Unsupported(f"reading the release of system VM {name} is not supported yet on VMware")

    def check_services(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        raise Unsupported(
            f"checking the services of system VM {name} is not supported yet on VMware"
        )

    def apply_network_rules(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> int:
        raise Unsupported(f"applying network rules on router {name} is not supported yet on VMware")

    def apply_network_acls(
        self, name: str, generation: int, acls: tuple[dict[str, Any], ...]
    ) -> int:
        raise Unsupported(f"applying network ACLs on router {name} is not supported yet on VMware")

    def apply_security_rules(self, name: str, rules: tuple[dict[str, Any], ...]) -> int:
        """CloudStack 4.3 offers security groups on KVM and XenServer hosts only; a VMware VM
        in a security group zone is refused definitively rather than left unfiltered."""
        raise Unsupported(
            f"security group rules for VM {name} are not supported on VMware (as in CloudStack)"
        )

    def migrate_volume(self, move: VolumeMove) -> DiskStatus:
        raise Unsupported(
            f"moving disk {move.disk_id} between pools is not supported yet on VMware"
        )

    def connect_pool(self, pool: PoolSpec) -> PoolStatus:
        raise Unsupported(
            f"connecting primary storage pool {pool.pool_id} is not supported yet on VMware"
        )

    def configure_site_vpn(self, name: str, connection: SiteVpnConfig) -> int:
        raise Unsupported(
            f"configuring a site-to-site VPN on router {name} is not supported yet on VMware"
        )

    def check_site_vpns(self, name: str, peers: tuple[str, ...]) -> tuple[str, ...]:
        raise Unsupported(
            f"checking the site-to-site VPNs of router {name} is not supported yet on VMware"
        )

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        raise Unsupported(f"configuring the VPN of system VM {name} is not supported yet on VMware")

    def start_vm(self, spec: VmSpec) -> VmStatus:
        with self._acting("start", spec.name):
            vm = self._find_or_none(spec.name) or self._create(spec)
            if vm.runtime.powerState == "poweredOff":
                # A powered-off VM starts at the size Stratus asks for now, with its data disks.
                self._reconfigure(vm, spec.cpu_number, spec.memory_mb)
                for disk in spec.data_disks:
                    disks.plug(vm, disk)
            if vm.runtime.powerState != "poweredOn":
                WaitForTask(vm.PowerOnVM_Task(host=self._host))
            return _status(vm)

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus:
        with self._acting("stop", name):
            vm = self._find(name)
            if vm.runtime.powerState == "poweredOn" and not forced:
                self._shut_down_guest(vm)
            if vm.runtime.powerState != "poweredOff":
                WaitForTask(vm.PowerOffVM_Task())
            return _status(vm)

    def reboot_vm(self, name: str) -> VmStatus:
        with self._acting("reboot", name):
            vm = self._find(name)
            if vm.runtime.powerState != "poweredOn":
                raise HypervisorError(f"VM {name!r} is not running, so it cannot be rebooted")
            WaitForTask(vm.ResetVM_Task())
            return _status(vm)

    def destroy_vm(self, name: str) -> None:
        with self._acting("destroy", name):
            vm = self._find_or_none(name)
            if vm is None:
                return
            if vm.runtime.powerState != "poweredOff":
                WaitForTask(vm.PowerOffVM_Task())
            WaitForTask(vm.Destroy_Task())

    def scale_vm(self, name: str, cpu_number: int, memory_mb: int) -> VmStatus:
        with self._acting("scale", name):
            vm = self._find(name)
            self._reconfigure(vm, cpu_number, memory_mb)
            return _status(vm)

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        """Add the disk's VMDK (see `adapters.vmware.disks`)."""
        with self._acting(f"attach disk {disk.disk_id} to", name):
            return disks.plug(self._find(name), disk)

    def detach_volume(self, name: str, disk_id: str) -> None:
        with self._acting(f"detach disk {disk_id} from", name):
            disks.unplug(self._find(name), disk_id)

    def resize_volume(
        self, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool = False
    ) -> DiskStatus:
        with self._acting(f"resize disk {disk_id} of", name):
            return disks.resize(self._find(name), disk_id, size_gb, shrink_ok=shrink_ok)

    def create_template(self, name: str, capture: TemplateCapture) -> dict[str, int]:
        raise Unsupported(
            f"creating a template from the root volume of {name} is not supported yet on VMware"
        )

    def attach_iso(self, name: str, iso: IsoSpec) -> str:
        raise Unsupported(f"attaching an ISO to {name} is not supported yet on VMware")

    def detach_iso(self, name: str) -> None:
        raise Unsupported(f"detaching an ISO from {name} is not supported yet on VMware")

    def plug_nic(self, name: str, nic: NicSpec) -> tuple[str, ...]:
        raise Unsupported(f"plugging a nic into {name} is not supported yet on VMware")

    def unplug_nic(self, name: str, mac_address: str) -> tuple[str, ...]:
        raise Unsupported(f"unplugging a nic from {name} is not supported yet on VMware")

    def vm_iso(self, name: str) -> str | None:
        raise Unsupported(f"reading the CD drive of {name} is not supported yet on VMware")

    def vm_disks(self, name: str) -> tuple[DiskStatus, ...]:
        with self._acting("read the disks of", name):
            return disks.disks_of(self._find(name))

    @staticmethod
    def _reconfigure(vm: Any, cpu_number: int, memory_mb: int) -> None:
        if (vm.config.hardware.numCPU, vm.config.hardware.memoryMB) != (cpu_number, memory_mb):
            spec = vim.vm.ConfigSpec(numCPUs=cpu_number, memoryMB=memory_mb)
            WaitForTask(vm.ReconfigVM_Task(spec=spec))

    # -- helpers ------------------------------------------------------------------------------

    @contextmanager
    def _acting(self, action: str, name: str) -> Iterator[None]:
        if self._si is None:
            raise HypervisorError("the VMware driver is not connected")
        with _translated(f"{action} VM {name!r}", "the vSphere server"):
            try:
                yield
            except vmodl.fault.ManagedObjectNotFound:
                # The VM went away between finding it and acting on it.
                raise NotFoundOnHost(f"VM {name!r} is not on the vSphere host") from None

    def _datacenter(self) -> Any:
        entity = self._host
        while not isinstance(entity, vim.Datacenter):
            entity = entity.parent
        return entity

    def _find_or_none(self, name: str) -> Any:
        content = self._si.RetrieveContent()
        view = content.viewManager.CreateContainerView(
            self._datacenter().vmFolder, [vim.VirtualMachine], True
        )
        try:
            # One round trip for every name, rather than one per VM.
            spec = _name_filter(view)
            found = content.propertyCollector.RetrieveContents([spec])
        finally:
            view.Destroy()
        for item in found:
            if item.propSet and item.propSet[0].val == name:
                return item.obj
        return None

    def _find(self, name: str) -> Any:
        vm = self._find_or_none(name)
        if vm is None:
            raise NotFoundOnHost(f"VM {name!r} is not on the vSphere host")
        return vm

    def _create(self, spec: VmSpec) -> Any:
        datastore = max(self._host.datastore, key=lambda ds: ds.summary.freeSpace, default=None)
        if datastore is None:
            raise HypervisorError(f"host {self._host.name!r} has no datastore for VM files")
        config = vim.vm.ConfigSpec(
            name=spec.name,
            numCPUs=spec.cpu_number,
            memoryMB=spec.memory_mb,
            guestId="otherGuest64",
            files=vim.vm.FileInfo(vmPathName=f"[{datastore.name}]"),
            annotation="created by Stratus",
        )
        task = self._datacenter().vmFolder.CreateVM_Task(
            config=config, pool=self._host.parent.resourcePool, host=self._host
        )
        WaitForTask(task)
        return task.info.result

    def _shut_down_guest(self, vm: Any) -> None:
        """Asks the guest to shut down and waits, bounded; the caller powers off what is left."""
        try:
            vm.ShutdownGuest()
        except (vim.fault.ToolsUnavailable, vim.fault.InvalidState):
            return  # no tools to ask: only a power-off can stop it
        deadline = time.monotonic() + self._shutdown_timeout
        while vm.runtime.powerState != "poweredOff" and time.monotonic() < deadline:
            time.sleep(1)


def _name_filter(view: Any) -> Any:
    traverse = vmodl.query.PropertyCollector.TraversalSpec(
        name="view", path="view", skip=False, type=vim.view.ContainerView
    )
    collector = vmodl.query.PropertyCollector
    return collector.FilterSpec(
        objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
        propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
    )


def _status(vm: Any) -> VmStatus:
    hardware = vm.config.hardware
    state = vm.runtime.powerState
    return VmStatus(
        name=vm.name,
        state=_STATES.get(state, str(state)),
        cpu_number=hardware.numCPU,
        memory_mb=hardware.memoryMB,
    )


@contextmanager
def _translated(action: str, where: str) -> Iterator[None]:
    """Turns vSphere faults and transport errors into the adapter's errors, without secrets."""
    try:
        yield
    except HypervisorError:
        raise
    except vim.fault.NotAuthenticated:
        raise AuthenticationError(f"the session with {where} is no longer valid") from None
    except vmodl.MethodFault as fault:
        message = fault.msg or type(fault).__name__
        raise HypervisorError(f"vSphere could not {action}: {message}") from None
    except _NETWORK_ERRORS as error:
        raise Unreachable(f"cannot reach {where}: {type(error).__name__}") from None
