"""Template: a disk image VMs boot from, its owner, and its copy in each zone's image store.

An image is downloaded into each zone by an adapter of the template's hypervisor kind: the
template records the request per zone, and only the result of the request in flight counts.
An ISO is a Template too (format ISO, hypervisor None, as CloudStack stores them): its copy in
a zone is fetched by an adapter of the kind that keeps that zone's images.
Also who may launch a template besides its owner; the catalogue of guest OS types is in
`domain.guest_os`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.baremetal import check_kickstart_url
from domain.errors import InvalidParameter, InvalidState
from domain.guest_os import OS_CATEGORIES as OS_CATEGORIES  # re-exported: the catalogue's old home
from domain.guest_os import OS_TYPES as OS_TYPES
from domain.guest_os import OsType as OsType
from domain.guest_os import category_id as category_id
from domain.guest_os import os_type
from domain.guest_os import os_type_id as os_type_id
from domain.infrastructure import check_hypervisor
from domain.values import Secret

# Which image formats each hypervisor boots. The simulator stands in for any of them.
FORMATS = {
    "KVM": ("QCOW2", "RAW"),
    "XenServer": ("VHD",),
    "VMware": ("OVA",),
    "Hyperv": ("VHDX", "VHD"),
    "Simulator": ("VHD", "QCOW2", "RAW", "OVA", "VHDX"),
    "BareMetal": ("BAREMETAL",),
}
KNOWN_FORMATS = ("QCOW2", "RAW", "VHD", "VHDX", "OVA", "BAREMETAL")
_SUFFIXES = {
    "QCOW2": (".qcow2",),
    "RAW": (".raw", ".img"),
    "VHD": (".vhd",),
    "VHDX": (".vhdx",),
    "OVA": (".ova",),
    "ISO": (".iso",),
}
_COMPRESSED = ("", ".zip", ".bz2", ".gz")
ISO = "ISO"
NO_HYPERVISOR = "None"  # what an ISO names as its hypervisor: it boots on any
URL_SCHEMES = ("http", "https")
TEMPLATE_TYPES = ("USER", "SYSTEM", "BUILTIN")
UPDATABLE = frozenset(
    {"name", "display_text", "os_type_id", "password_enabled", "sort_key", "bootable"}
)
PERMISSION_OPS = ("add", "remove", "reset")


class CopyState:
    """Where a template's copy in one zone stands."""

    DOWNLOADING = "Downloading"
    READY = "Ready"
    FAILED = "Failed"


def check_format(hypervisor: str, image_format: str) -> tuple[str, str]:
    """The hypervisor and format, normalised; InvalidParameter when they do not go together."""
    kind = check_hypervisor(hypervisor)
    shape = image_format.upper()
    if shape == "ISO":
        raise InvalidParameter("ISO images are registered with registerIso, not as templates")
    if shape not in KNOWN_FORMATS:
        raise InvalidParameter(
            f"Image format is incorrect {image_format}. Supported formats are "
            + ", ".join(KNOWN_FORMATS)
        )
    allowed = FORMATS[kind]
    if shape not in allowed:
        raise InvalidParameter(
            f"Format {shape} is not supported by hypervisor {kind}: use " + " or ".join(allowed)
        )
    return kind, shape


def check_image(hypervisor: str, image_format: str) -> tuple[str, str]:
    """`check_format` for a disk image; an ISO (format ISO) names no hypervisor."""
    if image_format.upper() == ISO:
        if hypervisor != NO_HYPERVISOR:
            raise InvalidParameter("An ISO names no hypervisor: it boots on any")
        return NO_HYPERVISOR, ISO
    return check_format(hypervisor, image_format)


def check_url(url: str, image_format: str) -> None:
    """The image URL must be fetchable over HTTP(S) and name a file of the format; a
    bare-metal kickstart template's URL names its kickstart file, kernel and initrd instead."""
    if image_format == "BAREMETAL" and url.strip().startswith("ks="):
        check_kickstart_url(url)
        return
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket, say
        raise InvalidParameter(f"Invalid URL {url}") from None
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname:
        raise InvalidParameter(f"Unsupported scheme for url: {url}; use http or https")
    suffixes = _SUFFIXES.get(image_format)
    if suffixes is None:
        return
    path = parts.path.lower()
    if not any(path.endswith(s + z) for s in suffixes for z in _COMPRESSED):
        raise InvalidParameter(
            f"The URL does not name a {image_format} image: its file must end in "
            + " or ".join(suffixes)
            + " (optionally .zip, .bz2 or .gz)"
        )


@dataclass(frozen=True)
class TemplateSpec:
    """What registering a template says about the image."""

    name: str
    display_text: str
    url: str
    hypervisor: str
    format: str
    os_type_id: UUID
    is_featured: bool = False
    is_public: bool = False
    is_extractable: bool = False
    password_enabled: bool = False
    ssh_key_enabled: bool = False  # the guest takes an SSH key (4.3's `sshkeyenabled`)
    requires_hvm: bool = True
    bits: int = 64
    checksum: str = ""
    template_tag: str = ""
    cross_zones: bool = False
    template_type: str = "USER"
    details: dict[str, str] = field(default_factory=dict)
    sort_key: int = 0
    bootable: bool = True
    source_volume_id: str = ""  # made by createTemplate from this volume: no URL to fetch
    source_template_id: str = ""  # ... whose VM was deployed from this template


@dataclass(frozen=True)
class FetchLimits:
    """The operator's limits on fetching an image, as they stood when its download was asked
    for: `secstorage.allowed.internal.sites` and `max.template.iso.size` (GB)."""

    allowed_internal_sites: str = ""
    max_size_gb: int = 50


def removal_fields(stored: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """What an `ImageRemovalRequested` names (of a template's copy, a snapshot's or an uploaded
    volume's image): where the bytes are, and the stores with their sealed secrets."""
    return {
        "path": stored["path"],
        "store_id": stored["store_id"],
        "cache_store_id": stored["cache_store_id"],
        "store": dict(target.get("store", {})),
        "staging": dict(target.get("staging", {})),
        "store_secrets": dict(target.get("secrets", {})),
    }


@dataclass(frozen=True)
class StoreTarget:
    """Where a zone's copy of an image is written: the image store that keeps it (`store`:
    id, provider, url, details) with its sealed credentials, and, in front of an object
    store, the NFS staging store it passes through and stays cached in (`staging`)."""

    store: dict[str, Any]
    secrets: dict[str, Secret] = field(default_factory=dict, repr=False)
    staging: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Permissions:
    """An `update…Permissions` request: flags to set (None keeps them) and, with `op` add,
    remove or reset, the accounts (ids) the template is shared with."""

    is_public: bool | None = None
    is_featured: bool | None = None
    is_extractable: bool | None = None
    op: str = ""
    accounts: tuple[str, ...] = ()


EXTRACT_MODES = ("HTTP_DOWNLOAD",)


@dataclass(frozen=True)
class ExtractRequest:
    """An offer of an image for download (`extractTemplate`, `extractIso`): from which zone,
    asked by which account, until when (the caller reads the clock)."""

    extract_id: UUID
    zone_id: UUID
    account_id: UUID
    expires: datetime
    mode: str = "HTTP_DOWNLOAD"


@dataclass(frozen=True)
class Capture:
    """A createTemplate from a stopped VM's root volume: the zone the template lands in, the
    request and its job, and the VM's last host (how to reach it) holding the volume."""

    zone_id: UUID
    request_id: str
    job_id: UUID | None
    host_id: UUID
    url: str
    username: str
    password: Secret = field(repr=False)
    hypervisor: str
    instance_name: str
    volume_id: UUID


@dataclass(frozen=True)
class Owner:
    """The account a template belongs to, and where that account sits in the domain tree."""

    account_id: UUID
    domain_id: UUID
    domain_path: str


def check_spec(spec: TemplateSpec) -> None:
    if not spec.name.strip():
        raise InvalidParameter("A template needs a name")
    check_image(spec.hypervisor, spec.format)
    if not spec.source_volume_id:
        check_url(spec.url, spec.format)
    if spec.template_type not in TEMPLATE_TYPES:
        raise InvalidParameter(f"Invalid template type {spec.template_type}: use USER or SYSTEM")
    if spec.bits not in (32, 64):
        raise InvalidParameter("Invalid bits value: use 32 or 64")
    if os_type(spec.os_type_id) is None:
        raise InvalidParameter(f"Unable to find an OS type with id {spec.os_type_id}")


class Template(Aggregate):
    """A registered image and its copies per zone (zone id text → copy facts)."""

    if TYPE_CHECKING:  # set from the spec when created
        name: str
        url: str
        display_text: str
        hypervisor: str
        format: str
        checksum: str
        template_type: str
        cross_zones: bool
        is_public: bool
        is_featured: bool
        is_extractable: bool

    @event("Registered")
    def __init__(self, spec: dict[str, Any], owner: dict[str, Any], id: UUID) -> None:
        check_spec(TemplateSpec(**spec))
        for key, value in spec.items():
            setattr(self, key, value)
        self.hypervisor, self.format = check_image(spec["hypervisor"], spec["format"])
        self.bootable = spec.get("bootable", True)  # absent from templates registered before
        self.source_volume_id: str = spec.get("source_volume_id", "")
        self.account_id: UUID = owner["account_id"]
        self.domain_id: UUID = owner["domain_id"]
        self.domain_path: str = owner["domain_path"]
        self.zones: dict[str, dict[str, Any]] = {}
        self.launchers: set[str] = set()  # accounts it is shared with (ids)
        self.removed = False
        self.job_id: UUID | None = None  # the createTemplate job its capture finishes
        self.request_id = ""  # the capture in flight (createTemplate)
        # zone → the image store (and staging store) its download writes to
        self.targets: dict[str, dict[str, Any]] = {}
        # zone → where its bytes are: store id, path in the store, staging store's cached copy
        self.stored: dict[str, dict[str, Any]] = {}

    @property
    def is_iso(self) -> bool:
        return self.format == ISO

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Template {self.name} has been deleted")

    @property
    def downloads(self) -> bool:
        """Whether an adapter fetches the image (bare-metal images are records only)."""
        return self.hypervisor != "BareMetal"

    def request_download(
        self,
        zone_id: UUID,
        request_id: str,
        limits: FetchLimits | None = None,
        store_kind: str = "",
        target: StoreTarget | None = None,
    ) -> None:
        """Ask for the image in a zone; an ISO names the kind of adapter keeping the zone's
        images (`store_kind`), a template is fetched by its own hypervisor's. With a
        `target`, the adapter writes the bytes to that image store (and its staging store)."""
        self._check_live()
        kind = self.hypervisor
        if self.is_iso:
            if not store_kind:
                raise InvalidParameter("An ISO needs an image store in the zone to download to")
            kind = store_kind
        limits = limits or FetchLimits()
        copy = self.zones.get(str(zone_id))
        if copy is not None and copy["state"] == CopyState.READY:
            raise InvalidState(f"Template {self.name} is already in zone {zone_id}")
        if not self.downloads:
            self.download_completed(zone_id=zone_id, request_id=request_id, size=0, physical=0)
            return
        self._download_requested(
            zone_id=zone_id,
            request_id=request_id,
            url=self.url,
            hypervisor=kind,
            image_format=self.format,
            checksum=self.checksum,
            allowed_internal_sites=limits.allowed_internal_sites,
            max_size_gb=limits.max_size_gb,
            store=dict(target.store) if target else {},
            staging=dict(target.staging) if target else {},
            store_secrets=dict(target.secrets) if target else {},
        )

    class DownloadRequested(Aggregate.Event):
        """Version 2 adds the fetch limits the adapter applies (`FetchLimits`); version 3 the
        image store the bytes go to (`StoreTarget`; none: the adapter's own image store)."""

        class_version = 3
        zone_id: UUID
        request_id: str
        url: str
        hypervisor: str
        image_format: str
        checksum: str
        allowed_internal_sites: str
        max_size_gb: int
        store: dict[str, Any]
        staging: dict[str, Any]
        store_secrets: dict[str, Secret]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            defaults = FetchLimits()
            state["allowed_internal_sites"] = defaults.allowed_internal_sites
            state["max_size_gb"] = defaults.max_size_gb

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["store"], state["staging"], state["store_secrets"] = {}, {}, {}

    @event(DownloadRequested)
    def _download_requested(
        self,
        zone_id: UUID,
        request_id: str,
        url: str,
        hypervisor: str,
        image_format: str,
        checksum: str,
        allowed_internal_sites: str,
        max_size_gb: int,
        store: dict[str, Any],
        staging: dict[str, Any],
        store_secrets: dict[str, Secret],
    ) -> None:
        self.zones[str(zone_id)] = {
            "state": CopyState.DOWNLOADING,
            "request_id": request_id,
            "kind": hypervisor,
        }
        if store:
            self.targets[str(zone_id)] = {
                "store": dict(store),
                "staging": dict(staging or {}),
                "secrets": dict(store_secrets or {}),
            }
        else:
            self.targets.pop(str(zone_id), None)

    def request_capture(self, capture: Capture) -> None:
        """Ask the host holding the source volume to copy it into the zone's image store (the
        template made by createTemplate); the answer is heard as a download's (`zone_of`)."""
        self._check_live()
        if not self.source_volume_id:
            raise InvalidParameter(f"Template {self.name} is not made from a volume")
        facts = {f.name: getattr(capture, f.name) for f in fields(capture)}  # Secret kept whole
        self._capture_requested(**facts, image_format=self.format)

    @event("CaptureRequested")
    def _capture_requested(
        self,
        zone_id: UUID,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        volume_id: UUID,
        image_format: str,
    ) -> None:
        self.zones[str(zone_id)] = {
            "state": CopyState.DOWNLOADING,
            "request_id": request_id,
            "kind": hypervisor,
        }
        self.job_id, self.request_id = job_id, request_id

    def kind_in(self, zone_id: UUID) -> str:
        """The kind of adapter that fetches the copy in a zone."""
        return str(self.zones.get(str(zone_id), {}).get("kind", self.hypervisor))

    def zone_of(self, request_id: str) -> UUID | None:
        """The zone whose download in flight is `request_id` (or was, until it was given up
        on: a late answer still counts); None for stale or repeated ones."""
        if self.removed:
            return None
        for zone, copy in self.zones.items():
            awaited = copy["state"] == CopyState.DOWNLOADING or copy.get("abandoned", False)
            if awaited and copy["request_id"] == request_id:
                return UUID(zone)
        return None

    def request_in(self, zone_id: UUID) -> str | None:
        """The download in flight into `zone_id`, if one is."""
        copy = self.zones.get(str(zone_id))
        if self.removed or copy is None or copy["state"] != CopyState.DOWNLOADING:
            return None
        return str(copy["request_id"])

    def abandon_download(self, zone_id: UUID, request_id: str, reason: str) -> None:
        """No adapter answered the download in flight: the copy fails with `reason`, and an
        adapter that does it later after all is still heard (`zone_of`)."""
        if self.request_in(zone_id) == request_id:
            self._download_abandoned(zone_id=zone_id, request_id=request_id, reason=reason)

    @event("DownloadAbandoned")
    def _download_abandoned(self, zone_id: UUID, request_id: str, reason: str) -> None:
        self.zones[str(zone_id)] = {
            "state": CopyState.FAILED,
            "request_id": request_id,
            "reason": reason,
            "abandoned": True,
            "kind": self.kind_in(zone_id),
        }

    @event("DownloadCompleted")
    def download_completed(self, zone_id: UUID, request_id: str, size: int, physical: int) -> None:
        self.zones[str(zone_id)] = {
            "state": CopyState.READY,
            "request_id": request_id,
            "size": size,
            "physical_size": physical,
            "kind": self.kind_in(zone_id),
        }

    @event("DownloadFailed")
    def download_failed(self, zone_id: UUID, request_id: str, reason: str) -> None:
        self.zones[str(zone_id)] = {
            "state": CopyState.FAILED,
            "request_id": request_id,
            "reason": reason,
            "kind": self.kind_in(zone_id),
        }

    def drive_facts(self, zone_id: UUID) -> dict[str, Any]:
        """What a VM's CD drive records of this ISO, ready in the VM's zone (the host reads it
        from that zone's image store)."""
        if self.removed or not self.is_iso:
            raise InvalidParameter(f"Unable to find an ISO with id {self.id}")
        if not self.ready_in(zone_id):
            raise InvalidState(f"ISO {self.name} is not ready in zone {zone_id}")
        return {
            "id": str(self.id),
            "name": self.name,
            "display_text": self.display_text,
            "url": self.url,
            "zone_id": str(zone_id),
        }

    def ready_in(self, zone_id: UUID) -> bool:
        copy = self.zones.get(str(zone_id))
        return not self.removed and copy is not None and copy["state"] == CopyState.READY

    def update(self, changes: dict[str, Any]) -> None:
        self._check_live()
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidParameter(f"Cannot change {', '.join(sorted(unknown))} of a template")
        if "os_type_id" in changes and os_type(changes["os_type_id"]) is None:
            raise InvalidParameter(f"Unable to find an OS type with id {changes['os_type_id']}")
        if changes:
            self._updated(changes=dict(changes))

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def copy_to(
        self,
        source: UUID,
        destination: UUID,
        request: tuple[str, FetchLimits],
        store_kind: str = "",
        target: StoreTarget | None = None,
    ) -> None:
        """Ask for the image in another zone; it must be ready in the source zone."""
        self._check_live()
        if source == destination:
            raise InvalidParameter("Please specify different source and destination zones.")
        if self.cross_zones:
            raise InvalidParameter(f"{self.name} is in every zone already (cross-zone)")
        if not self.ready_in(source):
            raise InvalidParameter(f"{self.name} is not ready in zone {source}")
        request_id, limits = request
        self.request_download(destination, request_id, limits, store_kind, target)

    def extract(self, request: ExtractRequest) -> None:
        """Offer the image for download from a zone where it is ready, until `expires`."""
        self._check_live()
        if request.mode not in EXTRACT_MODES:
            raise InvalidParameter(
                f"Invalid extract mode {request.mode}: use " + " or ".join(EXTRACT_MODES)
            )
        if self.template_type == "SYSTEM":
            raise InvalidParameter(f"Unable to extract the system template {self.name}")
        if not self.ready_in(request.zone_id):
            raise InvalidParameter(f"{self.name} is not ready in zone {request.zone_id}")
        self._extracted(
            extract_id=request.extract_id,
            zone_id=request.zone_id,
            account_id=request.account_id,
            mode=request.mode,
            expires=request.expires,
        )

    @event("Extracted")
    def _extracted(
        self, extract_id: UUID, zone_id: UUID, account_id: UUID, mode: str, expires: datetime
    ) -> None:
        pass  # the offer changes nothing of the template; the read model keeps it

    def set_permissions(self, change: Permissions) -> None:
        """Change who may launch it: public, featured, extractable, and shared accounts."""
        self._check_live()
        if self.template_type == "SYSTEM":
            raise InvalidParameter(f"Permissions of the system template {self.name} are fixed")
        launchers = set(self.launchers)
        if change.accounts and change.op not in PERMISSION_OPS:
            raise InvalidParameter("Invalid op: use add, remove or reset with accounts")
        if change.op and change.op not in PERMISSION_OPS:
            raise InvalidParameter(f"Invalid op {change.op}: use add, remove or reset")
        if change.op == "add":
            launchers |= set(change.accounts) - {str(self.account_id)}
        elif change.op == "remove":
            launchers -= set(change.accounts)
        elif change.op == "reset":
            launchers = set()
        flags = {
            "is_public": self.is_public if change.is_public is None else change.is_public,
            "is_featured": self.is_featured if change.is_featured is None else change.is_featured,
            "is_extractable": (
                self.is_extractable if change.is_extractable is None else change.is_extractable
            ),
        }
        self._permissions_set(**flags, launchers=sorted(launchers))

    @event("PermissionsSet")
    def _permissions_set(
        self, is_public: bool, is_featured: bool, is_extractable: bool, launchers: list[str]
    ) -> None:
        self.is_public, self.is_featured = is_public, is_featured
        self.is_extractable = is_extractable
        self.launchers = set(launchers)

    def delete(self, zone_id: UUID | None) -> None:
        """Remove the copy in one zone, or the whole template (also when no copy is left)."""
        self._check_live()
        if zone_id is not None and str(zone_id) not in self.zones:
            raise InvalidParameter(f"Template {self.name} is not in zone {zone_id}")
        gone = [zone_id] if zone_id is not None and len(self.zones) > 1 else list(self.stored)
        for zone in [str(z) for z in gone if str(z) in self.stored]:
            self._request_removal(zone)
        if zone_id is not None and len(self.zones) > 1:
            self._zone_copy_deleted(zone_id=zone_id)
        else:
            self._deleted()

    def stored_in(self, zone_id: UUID, store_id: str, path: str, cache_store_id: str) -> None:
        """The zone's bytes are in `store_id` at `path` (and cached in the staging store)."""
        self._image_stored(
            zone_id=zone_id, store_id=store_id, path=path, cache_store_id=cache_store_id
        )

    @event("ImageStored")
    def _image_stored(self, zone_id: UUID, store_id: str, path: str, cache_store_id: str) -> None:
        self.stored[str(zone_id)] = {
            "store_id": store_id,
            "path": path,
            "cache_store_id": cache_store_id,
        }

    def _request_removal(self, zone: str) -> None:
        self._removal_requested(
            zone_id=UUID(zone),
            request_id=uuid5(self.id, f"remove {zone} {self.version}").hex,
            kind=self.kind_in(UUID(zone)),
            **removal_fields(self.stored[zone], self.targets.get(zone, {})),
        )

    @event("ImageRemovalRequested")
    def _removal_requested(
        self,
        zone_id: UUID,
        request_id: str,
        kind: str,
        path: str,
        store_id: str,
        cache_store_id: str,
        store: dict[str, Any],
        staging: dict[str, Any],
        store_secrets: dict[str, Secret],
    ) -> None:
        self.stored.pop(str(zone_id), None)

    def store_of(self, zone_id: UUID) -> dict[str, Any]:
        """Where the zone's bytes are (store id, path, cached copy's store), or {}."""
        return dict(self.stored.get(str(zone_id), {}))

    @event("ZoneCopyDeleted")
    def _zone_copy_deleted(self, zone_id: UUID) -> None:
        self.zones.pop(str(zone_id), None)

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True
