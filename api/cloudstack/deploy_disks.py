"""The disks a deploy asks for besides its template's: `diskofferingid` (with `size` for a custom
offering) makes a data disk attached to the new VM, or, when `templateid` names an ISO, the VM's
blank ROOT disk, which the VM boots the ISO onto (`hypervisor` then says which kind runs it).

Everything here is checked before the deploy's job exists, so bad input answers at once and
changes nothing; the disks themselves are made in the deploy's commit (`commands.vms.deploy_vm`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from api.cloudstack import catalog
from api.cloudstack.storage_pools import pool_needs
from api.dispatch import Call
from commands.volume_placement import PoolNeeds
from commands.volumes import NewDataDisk
from domain.errors import InvalidParameter
from domain.infrastructure import check_hypervisor
from stratus.actions import lacking


@dataclass(frozen=True)
class DeployDisks:
    """What the deploy's disks come to: the hypervisor and ROOT disk size of its compute shape,
    the ROOT disk's offering and pool needs, a data disk to make, and an ISO to boot from."""

    hypervisor: str
    root_gb: int
    root_pool: PoolNeeds
    root_offering_id: UUID | None = None  # a disk offering (ISO); None: the compute offering
    root_qos: dict[str, Any] = field(default_factory=dict)  # the ROOT disk's storage QoS
    data_disk: NewDataDisk | None = None
    iso_id: UUID | None = None


def deploy_disks(
    call: Call,
    args: dict[str, Any],
    image: catalog.Template,
    offering: catalog.Offering,
    where: tuple[str, str, str],
) -> DeployDisks:
    """The deploy's disks; `where` is the zone, the owner's domain path and the new VM's
    instance name (which names its data disk, as its ROOT disk is named)."""
    zone_id, domain_path, instance_name = where
    chosen = _chosen_offering(call, args, domain_path)
    if image.is_iso:
        return _from_iso(call, args, image, chosen, zone_id)
    root_pool = pool_needs(call, zone_id, offering.storage_tags)
    root_qos = catalog.qos_of_disk(offering.qos, asked_iops(args))
    if chosen is None:
        return DeployDisks(image.hypervisor, image.disk_gb, root_pool, root_qos=root_qos)
    disk_offering, size = chosen
    data = NewDataDisk(
        uuid4(),
        f"DATA-{instance_name}",
        size,
        UUID(disk_offering.id),
        pool_needs(call, zone_id, disk_offering.storage_tags),
        catalog.qos_of_disk(disk_offering.qos),
    )
    return DeployDisks(
        image.hypervisor, image.disk_gb, root_pool, root_qos=root_qos, data_disk=data
    )


# The deploy's `details` keys that ask IOPS of the ROOT disk (4.3 has no parameter for them;
# later CloudStack releases take these keys).
IOPS_DETAILS = ("minIops", "maxIops")


def asked_iops(args: dict[str, Any]) -> tuple[int | None, int | None]:
    """The IOPS the deploy asks for its ROOT disk (`details[0].minIops`/`maxIops`), for an
    offering whose IOPS are customizable; (None, None) when none are asked."""
    merged = {key: value for group in args["details"] or () for key, value in group.items()}
    asked: list[int | None] = []
    for key in IOPS_DETAILS:
        value = merged.get(key)
        try:
            asked.append(None if value in (None, "") else int(value))
        except ValueError:
            raise InvalidParameter(f"The {key} detail must be a whole number") from None
    return asked[0], asked[1]


def _chosen_offering(
    call: Call, args: dict[str, Any], domain_path: str
) -> tuple[catalog.DiskOffering, int] | None:
    """The disk offering the deploy names, with the size its disk gets."""
    if args["diskofferingid"] is None:
        if args["size"] is not None:
            raise InvalidParameter("Specify diskofferingid with size: a disk is made from one")
        return None
    found = catalog.disk_offering(call, args["diskofferingid"], domain_path)
    return found, catalog.disk_size(found, args["size"])


def _from_iso(
    call: Call,
    args: dict[str, Any],
    iso: catalog.Template,
    chosen: tuple[catalog.DiskOffering, int] | None,
    zone_id: str,
) -> DeployDisks:
    """A VM installed from a bootable ISO: the disk offering gives its blank ROOT disk, and
    the deploy names the hypervisor (an ISO has none), one whose adapters have a CD drive."""
    if not iso.bootable:
        raise InvalidParameter(f"Installing from ISO requires an ISO that is bootable: {iso.id}")
    if chosen is None:
        raise InvalidParameter(
            "Installing from ISO requires a disk offering to be specified for the root disk."
        )
    if not args["hypervisor"]:
        raise InvalidParameter(
            "Hypervisor parameter is needed to deploy VM or the hypervisor parameter value "
            "passed is invalid"
        )
    hypervisor = check_hypervisor(args["hypervisor"])
    if lacking(hypervisor, "attach_iso") is not None:
        raise InvalidParameter(
            f"Deploying a virtual machine from an ISO is not supported yet on {hypervisor}"
        )
    disk_offering, size = chosen
    return DeployDisks(
        hypervisor,
        size,
        pool_needs(call, zone_id, disk_offering.storage_tags),
        root_offering_id=UUID(disk_offering.id),
        root_qos=catalog.qos_of_disk(disk_offering.qos, asked_iops(args)),
        iso_id=UUID(iso.id),
    )
