"""The templates CloudStack 4.3 ships: per hypervisor, a system VM template (what routers and
other appliances boot) and, for most, a built-in guest template tenants may deploy at once.

Each is one cross-zone template with a fixed id, made the first time a zone gets a cluster of
its hypervisor, and downloaded into every further such zone by that hypervisor's adapter. A
template the operator deleted stays deleted. The images come from 4.3's download site, or from
the mirror the operator names (`STRATUS_BUILTIN_IMAGE_MIRROR`, for clouds without the internet).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID, uuid4, uuid5

from commands import Outcome
from commands.templates import check_host
from domain.account import Account
from domain.domains import Domain
from domain.errors import NotFound
from domain.guest_os import os_type_named
from domain.template import CopyState, FetchLimits, Owner, Template, TemplateSpec

ORIGIN = "http://download.cloud.com/"  # 4.3's download site; paths below are relative to it
_NAMESPACE = UUID("3f0c2a5e-8b7d-4e19-a6c4-1d2e3f405162")


@dataclass(frozen=True)
class BuiltinImage:
    """One template 4.3 seeds: its names, image and guest OS."""

    name: str
    hypervisor: str
    path: str  # under ORIGIN (or the mirror)
    checksum: str  # MD5, as 4.3 records it
    format: str
    os_type: str  # the guest OS type's description
    bits: int = 64
    system: bool = False  # SYSTEM: for appliances, not listed to tenants

    @property
    def template_type(self) -> str:
        return "SYSTEM" if self.system else "BUILTIN"


_ACTON = "templates/acton/acton-systemvm-02062012"
BUILTIN_IMAGES: tuple[BuiltinImage, ...] = (
    BuiltinImage(
        "SystemVM Template (XenServer)",
        "XenServer",
        f"{_ACTON}.vhd.bz2",
        "f613f38c96bf039f2e5cbf92fa8ad4f8",
        "VHD",
        "Debian GNU/Linux 6(64-bit)",
        system=True,
    ),
    BuiltinImage(
        "SystemVM Template (KVM)",
        "KVM",
        f"{_ACTON}.qcow2.bz2",
        "2755de1f9ef2ce4d6f2bee2efbb4da92",
        "QCOW2",
        "Debian GNU/Linux 5.0 (32-bit)",
        system=True,
    ),
    BuiltinImage(
        "CentOS 5.5(64-bit) no GUI (KVM)",
        "KVM",
        "releases/2.2.0/eec2209b-9875-3c8d-92be-c001bd8a0faf.qcow2.bz2",
        "ed0e788280ff2912ea40f7f91ca7a249",
        "QCOW2",
        "CentOS 5.5 (64-bit)",
    ),
    BuiltinImage(
        "CentOS 5.6(64-bit) no GUI (XenServer)",
        "XenServer",
        "templates/builtin/centos56-x86_64.vhd.bz2",
        "905cec879afd9c9d22ecc8036131a180",
        "VHD",
        "CentOS 5.3 (64-bit)",
    ),
    BuiltinImage(
        "CentOS 5.3(64-bit) no GUI (vSphere)",
        "VMware",
        "releases/2.2.0/CentOS5.3-x86_64.ova",
        "f6f881b7f2292948d8494db837fe0f47",
        "OVA",
        "CentOS 5.3 (64-bit)",
    ),
    BuiltinImage(
        "SystemVM Template (vSphere)",
        "VMware",
        "templates/burbank/burbank-systemvm-08012012.ova",
        "7137e453f950079ea2ba6feaafd939e8",
        "OVA",
        "Debian GNU/Linux 5.0 (32-bit)",
        bits=32,
        system=True,
    ),
    BuiltinImage(
        "SystemVM Template (HyperV)",
        "Hyperv",
        f"{_ACTON}.vhd.bz2",
        "f613f38c96bf039f2e5cbf92fa8ad4f8",
        "VHD",
        "Debian GNU/Linux 5.0 (32-bit)",
        bits=32,
        system=True,
    ),
    BuiltinImage(
        "SystemVM Template (Simulator)",
        "Simulator",
        f"{_ACTON}.vhd.bz2",
        "",
        "VHD",
        "Debian GNU/Linux 5.0 (32-bit)",
        system=True,
    ),
    BuiltinImage(
        "CentOS 5.3(64-bit) no GUI (Simulator)",
        "Simulator",
        "templates/builtin/f59f18fb-ae94-4f97-afd2-f84755767aca.vhd.bz2",
        "",
        "VHD",
        "CentOS 5.3 (64-bit)",
    ),
)


def builtin_template_id(name: str) -> UUID:
    """The fixed id of a built-in template, the same in every installation."""
    return uuid5(_NAMESPACE, f"builtin-template:{name}")


def images_for(hypervisor: str) -> tuple[BuiltinImage, ...]:
    """The built-in templates of a hypervisor kind (as `check_hypervisor` spells it)."""
    return tuple(i for i in BUILTIN_IMAGES if i.hypervisor == hypervisor)


def image_url(image: BuiltinImage, mirror: str = "") -> str:
    return (mirror or ORIGIN) + image.path


def spec_of(image: BuiltinImage, mirror: str = "") -> TemplateSpec:
    return TemplateSpec(
        name=image.name,
        display_text=image.name,
        url=image_url(image, mirror),
        hypervisor=image.hypervisor,
        format=image.format,
        os_type_id=os_type_named(image.os_type).id,
        is_featured=not image.system,
        is_public=not image.system,
        is_extractable=not image.system,
        requires_hvm=False,
        bits=image.bits,
        checksum=image.checksum,
        cross_zones=True,
        template_type=image.template_type,
    )


@dataclass(frozen=True)
class EnsureBuiltinTemplates:
    """A zone that has (another) cluster of `hypervisor`: its built-in templates must be there."""

    zone_id: UUID
    hypervisor: str
    account_id: UUID  # the root administrator's account: the cloud's own templates are theirs
    limits: FetchLimits = field(default_factory=FetchLimits)
    mirror: str = ""


def ensure_builtin_templates(store: Any, command: EnsureBuiltinTemplates) -> Outcome:
    """Register what is missing and ask for each download the zone lacks. Two clusters added at
    once race on the fixed ids: one wins, the other retries and finds the download asked for."""
    position = 0
    for image in images_for(command.hypervisor):
        position = max(position, store.run(lambda image=image: _ensure(store, command, image)))
    return Outcome(position)


def _ensure(store: Any, command: EnsureBuiltinTemplates, image: BuiltinImage) -> int:
    """The log position of the download asked for (0 when none was needed)."""
    template_id = builtin_template_id(image.name)
    try:
        template = store.get(Template, template_id, what="template")
    except NotFound:
        template = _register(store, command, image, template_id)
    if template.removed:
        return 0  # the operator deleted it: deleted defaults stay deleted
    copy = template.zones.get(str(command.zone_id))
    if copy is not None and copy["state"] != CopyState.FAILED:
        return 0
    template.request_download(command.zone_id, uuid4().hex, command.limits)
    position: int = store.last_position(store.save(template))
    return position


def _register(
    store: Any, command: EnsureBuiltinTemplates, image: BuiltinImage, template_id: UUID
) -> Template:
    spec = spec_of(image, command.mirror)
    check_host(spec.url, command.limits)
    account = store.get(Account, command.account_id, what="account")
    domain = store.get(Domain, account.domain_id, what="domain")
    owner = Owner(account.id, domain.id, domain.path)
    return Template(asdict(spec), asdict(owner), id=template_id)
