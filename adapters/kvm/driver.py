"""KvmDriver: the `Hypervisor` protocol over libvirt (KVM; libvirt's test driver in tests).

URLs are libvirt URIs: ``qemu+ssh://root@host/system`` (or ``qemu+tls``/``qemu+libssh2``) in
production, ``test:///default`` or ``test:///<abs path>.xml`` in tests. The username and password
are answered to libvirt's authentication callback, so transports that ask for them (SASL, libssh2,
the test driver's ``<auth>`` element) use them; ssh key transports ignore them.

Host inventory: sockets are NUMA nodes x sockets per node as libvirt reports them, cores are
physical cores in all sockets (threads are not counted), local storage is the capacity of the
active storage pools. A root disk, when asked for, is a qcow2 volume ``<vm>-root.qcow2`` in the
first active pool, backed by the template volume of that pool when one is named.

Templates: `download_template` fetches the image over HTTP(S), under the rules of every
adapter's fetch (`adapters.fetch`), into the image directory
(``STRATUS_KVM_IMAGE_DIR``, default ``$STRATUS_DATA/kvm-images``), checks its checksum and format
and reads its virtual size (`adapters.kvm.images`), then makes it a volume of the first active
pool of the image store, a libvirt URI (``STRATUS_KVM_IMAGE_STORE``; unbound work carries no
host). When that pool is a directory pool on the image directory, libvirt simply lists the file;
otherwise the bytes are uploaded into a new volume. libvirt's test driver takes no uploads: its
volume records the size while the image stays in the directory. Hosts do not read the store yet
(a `start_vm` names no template, so root disks start empty).
"""

from __future__ import annotations

import contextlib
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import libvirt

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
from adapters.fetch import FetchPolicy
from adapters.haproxy import BalancerConfig
from adapters.kvm import (
    cdrom,
    console,
    disks,
    images,
    migration,
    nics,
    restores,
    template_store,
    volume_moves,
)
from adapters.kvm import pools as pools_of_stratus
from adapters.kvm.appliance import APPLIANCE_URI, appliance_metadata, service_states
from adapters.kvm.guest_keys import record_ssh_key, record_user_data
from adapters.kvm.rules import ACLS_URI, hold_rules
from adapters.kvm.security import define_filter, record_rules, record_vpn, recorded_rules
from adapters.kvm.site_vpn import connected_peers, hold_connection
from adapters.kvm.snapshots import KvmSnapshots, pool_volume
from adapters.kvm.statistics import disk_counters, network_counters
from adapters.requests import Unsupported
from stratus.actions import CAPABILITIES

_AUTH_ERRORS = {libvirt.VIR_ERR_AUTH_FAILED, libvirt.VIR_ERR_AUTH_CANCELLED}
# Codes meaning "the connection to the host is gone", as opposed to "the host said no".
_LINK_ERRORS = {
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
}
_STATES = {
    libvirt.VIR_DOMAIN_RUNNING: "Running",
    libvirt.VIR_DOMAIN_BLOCKED: "Running",
    libvirt.VIR_DOMAIN_SHUTDOWN: "Running",  # still shutting down
    libvirt.VIR_DOMAIN_PAUSED: "Paused",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "Paused",
}
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


def _silence(_context: Any, _error: Any) -> None:
    """libvirt prints every error to stderr by default; we raise them instead."""


class KvmDriver(KvmSnapshots):
    """KVM hosts through libvirt; one driver holds one connection to one host."""

    kind = "KVM"
    capabilities = CAPABILITIES["kvm"]

    def __init__(
        self,
        *,
        stop_timeout: float = 60.0,
        poll_interval: float = 0.5,
        image_store: str | None = None,
        image_dir: Path | None = None,
    ) -> None:
        self.stop_timeout = stop_timeout  # graceful shutdown, then destroy (as CloudStack does)
        self.poll_interval = poll_interval
        # The adapter process builds drivers without arguments: its environment names the store.
        self.image_store = image_store or os.environ.get("STRATUS_KVM_IMAGE_STORE") or None
        self.image_dir = image_dir or images.default_dir()
        self._conn: libvirt.virConnect | None = None
        libvirt.registerErrorHandler(_silence, None)

    def connect(self, credentials: Credentials) -> HostInventory:
        where = safe_url(credentials.url)
        conn = _open(credentials)
        self.close()
        self._conn = conn
        with self._translated(f"reading the inventory of {where}"):
            return self._inventory(conn)

    def ping(self) -> bool:
        if self._conn is None:
            return False
        try:
            return bool(self._conn.isAlive()) and self._conn.getInfo() is not None
        except libvirt.libvirtError:
            return False

    def start_vm(self, spec: VmSpec) -> VmStatus:
        conn = self._require()
        with self._translated(f"starting {spec.name}"):
            domain = self._find(spec.name, missing_ok=True)
            if domain is None:
                domain = conn.defineXML(self._domain_xml(conn, spec))
            elif not domain.isActive():
                # A shut-off domain starts at the size Stratus asks for now (it may have been
                # scaled while stopped), with the data disks attached to it meanwhile and the
                # NICs it has now.
                _resize_config(domain, spec.cpu_number, spec.memory_mb * 1024)
                for disk in spec.data_disks:
                    disks.plug(conn, _disk_pool(conn, disk), domain, disk)
                if spec.iso is not None and cdrom.inserted(domain) is None:
                    cdrom.insert(conn, domain, cdrom.iso_path(conn, spec.iso))
                nics.reconcile(conn, self._find(spec.name), spec.nics)
                domain = self._find(spec.name)
            if not domain.isActive():
                record_ssh_key(domain, spec.ssh_key)
                record_user_data(domain, spec.user_data)
            state = domain.state()[0]
            if state in (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PMSUSPENDED):
                domain.resume()
            elif not domain.isActive():
                domain.create()
            return _status(domain)

    def stop_vm(self, name: str, *, forced: bool = False) -> VmStatus:
        with self._translated(f"stopping {name}"):
            domain = self._find(name)
            if domain.isActive():
                if not forced:
                    domain.shutdown()
                    self._wait_inactive(domain)
                if domain.isActive():
                    domain.destroy()
            return _status(domain)

    def reboot_vm(self, name: str) -> VmStatus:
        with self._translated(f"rebooting {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(f"cannot reboot {name}: it is not running")
            domain.reboot(0)
            return _status(domain)

    def destroy_vm(self, name: str) -> None:
        with self._translated(f"destroying {name}"):
            domain = self._find(name, missing_ok=True)
            if domain is None:
                return
            if domain.isActive():
                domain.destroy()
            # Its snapshots go with it (libvirt refuses to undefine a domain that has some).
            domain.undefineFlags(
                libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            )
            self._delete_root_disk(name)

    def scale_vm(self, name: str, cpu_number: int, memory_mb: int) -> VmStatus:
        with self._translated(f"scaling {name}"):
            domain = self._find(name)
            kib = memory_mb * 1024
            # Configuration first, so the new size survives the next start.
            _resize_config(domain, cpu_number, kib)
            if domain.isActive():
                # Live changes stay within the maximum the VM was started with.
                domain.setVcpusFlags(cpu_number, _LIVE)
                domain.setMemoryFlags(kib, _LIVE)
            return _status(domain)

    def vm_status(self, name: str) -> VmStatus:
        with self._translated(f"reading the status of {name}"):
            return _status(self._find(name))

    def migrate_vm(
        self, name: str, destination: Credentials, volumes: Sequence[VolumeMove] = ()
    ) -> VmStatus:
        """Move the running domain live to the destination host (`adapters.kvm.migration`).
        Disks onto the destination's own pools are refused before anything moves: 4.3 gives
        KVM no storage motion (`virDomainMigrate` copies a disk only to the same path)."""
        if volumes:
            raise Unsupported(
                f"migrating {name} with its disks onto other storage pools is not supported on KVM"
            )
        source = self._require()
        where = safe_url(destination.url)
        target = _open(destination)
        try:
            with self._translated(f"migrating {name} to {where}"):
                return _status(migration.migrate(source, target, name))
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                target.close()

    def restore_vm(self, spec: VmSpec, restore_id: str) -> VmStatus:
        """Power off, make `<vm>-root.qcow2` anew, start again if it ran; the restore's id is
        kept in the domain's metadata, so a repeated request leaves the new disk alone."""
        conn = self._require()
        with self._translated(f"restoring {spec.name}"):
            domain = self._find(spec.name)
            if restores.recorded_restore(domain) == restore_id:
                return _status(domain)
            running = bool(domain.isActive())
            if running:
                domain.destroy()
            self._delete_root_disk(spec.name)
            if spec.root_disk_gb > 0:
                self._root_disk(conn, spec)
            restores.record_restore(domain, restore_id)
            if running:
                domain.create()
            return _status(domain)

    def attach_volume(self, name: str, disk: DiskSpec) -> DiskStatus:
        """Plug the disk (see `adapters.kvm.disks`, also for what the test driver lacks)."""
        conn = self._require()
        with self._translated(f"attaching disk {disk.disk_id} to {name}"):
            return disks.plug(conn, _disk_pool(conn, disk), self._find(name), disk).status

    def fill_volume(self, name: str, disk_id: str, blocks: Iterable[bytes]) -> int:
        """Write an image's bytes (a snapshot's copy) into the data disk's volume with
        virStorageVolUpload; a libvirt that takes no streams (the test driver) keeps the
        volume as it was made, and 0 bytes are written."""
        with self._translated(f"writing an image into disk {disk_id} of {name}"):
            self._find(name)
            conn = self._require()
            volume = pool_volume(conn, disks.volume_name(disk_id))
            return template_store.upload_blocks(conn, volume, blocks)

    def detach_volume(self, name: str, disk_id: str) -> None:
        with self._translated(f"detaching disk {disk_id} from {name}"):
            disks.unplug(self._require(), self._find(name), disk_id)

    def resize_volume(
        self, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool = False
    ) -> DiskStatus:
        with self._translated(f"resizing disk {disk_id} of {name}"):
            domain = self._find(name)
            return disks.resize(self._require(), domain, disk_id, size_gb, shrink_ok=shrink_ok)

    def attach_iso(self, name: str, iso: IsoSpec) -> str:
        """Put the ISO in the CD drive (see `adapters.kvm.cdrom`)."""
        conn = self._require()
        with self._translated(f"attaching ISO {iso.iso_id} to {name}"):
            domain = self._find(name)
            path = cdrom.iso_path(conn, iso)
            cdrom.insert(conn, domain, path)
            return path

    def detach_iso(self, name: str) -> None:
        with self._translated(f"detaching the ISO from {name}"):
            cdrom.eject(self._require(), self._find(name))

    def plug_nic(self, name: str, nic: NicSpec) -> tuple[str, ...]:
        """Plug a guest NIC in (see `adapters.kvm.nics`)."""
        with self._translated(f"plugging nic {nic.mac_address} into {name}"):
            return nics.plug(self._require(), self._find(name), nic)

    def unplug_nic(self, name: str, mac_address: str) -> tuple[str, ...]:
        with self._translated(f"unplugging nic {mac_address} from {name}"):
            return nics.unplug(self._require(), self._find(name), mac_address)

    def vm_iso(self, name: str) -> str | None:
        with self._translated(f"reading the CD drive of {name}"):
            return cdrom.inserted(self._find(name))

    def vm_disks(self, name: str) -> tuple[DiskStatus, ...]:
        with self._translated(f"reading the disks of {name}"):
            return disks.disks_of(self._require(), self._find(name))

    def appliance_version(self, name: str) -> str | None:
        """The release the appliance recorded in its domain metadata (`APPLIANCE_URI`)."""
        with self._translated(f"reading the release of {name}"):
            element = appliance_metadata(self._find(name))
            return element.get("release") if element is not None else None

    def check_services(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        """Daemon states as the appliance's metadata records them ("stopped", "broken");
        a stopped one that may be restarted is marked running again."""
        with self._translated(f"checking the services of {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(f"cannot check the services of {name}: it is not running")
            element = appliance_metadata(domain)
            element = element if element is not None else ET.Element("appliance")
            found = service_states(element, services, restart)
            if "restarted" in found.values():
                domain.setMetadata(
                    libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                    ET.tostring(element, encoding="unicode"),
                    "stratus",
                    APPLIANCE_URI,
                    _LIVE,
                )
            return found

    def network_stats(self, name: str) -> NetworkCounters:
        with self._translated(f"reading the network counters of {name}"):
            return network_counters(self._running(name))

    def disk_stats(self, name: str) -> tuple[DiskCounters, ...]:
        with self._translated(f"reading the disk counters of {name}"):
            return disk_counters(self._running(name))

    def apply_network_rules(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> int:
        """Hand the running router its network's rule set through its domain metadata."""
        with self._translated(f"applying the network rules of {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(f"cannot apply network rules on {name}: it is not running")
            return hold_rules(domain, generation, rules, balancer)

    def apply_network_acls(
        self, name: str, generation: int, acls: tuple[dict[str, Any], ...]
    ) -> int:
        """Hand the running VPC router its tiers' ACLs through its domain metadata."""
        with self._translated(f"applying the network ACLs of {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(f"cannot apply network ACLs on {name}: it is not running")
            return hold_rules(domain, generation, acls, uri=ACLS_URI)

    def apply_security_rules(self, name: str, rules: tuple[dict[str, Any], ...]) -> int:
        """Define the VM's nwfilter (where the connection has nwfilters) and record the set in
        its metadata (see `adapters.kvm.security`)."""
        with self._translated(f"applying the security group rules of {name}"):
            domain = self._find(name)
            define_filter(self._require(), name, rules)
            record_rules(domain, name, rules)
            return len(recorded_rules(domain))

    def configure_site_vpn(self, name: str, connection: SiteVpnConfig) -> int:
        """Hand the running VPC router a site-to-site connection through its domain metadata
        (see `adapters.kvm.site_vpn`; the key is never written)."""
        with self._translated(f"configuring a site-to-site VPN on {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(
                    f"cannot configure a site-to-site VPN on {name}: it is not running"
                )
            return hold_connection(domain, connection)

    def check_site_vpns(self, name: str, peers: tuple[str, ...]) -> tuple[str, ...]:
        """The running VPC router's tunnels that are up, seen from this host (see
        `adapters.kvm.site_vpn.connected_peers`)."""
        with self._translated(f"checking the site-to-site VPNs of {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(
                    f"cannot check the site-to-site VPNs of {name}: it is not running"
                )
            return connected_peers(self._require(), domain, peers)

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        """Hand the running router its VPN through its domain metadata (no secret written)."""
        with self._translated(f"configuring the VPN of {name}"):
            domain = self._find(name)
            if not domain.isActive():
                raise HypervisorError(f"cannot configure the VPN of {name}: it is not running")
            return record_vpn(domain, vpn)

    def download_template(
        self,
        *,
        url: str,
        image_format: str,
        checksum: str,
        zone_id: str,
        policy: FetchPolicy | None = None,
    ) -> dict[str, int]:
        """Fetch a template into the image store (see the module docstring), under `policy`
        (the strict default: no internal site, 50 GB)."""
        if not self.image_store:
            raise HypervisorError(
                "KVM templates need an image store: set STRATUS_KVM_IMAGE_STORE to a libvirt URI"
            )
        name = template_store.volume_name(url, zone_id)
        wanted = images.Wanted(url, image_format, checksum)
        image = images.fetch(wanted, self.image_dir, name, policy)
        try:
            conn = libvirt.open(self.image_store)
        except libvirt.libvirtError as exc:
            where = safe_url(self.image_store)
            raise Unreachable(
                f"cannot open the image store {where}: {exc.get_error_message()}"
            ) from None
        try:
            with self._translated(f"storing the template {safe_url(url)}"):
                pool = _local_pool(conn)
                volume = template_store.store_volume(conn, pool, name, image, image_format)
                _type, capacity, _allocation = volume.info()
                return {"size": capacity, "physical_size": image.physical_size}
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    def create_template(self, name: str, capture: TemplateCapture) -> dict[str, int]:
        """Copy the stopped VM's root disk into the image store's first pool as the template's
        volume (``template-<zone>-<template id>.<format>``). The store is the host itself
        when `STRATUS_KVM_IMAGE_STORE` names the host's own URI."""
        with self._translated(f"creating template {capture.template_id} from {name}"):
            domain = self._find(name)
            if domain.isActive():
                raise HypervisorError(f"cannot copy the root disk of {name}: it is running")
            root = self._root_volume(name)
            store, own = self._store_connection()
            try:
                volume = template_store.copy_volume(
                    store,
                    _local_pool(store),
                    template_store.volume_name(
                        f"{capture.template_id}.{capture.image_format.lower()}", capture.zone_id
                    ),
                    (self._require(), root),
                    capture.image_format,
                )
                _type, capacity, allocation = volume.info()
                return {"size": capacity, "physical_size": allocation or capacity}
            finally:
                if not own:
                    with contextlib.suppress(libvirt.libvirtError):
                        store.close()

    def _root_volume(self, name: str) -> Any:
        try:
            return pool_volume(self._require(), f"{name}-root.qcow2")
        except NotFoundOnHost:
            raise HypervisorError(
                f"{name} has no root disk on this KVM host to make a template from"
            ) from None

    def _store_connection(self) -> tuple[libvirt.virConnect, bool]:
        """The image store's connection, and whether it is the host's own (not to be closed)."""
        if not self.image_store:
            raise HypervisorError(
                "KVM templates need an image store: set STRATUS_KVM_IMAGE_STORE to a libvirt URI"
            )
        conn = self._require()
        if conn.getURI() == self.image_store:
            return conn, True
        try:
            return libvirt.open(self.image_store), False
        except libvirt.libvirtError as exc:
            where = safe_url(self.image_store)
            raise Unreachable(
                f"cannot open the image store {where}: {exc.get_error_message()}"
            ) from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    # Helpers -----------------------------------------------------------------------------

    def connect_pool(self, pool: PoolSpec) -> PoolStatus:
        """Define and start the pool as a libvirt storage pool (see `adapters.kvm.pools`)."""
        return pools_of_stratus.connect(self._require(), pool)

    def migrate_volume(self, move: VolumeMove) -> DiskStatus:
        """Copy the disk to the target pool, drop the original (`adapters.kvm.volume_moves`)."""
        with self._translated(f"moving disk {move.disk_id} to storage pool {move.to_pool_id}"):
            return volume_moves.move(self._require(), move)

    def _require(self) -> libvirt.virConnect:
        if self._conn is None:
            raise HypervisorError("the KVM driver is not connected")
        return self._conn

    def _find(self, name: str, *, missing_ok: bool = False) -> Any:
        try:
            return self._require().lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
        if missing_ok:
            return None
        raise NotFoundOnHost(f"no VM named {name} on this KVM host")

    def _running(self, name: str) -> Any:
        domain = self._find(name)
        if not domain.isActive():
            raise HypervisorError(f"cannot read the counters of {name}: it is not running")
        return domain

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """libvirt errors become protocol errors, with libvirt's message kept for the operator."""
        try:
            yield
        except libvirt.libvirtError as exc:
            message = f"{what} failed: {exc.get_error_message()}"
            if exc.get_error_code() in _LINK_ERRORS:
                raise Unreachable(message) from None
            raise HypervisorError(message) from None

    def _wait_inactive(self, domain: Any) -> None:
        deadline = time.monotonic() + self.stop_timeout
        while domain.isActive() and time.monotonic() < deadline:
            time.sleep(self.poll_interval)

    def _inventory(self, conn: libvirt.virConnect) -> HostInventory:
        _model, memory_mib, _cpus, mhz, nodes, sockets, cores, _threads = conn.getInfo()
        pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        return HostInventory(
            name=conn.getHostname(),
            hypervisor=self.kind,
            hypervisor_version=_version(conn.getVersion()),
            cpu_sockets=nodes * sockets,
            cpu_cores=nodes * sockets * cores,
            cpu_speed_mhz=mhz,
            memory_bytes=memory_mib * 1024 * 1024,
            local_storage_bytes=sum(
                pool.info()[1]
                for pool in pools
                if not pools_of_stratus.is_stratus_pool(pool.name())
            ),
            capabilities=_guest_capabilities(conn.getCapabilities()),
        )

    def _domain_xml(self, conn: libvirt.virConnect, spec: VmSpec) -> str:
        domain_type = "test" if conn.getType() == "TEST" else "kvm"
        root = ET.Element("domain", type=domain_type)
        ET.SubElement(root, "name").text = spec.name
        for tag in ("memory", "currentMemory"):
            ET.SubElement(root, tag, unit="MiB").text = str(spec.memory_mb)
        ET.SubElement(root, "vcpu", placement="static").text = str(spec.cpu_number)
        # CloudStack weighs CPU time by offered speed: shares = vCPUs x MHz.
        tune = ET.SubElement(root, "cputune")
        ET.SubElement(tune, "shares").text = str(spec.cpu_number * spec.cpu_speed_mhz)
        os_element = ET.SubElement(root, "os")
        ET.SubElement(os_element, "type").text = "hvm"
        if spec.iso is not None:  # deployed from an ISO: it boots the installer on a blank disk
            ET.SubElement(os_element, "boot", dev="cdrom")
        ET.SubElement(os_element, "boot", dev="hd")
        devices = ET.SubElement(root, "devices")
        if spec.root_disk_gb > 0:
            _attach(devices, self._root_disk(conn, spec), spec.root_io_limits)
        for disk in spec.data_disks:
            disks.add_to_definition(devices, _disk_pool(conn, disk), disk)
        if spec.iso is not None:
            devices.append(cdrom.drive_element(cdrom.iso_path(conn, spec.iso)))
        for nic in spec.nics:
            nics.add_to_definition(devices, nic)
        if spec.keyboard:
            console.add_to_definition(devices, spec.keyboard)
        return ET.tostring(root, encoding="unicode")

    def _root_disk(self, conn: libvirt.virConnect, spec: VmSpec) -> str:
        """The VM's root disk: the one it has in any active pool (it may have been moved),
        else made in the pool Stratus placed it on when active here, else in the host's own."""
        volume_name = f"{spec.name}-root.qcow2"
        for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
            with contextlib.suppress(libvirt.libvirtError):
                return pool.storageVolLookupByName(volume_name).path()
        pool = _pool_for(conn, spec.root_pool_id)
        return pool.createXML(_volume_xml(_local_pool(conn), volume_name, spec), 0).path()

    def _delete_root_disk(self, name: str) -> None:
        pools = self._require().listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        for pool in pools:
            with contextlib.suppress(libvirt.libvirtError):
                pool.storageVolLookupByName(f"{name}-root.qcow2").delete(0)


def safe_url(url: str) -> str:
    """The URL without a password, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _open(credentials: Credentials) -> libvirt.virConnect:
    """A connection to the host the credentials log in to."""
    where = safe_url(credentials.url)
    auth = [
        [libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE],
        _answer(credentials),
        None,
    ]
    try:
        return libvirt.openAuth(credentials.url, auth, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in _AUTH_ERRORS:
            refused = f"{where} refused the login of {credentials.username!r}"
            raise AuthenticationError(refused) from None
        raise Unreachable(f"cannot connect to {where}: {exc.get_error_message()}") from None


def _answer(credentials: Credentials) -> Any:
    def callback(requested: list[list[Any]], _data: Any) -> int:
        for item in requested:
            if item[0] == libvirt.VIR_CRED_AUTHNAME:
                item[4] = credentials.username
            elif item[0] == libvirt.VIR_CRED_PASSPHRASE:
                item[4] = credentials.password
        return 0

    return callback


def _status(domain: Any) -> VmStatus:
    state, _max_kib, memory_kib, vcpus, _cpu_time = domain.info()
    return VmStatus(domain.name(), _STATES.get(state, "Stopped"), vcpus, memory_kib // 1024)


def _resize_config(domain: Any, cpu_number: int, kib: int) -> None:
    """The persistent definition takes the size, its maxima raised first when needed."""
    if cpu_number > domain.vcpusFlags(_CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM):
        domain.setVcpusFlags(cpu_number, _CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
    domain.setVcpusFlags(cpu_number, _CONFIG)
    if kib > _config_max_memory_kib(domain):
        domain.setMemoryFlags(kib, _CONFIG | libvirt.VIR_DOMAIN_MEM_MAXIMUM)
    domain.setMemoryFlags(kib, _CONFIG)


def _config_max_memory_kib(domain: Any) -> int:
    inactive = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    element = inactive.find("memory")
    return _kib(element) if element is not None else 0


def _kib(element: ET.Element) -> int:
    factors = {"b": 1 / 1024, "bytes": 1 / 1024, "kib": 1, "k": 1, "mib": 1024, "m": 1024}
    factors |= {"gib": 1024**2, "g": 1024**2}
    return int(int(element.text or 0) * factors.get(element.get("unit", "KiB").lower(), 1))


def _version(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


def _guest_capabilities(capabilities_xml: str) -> tuple[str, ...]:
    found = set()
    for guest in ET.fromstring(capabilities_xml).iter("guest"):
        os_type = guest.findtext("os_type", "")
        arch = guest.find("arch")
        found.add(f"{os_type}:{arch.get('name', '') if arch is not None else ''}")
    return tuple(sorted(found))


def _local_pool(conn: libvirt.virConnect) -> Any:
    active = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    # The host's own pool, not a primary storage pool Stratus handed it.
    pools = [p for p in active if not pools_of_stratus.is_stratus_pool(p.name())] or active
    if not pools:
        raise HypervisorError("no active storage pool on this KVM host for a root disk")
    return pools[0]


def _disk_pool(conn: libvirt.virConnect, disk: DiskSpec) -> Any:
    """Where a data disk is made (see `_pool_for`)."""
    return _pool_for(conn, disk.pool_id)


def _pool_for(conn: libvirt.virConnect, pool_id: str) -> Any:
    """Where a disk is made: the primary storage pool Stratus placed it on, when this host
    has that pool active (`connect_pool`), else the host's own pool."""
    if pool_id:
        with contextlib.suppress(libvirt.libvirtError):
            pool = conn.storagePoolLookupByName(pool_id)
            if pool.isActive():
                return pool
    return _local_pool(conn)


def _volume_xml(pool: Any, volume_name: str, spec: VmSpec) -> str:
    volume = ET.Element("volume")
    ET.SubElement(volume, "name").text = volume_name
    ET.SubElement(volume, "capacity", unit="GiB").text = str(spec.root_disk_gb)
    target = ET.SubElement(volume, "target")
    ET.SubElement(target, "format", type="qcow2")
    if spec.template:
        try:
            template_path = pool.storageVolLookupByName(spec.template).path()
        except libvirt.libvirtError:
            raise HypervisorError(
                f"template {spec.template} is not in pool {pool.name()}"
            ) from None
        backing = ET.SubElement(volume, "backingStore")
        ET.SubElement(backing, "path").text = template_path
        ET.SubElement(backing, "format", type="qcow2")
    return ET.tostring(volume, encoding="unicode")


def _attach(devices: ET.Element, path: str, io_limits: dict[str, int]) -> None:
    disk = ET.SubElement(devices, "disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="qcow2")
    ET.SubElement(disk, "source", file=path)
    ET.SubElement(disk, "target", dev="vda", bus="virtio")
    disks.add_iotune(disk, io_limits)
