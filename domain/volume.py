"""Volume: a VM's ROOT disk or a DATADISK, its size, its offering and the VM it is attached to.

Sizes are whole GiB. Every event that changes what usage bills (creation, resize, destruction)
carries the size, the disk offering and the template, so usage needs no read model.
Attaching, detaching and resizing a disk of a VM that has a host are *requested* (an event
naming the request, the job, the host and its sealed credentials) and become facts only when
the host's adapter confirms them; a VM that has no host yet changes on the record alone. A VM's
device slots are settled by its `DeviceSlots` aggregate, saved with every attach and detach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.storage_qos import io_limits_of, with_rates
from domain.template import FORMATS, StoreTarget, removal_fields
from domain.values import Secret
from domain.vm import HostAccess, host_request

MAX_INT = 2**31 - 1
ROOT_NAMESPACE = UUID("6a0f3c56-2f8e-4c55-9a38-0b1f4a4f0c3e")
SLOTS_NAMESPACE = UUID("0d1e5f2a-7c4b-4f7e-9b8a-3c2d1e0f9a8b")
ATTACHABLE_VM_STATES = ("Running", "Stopped")
RESERVED_DEVICE_ID = 3  # CloudStack keeps device 3 for the CD-ROM


class VolumeType:
    ROOT = "ROOT"
    DATADISK = "DATADISK"


class VolumeState:
    ALLOCATED = "Allocated"  # a data disk never attached: no storage has been used yet
    READY = "Ready"
    UPLOAD_OP = "UploadOp"  # uploaded: its image is being fetched into the zone's image store
    UPLOADED = "Uploaded"  # uploaded and fetched: kept on secondary storage until attached
    UPLOAD_ERROR = "UploadError"


# Every state 4.3's Volume.State knows (updateVolume's `state` takes one of them).
STATES = (
    "Allocated",
    "Creating",
    "Ready",
    "Resizing",
    "Migrating",
    "Copying",
    "Uploading",
    "UploadError",
    "Uploaded",
    "UploadOp",
    "Snapshotting",
    "Expunging",
    "Expunged",
    "Destroy",
)
EXTRACT_MODE = "HTTP_DOWNLOAD"


@dataclass(frozen=True)
class Upload:
    """Where an uploaded volume's image comes from (`uploadVolume`)."""

    url: str
    image_format: str
    checksum: str = ""
    store_id: UUID | None = None  # the image store it is kept on, when one was named

    def facts(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "format": self.image_format,
            "checksum": self.checksum,
            "store_id": self.store_id,
        }


def image_fits(upload: dict[str, Any], hypervisor: str) -> bool:
    """Whether an uploaded image can be a disk of a VM of `hypervisor` (the formats it boots)."""
    return str(upload["format"]).upper() in FORMATS.get(hypervisor, ())


@dataclass(frozen=True)
class UploadRequest:
    """The fetch of an uploaded volume's image: by which kind of adapter, under which limits."""

    request_id: str
    kind: str
    allowed_internal_sites: str = ""
    max_size_gb: int = 50


@dataclass(frozen=True)
class VolumeChanges:
    """What `updateVolume` sets; None keeps a value."""

    path: str | None = None
    state: str | None = None
    pool: tuple[UUID, str] | None = None  # (pool id, pool name)
    display: bool | None = None
    chain_info: str | None = None


@dataclass(frozen=True)
class PoolMove:
    """A move of the disk to another primary storage pool (migrateVolume): the pool, and
    whether the disk's VM keeps running meanwhile (storage motion)."""

    pool_id: UUID
    pool_name: str
    live: bool = False


@dataclass(frozen=True)
class VolumeExtract:
    """An offer of a volume's image for download: from which zone, asked by whom, until when."""

    extract_id: UUID
    zone_id: UUID
    account_id: UUID
    expires: datetime  # the caller reads the clock
    mode: str = EXTRACT_MODE


def root_volume_id(vm_id: UUID) -> UUID:
    """The ROOT volume's id derives from its VM's, so the VM's commands can find it."""
    return uuid5(ROOT_NAMESPACE, str(vm_id))


def next_device_id(used: set[int]) -> int:
    """The lowest free device slot for a data disk (0 is the ROOT disk, 3 the CD-ROM)."""
    device = 1
    while device in used or device == RESERVED_DEVICE_ID:
        device += 1
    return device


@dataclass(frozen=True)
class HostWork:
    """A request for a VM's host: which request, for which job, where, and the VM's name there."""

    request_id: str
    job_id: UUID | None
    access: HostAccess
    instance_name: str

    def fields(self) -> dict[str, Any]:
        return host_request(self.request_id, self.job_id, self.access, self.instance_name)


def check_size(size_gb: int | None) -> int:
    if size_gb is None or not 1 <= size_gb <= MAX_INT:
        raise InvalidParameter("Please specify a disk size of at least 1 Gb.")
    return size_gb


class Volume(Aggregate):
    """A disk; attached to at most one VM at a time."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        name: str,
        kind: str,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        zone_id: UUID,
        size_gb: int,
        disk_offering_id: UUID | None,
        template_id: UUID | None,
        vm_id: UUID | None,
        upload: dict[str, Any] | None = None,
        snapshot: dict[str, Any] | None = None,  # made from it: its id, where its copy is
        qos: dict[str, Any] | None = None,
    ) -> None:
        if not name:
            raise InvalidParameter("A volume needs a name")
        # Its storage QoS and I/O throttling rates (`domain.storage_qos.disk_qos`), fixed when
        # it is made; volumes made before storage QoS have none.
        self.qos = dict(qos or {})
        self.name, self.kind = name, kind
        self.account_id, self.domain_id, self.zone_id = owner_account_id, owner_domain_id, zone_id
        # An uploaded volume's size is known once its image is fetched.
        self.size_gb = size_gb if upload is not None and size_gb == 0 else check_size(size_gb)
        self.upload = dict(upload) if upload is not None else None
        self.upload_kind = ""  # the kind of adapter fetching its image
        self.snapshot = dict(snapshot) if snapshot is not None else None  # absent before
        self.target: dict[str, Any] = {}  # the image store an upload's bytes are written to
        self.stored: dict[str, Any] = {}  # where they are: store id, path, cached copy
        self.made_on_host = False  # a host made the disk (a snapshot's bytes went in then)
        self.disk_offering_id, self.template_id = disk_offering_id, template_id
        self.vm_id = vm_id
        self.device_id: int | None = 0 if vm_id is not None else None
        self.state = VolumeState.READY if vm_id is not None else VolumeState.ALLOCATED
        self.removed = False
        self.pending: str | None = None  # "attach", "detach" or "resize" while a host works
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.pending_vm_id: UUID | None = None
        self.pending_device_id: int | None = None
        self.pending_size: tuple[int, UUID | None] | None = None
        self.pending_qos: dict[str, Any] | None = None  # what a resize in flight brings
        self.pending_pool: tuple[UUID, str] | None = None  # where a move in flight goes
        self.pool_id: UUID | None = None
        self.path = ""
        self.display = True
        if upload is not None:
            self.state = VolumeState.UPLOAD_OP

    def _check_present(self) -> None:
        if self.removed:
            raise InvalidState(f"Volume {self.name} has been deleted")
        if self.pending is not None:
            raise InvalidState(
                f"Volume {self.name} is busy ({self.pending} in progress); try again when it is "
                "done"
            )

    def _check_data(self, what: str) -> None:
        self._check_present()
        if self.kind != VolumeType.DATADISK:
            raise InvalidParameter(f"Please specify a data volume to {what}")

    @property
    def min_iops(self) -> int:
        """The IOPS its storage guarantees it (storage QoS); 0 for none."""
        return int(getattr(self, "qos", {}).get("min_iops") or 0)

    def facts(self) -> dict[str, Any]:
        """What usage bills for this volume, carried on the events that change it."""
        return {
            "size_gb": self.size_gb,
            "disk_offering_id": self.disk_offering_id,
            "template_id": self.template_id,
            "zone_id": self.zone_id,
            "kind": self.kind,
        }

    # Attach, detach -----------------------------------------------------------------------

    def attach(self, vm_id: UUID, vm: dict[str, Any], device_id: int) -> None:
        """Attach to a VM (its `zone_id`, `state` and `account_id` given) in slot `device_id`."""
        self.check_attachable(vm)
        self._attached(vm_id=vm_id, device_id=device_id)

    def check_attachable(self, vm: dict[str, Any]) -> None:
        """Refused unless the disk is a free data disk and the VM may take it."""
        self._check_data("attach")
        if self.vm_id is not None:
            raise InvalidState(f"Volume {self.name} is already attached to a VM; detach it first")
        if vm["zone_id"] != self.zone_id:
            raise InvalidParameter("The volume and the VM must be in the same zone")
        if vm["account_id"] != self.account_id:
            raise InvalidParameter("The volume and the VM must belong to the same account")
        if vm["state"] not in ATTACHABLE_VM_STATES:
            raise InvalidState(
                f"Please specify a VM that is either running or stopped (it is {vm['state']})"
            )
        if self.state in (VolumeState.UPLOAD_OP, VolumeState.UPLOAD_ERROR):
            raise InvalidState(
                f"Volume {self.name} has not been uploaded yet (it is {self.state}): attach it "
                "once it is Uploaded"
            )
        hypervisor = vm.get("hypervisor")
        if self.upload is not None and hypervisor and not image_fits(self.upload, hypervisor):
            raise InvalidParameter(
                f"Volume {self.name} is a {self.upload['format']} image: it cannot be attached "
                f"to a {hypervisor} VM"
            )

    @event("Attached")
    def _attached(self, vm_id: UUID, device_id: int) -> None:
        self.vm_id, self.device_id, self.state = vm_id, device_id, VolumeState.READY
        if self.pending == "attach":  # a host confirmed it: the disk is made there
            self.made_on_host = True
        self._settle()

    @property
    def wants_snapshot_bytes(self) -> bool:
        """Made from a snapshot whose copy is in an image store, and not yet made by a host:
        its first host attach writes the copy into it."""
        return bool(self.snapshot and self.snapshot.get("path")) and not self.made_on_host

    def detach(self) -> None:
        self._detached(vm_id=self._check_detachable())

    def _check_detachable(self) -> UUID:
        """The VM the disk is attached to; refused when there is none."""
        self._check_data("detach")
        if self.vm_id is None:
            raise InvalidState(f"Volume {self.name} is not attached to any VM")
        return self.vm_id

    @event("Detached")
    def _detached(self, vm_id: UUID) -> None:
        self.vm_id, self.device_id = None, None
        self._settle()

    # Resize -------------------------------------------------------------------------------

    def resize(
        self,
        size_gb: int,
        disk_offering_id: UUID | None,
        *,
        shrink_ok: bool,
        io_limits: dict[str, int] | None = None,
    ) -> None:
        """Grow (or, signed off with `shrink_ok`, shrink) to `size_gb` under an offering, whose
        I/O throttling rates (`io_limits`; None: unchanged) the disk takes."""
        self.check_resizable(size_gb, disk_offering_id, shrink_ok=shrink_ok)
        self._resized(
            size_gb=size_gb,
            disk_offering_id=disk_offering_id,
            previous=self.facts(),
            qos=self._qos_under(io_limits),
        )

    def _qos_under(self, io_limits: dict[str, int] | None) -> dict[str, Any] | None:
        """The disk's QoS under a new offering's rates; None when they are not given."""
        if io_limits is None:
            return None
        return with_rates(getattr(self, "qos", None), io_limits)

    def check_resizable(
        self, size_gb: int, disk_offering_id: UUID | None, *, shrink_ok: bool
    ) -> None:
        """Refused for a ROOT disk, a bad size, the same size, or a shrink not signed off."""
        self._check_data("resize")
        check_size(size_gb)
        if size_gb < self.size_gb and not shrink_ok:
            raise InvalidParameter(
                f"Going from existing size of {self.size_gb} GB to size of {size_gb} GB would "
                "shrink the volume; sign off by supplying the shrinkok parameter with value true"
            )
        if size_gb == self.size_gb and disk_offering_id == self.disk_offering_id:
            raise InvalidParameter(f"Volume {self.name} already has that size and offering")

    @event("Resized")
    def _resized(
        self,
        size_gb: int,
        disk_offering_id: UUID | None,
        previous: dict[str, Any],
        qos: dict[str, Any] | None = None,  # its QoS now (None: unchanged, and before QoS)
    ) -> None:
        self.size_gb, self.disk_offering_id = size_gb, disk_offering_id
        if qos is not None:
            self.qos = dict(qos)
        self._settle()

    # Work on the VM's host -----------------------------------------------------------------

    def request_attach(
        self,
        vm_id: UUID,
        vm: dict[str, Any],
        device_id: int,
        work: HostWork,
        source: StoreTarget | None = None,
    ) -> None:
        """Ask the VM's host to plug the disk in slot `device_id`; attached once it confirms.
        `source`: the image store holding the snapshot copy the disk is made from (`path` in
        its `store`), whose bytes the host writes into the new disk."""
        self.check_attachable(vm)
        self._attach_requested(
            **work.fields(),
            vm_id=vm_id,
            device_id=device_id,
            size_gb=self.size_gb,
            pool_id=self.pool_id,
            source=dict(source.store) if source else None,
            source_secrets=dict(source.secrets) if source else None,
            io_limits=io_limits_of(getattr(self, "qos", None)),
        )

    @event("AttachRequested")
    def _attach_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        vm_id: UUID,
        device_id: int,
        size_gb: int,
        pool_id: UUID | None = None,  # the pool it was placed on (events before pools: none)
        source: dict[str, Any] | None = None,  # a snapshot copy to fill it from (older: none)
        source_secrets: dict[str, Secret] | None = None,
        io_limits: dict[str, int] | None = None,  # its I/O throttling (before storage QoS: none)
    ) -> None:
        self._pend("attach", request_id, job_id)
        self.pending_vm_id, self.pending_device_id = vm_id, device_id

    def request_detach(self, work: HostWork) -> None:
        """Ask the VM's host to unplug the disk; detached once it confirms."""
        vm_id = self._check_detachable()
        self._detach_requested(**work.fields(), vm_id=vm_id, device_id=self.device_id)

    @event("DetachRequested")
    def _detach_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        vm_id: UUID,
        device_id: int | None,
    ) -> None:
        self._pend("detach", request_id, job_id)

    def request_resize(
        self,
        size_gb: int,
        disk_offering_id: UUID | None,
        shrink_ok: bool,
        work: HostWork,
        io_limits: dict[str, int] | None = None,
    ) -> None:
        """Ask the host of the VM the disk is attached to for the new size; resized once it
        confirms (and then under the new offering's rates, `io_limits`, as `resize`)."""
        self.check_resizable(size_gb, disk_offering_id, shrink_ok=shrink_ok)
        if self.vm_id is None:
            raise InvalidState(f"Volume {self.name} is not attached: resize it on the record")
        self._resize_requested(
            **work.fields(),
            vm_id=self.vm_id,
            size_gb=size_gb,
            disk_offering_id=disk_offering_id,
            shrink_ok=shrink_ok,
            qos=self._qos_under(io_limits),
        )

    @event("ResizeRequested")
    def _resize_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        vm_id: UUID,
        size_gb: int,
        disk_offering_id: UUID | None,
        shrink_ok: bool,
        qos: dict[str, Any] | None = None,  # as Resized's
    ) -> None:
        self._pend("resize", request_id, job_id)
        self.pending_size = (size_gb, disk_offering_id)
        self.pending_qos = qos

    def is_current(self, request_id: str) -> bool:
        """Results of an older or already answered request must change nothing."""
        return not self.removed and self.pending is not None and request_id == self.request_id

    def confirm(self, request_id: str) -> None:
        """The host did what the request in flight asked: it becomes a fact."""
        if self.pending == "attach" and self.pending_vm_id and self.pending_device_id:
            self._attached(vm_id=self.pending_vm_id, device_id=self.pending_device_id)
        elif self.pending == "detach" and self.vm_id is not None:
            self._detached(vm_id=self.vm_id)
        elif self.pending == "resize" and self.pending_size is not None:
            size_gb, offering_id = self.pending_size
            self._resized(
                size_gb=size_gb,
                disk_offering_id=offering_id,
                previous=self.facts(),
                qos=getattr(self, "pending_qos", None),
            )
        elif self.pending == "migrate" and self.pending_pool is not None:
            pool_id, pool_name = self.pending_pool
            self._migrated(
                pool_id=pool_id, pool_name=pool_name, from_pool_id=self.pool_id, path=str(self.id)
            )

    def fail(self, request_id: str, reason: str) -> None:
        """The host could not do it: the volume stays as it was before the request."""
        if self.pending is not None:
            self._request_failed(request_id=request_id, action=self.pending, reason=reason)

    @event("RequestFailed")
    def _request_failed(self, request_id: str, action: str, reason: str) -> None:
        self._settle()

    def _pend(self, action: str, request_id: str, job_id: UUID | None) -> None:
        self.pending, self.request_id, self.job_id = action, request_id, job_id

    def _settle(self) -> None:
        self.pending, self.request_id = None, None
        self.pending_vm_id, self.pending_device_id, self.pending_size = None, None, None
        self.pending_qos = None
        self.pending_pool = None

    # Primary storage, updateVolume ---------------------------------------------------------

    def place(self, pool_id: UUID, pool_name: str) -> None:
        """The volume now lives on a primary storage pool (its path there is its id)."""
        if not self.removed and self.pool_id != pool_id:
            self._placed(pool_id=pool_id, pool_name=pool_name, path=str(self.id))

    @event("Placed")
    def _placed(self, pool_id: UUID, pool_name: str, path: str) -> None:
        self.pool_id, self.path = pool_id, path

    def check_movable(self, pool_id: UUID) -> UUID:
        """The pool the disk leaves for `pool_id`; refused (431) as 4.3 refuses a move."""
        self._check_present()
        if self.state != VolumeState.READY:
            raise InvalidParameter("Volume must be in ready state")
        if self.pool_id is None:
            raise InvalidParameter("Migration of volume from local storage pool is not supported")
        if self.pool_id == pool_id:
            raise InvalidParameter(f"Volume {self.name} is already on that storage pool")
        return self.pool_id

    def request_move(self, move: PoolMove, work: HostWork) -> None:
        """Ask a host that reaches both pools to copy the disk to `move.pool_id`; it lives
        there once the host confirms, and stays where it was if the host fails."""
        from_pool_id = self.check_movable(move.pool_id)
        self._migrate_requested(
            **work.fields(),
            from_pool_id=from_pool_id,
            to_pool_id=move.pool_id,
            to_pool_name=move.pool_name,
            disk_kind=self.kind,
            size_gb=self.size_gb,
            live=move.live,
        )

    @event("MigrateRequested")
    def _migrate_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,  # the VM the disk is attached to ("" for a detached disk)
        from_pool_id: UUID,
        to_pool_id: UUID,
        to_pool_name: str,
        disk_kind: str,
        size_gb: int,
        live: bool,
    ) -> None:
        self._pend("migrate", request_id, job_id)
        self.pending_pool = (to_pool_id, to_pool_name)

    def join_move(self, move: PoolMove, request_id: str) -> dict[str, Any]:
        """The disk moves with its VM, under the VM's migration request (4.3's
        migrateVirtualMachineWithVolume): the VM's host copies it before it moves the guest,
        and the answer to that request settles it. Returns what the host needs of the move."""
        from_pool_id = self.check_movable(move.pool_id)
        self._moves_with_vm(
            request_id=request_id,
            from_pool_id=from_pool_id,
            to_pool_id=move.pool_id,
            to_pool_name=move.pool_name,
        )
        return {
            "disk_id": str(self.id),
            "kind": self.kind,
            "size_gb": self.size_gb,
            "from_pool_id": str(from_pool_id),
            "to_pool_id": str(move.pool_id),
        }

    @event("MovesWithVm")
    def _moves_with_vm(
        self, request_id: str, from_pool_id: UUID, to_pool_id: UUID, to_pool_name: str
    ) -> None:
        self._pend("migrate", request_id, None)
        self.pending_pool = (to_pool_id, to_pool_name)

    @property
    def moving_between(self) -> tuple[UUID, UUID] | None:
        """(from, to) pools of the move in flight, if one is."""
        if self.pending != "migrate" or self.pending_pool is None or self.pool_id is None:
            return None
        return self.pool_id, self.pending_pool[0]

    @event("Migrated")
    def _migrated(
        self, pool_id: UUID, pool_name: str, from_pool_id: UUID | None, path: str
    ) -> None:
        self.pool_id, self.path = pool_id, path
        self._settle()

    def update(self, changes: VolumeChanges) -> None:
        """A root administrator's correction of the record (4.3's updateVolume)."""
        if self.removed:
            raise InvalidState(f"Volume {self.name} has been deleted")
        if changes.state is not None and changes.state not in STATES:
            raise InvalidParameter("Invalid volume state specified")
        pool_id, pool_name = changes.pool if changes.pool is not None else (None, None)
        self._updated(
            path=changes.path,
            state=changes.state,
            pool_id=pool_id,
            pool_name=pool_name,
            display=changes.display,
            chain_info=changes.chain_info,
        )

    @event("Updated")
    def _updated(
        self,
        path: str | None,
        state: str | None,
        pool_id: UUID | None,
        pool_name: str | None,
        display: bool | None,
        chain_info: str | None,
    ) -> None:
        if path is not None:
            self.path = path
        if state is not None:
            self.state = state
        if pool_id is not None:
            self.pool_id = pool_id
        if display is not None:
            self.display = display

    # Upload, extract ----------------------------------------------------------------------

    def request_upload(self, request: UploadRequest, target: StoreTarget | None = None) -> None:
        """Ask an adapter of `request.kind` to fetch the uploaded image into the zone's store
        (`target`: the image store it writes the bytes to, with its sealed credentials)."""
        if self.upload is None or self.state != VolumeState.UPLOAD_OP:
            raise InvalidState(f"Volume {self.name} is not waiting for an upload")
        self._upload_requested(
            store=dict(target.store) if target else {},
            staging=dict(target.staging) if target else {},
            store_secrets=dict(target.secrets) if target else {},
            request_id=request.request_id,
            kind=request.kind,
            zone_id=self.zone_id,
            url=self.upload["url"],
            image_format=self.upload["format"],
            checksum=self.upload["checksum"],
            allowed_internal_sites=request.allowed_internal_sites,
            max_size_gb=request.max_size_gb,
        )

    @event("UploadRequested")
    def _upload_requested(
        self,
        request_id: str,
        kind: str,
        zone_id: UUID,
        url: str,
        image_format: str,
        checksum: str,
        allowed_internal_sites: str,
        max_size_gb: int,
        store: dict[str, Any] | None = None,  # absent from uploads before image bytes
        staging: dict[str, Any] | None = None,
        store_secrets: dict[str, Secret] | None = None,
    ) -> None:
        self.request_id, self.upload_kind = request_id, kind
        self.target = (
            {"store": store, "staging": staging or {}, "secrets": store_secrets or {}}
            if store
            else {}
        )

    def stored_in(self, store_id: str, path: str, cache_store_id: str) -> None:
        """The uploaded image's bytes are in image store `store_id` at `path`."""
        self._image_stored(store_id=store_id, path=path, cache_store_id=cache_store_id)

    @event("ImageStored")
    def _image_stored(self, store_id: str, path: str, cache_store_id: str) -> None:
        self.stored = {"store_id": store_id, "path": path, "cache_store_id": cache_store_id}

    def remove_image(self) -> bool:
        """Have the uploaded image's bytes removed from its store (copied to primary storage,
        or deleted); False when no bytes are kept there."""
        if not self.stored:
            return False
        self._removal_requested(
            request_id=uuid5(self.id, f"remove image {self.version}").hex,
            kind=self.upload_kind,
            **removal_fields(self.stored, self.target),
        )
        return True

    @event("ImageRemovalRequested")
    def _removal_requested(
        self,
        request_id: str,
        kind: str,
        path: str,
        store_id: str,
        cache_store_id: str,
        store: dict[str, Any],
        staging: dict[str, Any],
        store_secrets: dict[str, Secret],
    ) -> None:
        self.stored = {}

    def upload_in_flight(self, request_id: str) -> bool:
        return (
            not self.removed
            and self.state == VolumeState.UPLOAD_OP
            and self.request_id == request_id
        )

    def finish_upload(self, request_id: str, size_bytes: int, physical_bytes: int) -> None:
        """The adapter fetched the image: the volume is Uploaded, at its virtual size."""
        if self.upload_in_flight(request_id):
            size_gb = max(1, -(-size_bytes // 2**30))
            self._uploaded(
                request_id=request_id,
                size_gb=size_gb,
                size_bytes=size_bytes,
                physical_bytes=physical_bytes,
                disk_offering_id=self.disk_offering_id,
                template_id=None,
            )

    @event("Uploaded")
    def _uploaded(
        self,
        request_id: str,
        size_gb: int,
        size_bytes: int,
        physical_bytes: int,
        disk_offering_id: UUID | None,
        template_id: UUID | None,
    ) -> None:
        self.state, self.size_gb, self.request_id = VolumeState.UPLOADED, size_gb, None

    def fail_upload(self, request_id: str, reason: str) -> None:
        if self.upload_in_flight(request_id):
            self._upload_failed(request_id=request_id, reason=reason)

    @event("UploadFailed")
    def _upload_failed(self, request_id: str, reason: str) -> None:
        self.state, self.request_id = VolumeState.UPLOAD_ERROR, None

    @property
    def on_secondary(self) -> bool:
        """An uploaded volume not yet attached is kept in the zone's image store."""
        return self.state in (VolumeState.UPLOAD_OP, VolumeState.UPLOADED)

    def check_extractable(self, vm_state: str | None) -> None:
        """4.3: a volume attached to a VM is extracted only while that VM is stopped."""
        if self.removed:
            raise InvalidState(f"Volume {self.name} has been deleted")
        if self.on_secondary and self.state != VolumeState.UPLOADED:
            raise InvalidState(f"Volume {self.name} is {self.state}: it cannot be extracted")
        if self.vm_id is not None and vm_state != "Stopped":
            raise InvalidParameter(
                "The VM the specified disk is attached to is not in the shutdown state."
            )

    def extract(self, offer: VolumeExtract, vm_state: str | None) -> None:
        """Offer the volume's image for download until `offer.expires`."""
        self.check_extractable(vm_state)
        if offer.mode != EXTRACT_MODE:
            raise InvalidParameter(f"Invalid extract mode {offer.mode}: use {EXTRACT_MODE}")
        self._extracted(
            extract_id=offer.extract_id,
            zone_id=offer.zone_id,
            account_id=offer.account_id,
            expires=offer.expires,
            mode=offer.mode,
        )

    @event("Extracted")
    def _extracted(
        self, extract_id: UUID, zone_id: UUID, account_id: UUID, expires: datetime, mode: str
    ) -> None:
        pass

    # Delete -------------------------------------------------------------------------------

    def delete(self) -> None:
        """Delete a data disk; refused while it is attached."""
        self._check_data("delete")
        if self.vm_id is not None:
            raise ResourceInUse(
                "Please specify a volume that is not attached to any VM (detach it first)"
            )
        self._destroyed(facts=self.facts())

    def destroy_with_vm(self) -> None:
        """The ROOT disk goes when its VM is expunged."""
        if not self.removed:
            self._destroyed(facts=self.facts())

    @event("Destroyed")
    def _destroyed(self, facts: dict[str, Any]) -> None:
        self.vm_id, self.device_id, self.removed = None, None, True

    def follow_owner(self, account_id: UUID, domain_id: UUID) -> None:
        """The volume's VM went to another account: the volume goes with it."""
        if not self.removed and account_id != self.account_id:
            self._owner_changed(
                account_id=account_id,
                domain_id=domain_id,
                from_account_id=self.account_id,
                from_domain_id=self.domain_id,
            )

    class OwnerChanged(Aggregate.Event):
        """The volume belongs to another account (its VM was assigned to it) from now on."""

        account_id: UUID
        domain_id: UUID
        from_account_id: UUID  # what the volume held is given back to this account and its domains
        from_domain_id: UUID

    @event(OwnerChanged)
    def _owner_changed(
        self, account_id: UUID, domain_id: UUID, from_account_id: UUID, from_domain_id: UUID
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id


def device_slots_id(vm_id: UUID) -> UUID:
    return uuid5(SLOTS_NAMESPACE, str(vm_id))


class DeviceSlots(Aggregate):
    """The data-disk slots of one VM. Every attach and detach saves it beside the volume, so two
    attaches racing for one VM write the same version of it and only one keeps its slot: the
    other is retried and takes the next free one."""

    @event("Created")
    def __init__(self, vm_id: UUID) -> None:
        self.vm_id = vm_id
        self.slots: dict[int, UUID] = {}

    @classmethod
    def create_id(cls, vm_id: UUID) -> UUID:
        return device_slots_id(vm_id)

    def take(self, volume_id: UUID, wanted: int | None, known_used: set[int]) -> int:
        """The slot `volume_id` gets: `wanted`, or the lowest free one. `known_used` adds the
        slots of attachments older than this record."""
        used = set(self.slots) | known_used
        if wanted is None:
            device = next_device_id(used)
        elif wanted in used or wanted in (0, RESERVED_DEVICE_ID) or wanted < 0:
            raise InvalidParameter(f"Device id {wanted} is taken or reserved on this VM")
        else:
            device = wanted
        self._taken(device_id=device, volume_id=volume_id)
        return device

    def check_room(self, known_used: set[int], limit: int | None) -> None:
        """4.3's refusal of a data disk past the hypervisor's limit for one VM (None: none)."""
        disks = (set(self.slots) | known_used) - {0, RESERVED_DEVICE_ID}
        if limit is not None and len(disks) >= limit:
            raise InvalidParameter(
                f"The specified VM already has the maximum number of data disks ({limit}). "
                "Please specify another VM."
            )

    @event("Taken")
    def _taken(self, device_id: int, volume_id: UUID) -> None:
        self.slots[device_id] = volume_id

    def release(self, volume_id: UUID) -> None:
        if volume_id in self.slots.values():
            self._released(volume_id=volume_id)

    @event("Released")
    def _released(self, volume_id: UUID) -> None:
        self.slots = {d: v for d, v in self.slots.items() if v != volume_id}
