"""StorageIpRanges: the addresses a pod gives its hosts' and system VMs' storage traffic.

One aggregate per pod holds the pod's storage ranges, so two ranges that would overlap cannot
both be saved: the second writer finds the first and is refused."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter
from domain.network_addressing import address, subnet

_NAMESPACE = UUID("4b0f6a3e-93d2-4c7e-8e51-2f1d7c9a6b40")


def storage_ranges_id(pod_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, str(pod_id))


def checked_range(
    start: str, end: str | None, gateway: str, netmask: str, vlan: int | None
) -> dict[str, Any]:
    """A range's terms, validated: start to end (end defaults to start) inside the gateway's
    subnet, the gateway outside them, a VLAN id from 1 to 4094."""
    low, high = address(start, "start ip"), address(end or start, "end ip")
    net = subnet(gateway, netmask)
    if high < low:
        raise InvalidParameter(f"The end ip {high} is before the start ip {low}")
    if low not in net or high not in net:
        raise InvalidParameter(f"The range {low}-{high} is not in the subnet {net} of the gateway")
    if low <= address(gateway, "gateway") <= high:
        raise InvalidParameter(f"The gateway {gateway} is inside the range {low}-{high}")
    if vlan is not None and not 1 <= vlan <= 4094:
        raise InvalidParameter(f"Invalid vlan {vlan}: use 1 to 4094")
    return {
        "start_ip": str(low),
        "end_ip": str(high),
        "gateway": str(gateway).strip(),
        "netmask": str(netmask).strip(),
        "vlan": vlan,
    }


def _overlaps(a: dict[str, Any], low: IPv4Address, high: IPv4Address) -> bool:
    return IPv4Address(a["start_ip"]) <= high and low <= IPv4Address(a["end_ip"])


class StorageIpRanges(Aggregate):
    """A pod's storage network ranges."""

    @event("Created")
    def __init__(self, pod_id: UUID, zone_id: UUID, id: UUID) -> None:
        self.pod_id, self.zone_id = pod_id, zone_id
        self.ranges: dict[str, dict[str, Any]] = {}

    @classmethod
    def for_pod(cls, pod_id: UUID, zone_id: UUID) -> StorageIpRanges:
        return cls(pod_id, zone_id, id=storage_ranges_id(pod_id))

    def _check_free(
        self, terms: dict[str, Any], pod_range: tuple[str, str] | None, skip: str = ""
    ) -> None:
        low, high = IPv4Address(terms["start_ip"]), IPv4Address(terms["end_ip"])
        if pod_range and _overlaps({"start_ip": pod_range[0], "end_ip": pod_range[1]}, low, high):
            raise InvalidParameter(
                f"The storage range {low}-{high} overlaps the pod's management range "
                f"{pod_range[0]}-{pod_range[1]}"
            )
        for range_id, other in self.ranges.items():
            if range_id != skip and _overlaps(other, low, high):
                raise InvalidParameter(
                    f"The storage range {low}-{high} overlaps the range "
                    f"{other['start_ip']}-{other['end_ip']} of this pod"
                )

    def add(self, range_id: UUID, terms: dict[str, Any], pod_range: tuple[str, str] | None) -> None:
        self._check_free(terms, pod_range)
        self._added(range_id=str(range_id), terms=terms, pod_id=self.pod_id, zone_id=self.zone_id)

    @event("RangeAdded")
    def _added(self, range_id: str, terms: dict[str, Any], pod_id: UUID, zone_id: UUID) -> None:
        self.ranges[range_id] = dict(terms)

    def range(self, range_id: UUID) -> dict[str, Any]:
        found = self.ranges.get(str(range_id))
        if found is None:
            raise InvalidParameter(f"Unable to find storage network ip range with id {range_id}")
        return found

    def update(
        self,
        range_id: UUID,
        changes: dict[str, Any],
        pod_range: tuple[str, str] | None,
    ) -> None:
        """Change a range's start, end, netmask or VLAN; checked as a new range would be."""
        now = self.range(range_id)
        merged = {**now, **{k: v for k, v in changes.items() if v is not None}}
        terms = checked_range(
            merged["start_ip"], merged["end_ip"], now["gateway"], merged["netmask"], merged["vlan"]
        )
        self._check_free(terms, pod_range, skip=str(range_id))
        if terms != now:
            self._updated(range_id=str(range_id), terms=terms)

    @event("RangeUpdated")
    def _updated(self, range_id: str, terms: dict[str, Any]) -> None:
        self.ranges[range_id] = dict(terms)

    def delete(self, range_id: UUID) -> None:
        self.range(range_id)
        self._deleted(range_id=str(range_id))

    @event("RangeDeleted")
    def _deleted(self, range_id: str) -> None:
        self.ranges.pop(range_id, None)
