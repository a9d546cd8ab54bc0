"""Reading a work request's parameters, and the two ways a request can be refused outright.

Every action module reads its parameters through these helpers, so a missing or malformed
parameter is always a `BadRequest` (definitive: retrying cannot help), never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from adapters import DiskSpec, HypervisorError, IsoSpec, NicSpec, VmSpec

T = TypeVar("T")


class BadRequest(HypervisorError):
    """The request itself is wrong (unknown action, missing parameter): retrying cannot help."""


class Unsupported(HypervisorError):
    """This adapter cannot do the action (yet): retrying cannot help."""


def param(params: dict[str, Any], key: str) -> Any:
    try:
        return params[key]
    except KeyError:
        raise BadRequest(f"parameter {key!r} is missing") from None


def name(params: dict[str, Any]) -> str:
    """The VM (or appliance) the action is about, by its instance name on the host."""
    return str(param(params, "name"))


def count(params: dict[str, Any], key: str) -> int:
    try:
        return int(param(params, key))
    except (TypeError, ValueError):
        raise BadRequest(f"parameter {key!r} must be a whole number") from None


IO_LIMITS = ("bytes_read_rate", "bytes_write_rate", "iops_read_rate", "iops_write_rate")


def io_limits(raw: Any) -> dict[str, int]:
    """A disk's I/O throttling rates (a mapping of `IO_LIMITS` to whole numbers; none absent)."""
    if not raw:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= set(IO_LIMITS):
        raise BadRequest(f"I/O limits must be a mapping of {', '.join(IO_LIMITS)}")
    return {key: count(raw, key) for key in IO_LIMITS if key in raw}


def disk_spec(raw: Any) -> DiskSpec:
    """A disk of a request (a mapping with disk_id, device_id and size_gb)."""
    if not isinstance(raw, dict):
        raise BadRequest("a data disk must be a mapping")
    return DiskSpec(
        str(param(raw, "disk_id")),
        count(raw, "device_id"),
        count(raw, "size_gb"),
        str(raw.get("pool_id") or ""),
        io_limits(raw.get("io_limits")),
    )


def _listed(raw: Any, key: str, read: Callable[[Any], T]) -> tuple[T, ...]:
    """Each item of a list parameter of a request, read; none when it is absent."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise BadRequest(f"parameter {key!r} must be a list")
    return tuple(read(item) for item in raw)


def data_disks(raw: Any) -> tuple[DiskSpec, ...]:
    """The `data_disks` of a start request, by slot."""
    disks = _listed(raw, "data_disks", disk_spec)
    return tuple(sorted(disks, key=lambda disk: disk.device_id))


def nic_spec(raw: Any) -> NicSpec:
    """A guest NIC of a request (a mapping with mac_address, and broadcast_uri, ip_address)."""
    if not isinstance(raw, dict):
        raise BadRequest("a nic must be a mapping")
    return NicSpec(
        str(param(raw, "mac_address")),
        str(raw.get("broadcast_uri") or ""),
        str(raw.get("ip_address") or ""),
    )


def nic_specs(raw: Any) -> tuple[NicSpec, ...]:
    """The `nics` of a start request, in the order given (the default one first)."""
    return _listed(raw, "nics", nic_spec)


def iso_spec(raw: Any) -> IsoSpec:
    """An ISO of a request (a mapping with iso_id, url and zone_id)."""
    if not isinstance(raw, dict):
        raise BadRequest("an ISO must be a mapping")
    return IsoSpec(str(param(raw, "iso_id")), str(param(raw, "url")), str(param(raw, "zone_id")))


def vm_spec(params: dict[str, Any]) -> VmSpec:
    """The VM a start request describes."""
    known = {field.name for field in fields(VmSpec)}
    chosen = {key: value for key, value in params.items() if key in known}
    chosen["data_disks"] = data_disks(params.get("data_disks"))
    chosen["iso"] = iso_spec(params["iso"]) if params.get("iso") else None
    chosen["nics"] = nic_specs(params.get("nics"))
    chosen["root_io_limits"] = io_limits(params.get("root_io_limits"))
    try:
        return VmSpec(**chosen)
    except TypeError as exc:
        raise BadRequest(f"cannot start a VM from these parameters: {exc}") from None
