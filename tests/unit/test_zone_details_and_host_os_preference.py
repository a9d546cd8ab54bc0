"""A zone's details accumulate over updates; hosts are tried by the OS category they prefer,
within each cluster, as 4.3's host allocator orders them."""

from __future__ import annotations

from api.cloudstack.placement import by_os_category
from domain.infrastructure import Zone


def test_zone_details_given_later_are_added_or_replace_the_kept_ones() -> None:
    zone = Zone("z", "Advanced", {"dns1": "8.8.8.8"}, "", None, "Enabled", False)
    zone.update({"details": {"rack": "A", "note": "fast"}})
    zone.update({"details": {"rack": "B"}})
    assert zone.details == {"rack": "B", "note": "fast"}


def _host(name: str, cluster: str, category: str | None) -> dict:
    return {"id": name, "cluster_id": cluster, "os_category_id": category}


def test_hosts_preferring_the_category_come_first_and_others_last_per_cluster() -> None:
    rows = [
        _host("a1", "A", "windows"),
        _host("a2", "A", None),
        _host("a3", "A", "linux"),
        _host("b1", "B", "linux"),
        _host("a4", "A", None),
    ]
    ordered = [r["id"] for r in by_os_category(rows, "linux")]
    assert ordered == ["a3", "a2", "a4", "a1", "b1"]


def test_the_order_is_kept_when_no_host_prefers_a_category() -> None:
    rows = [_host("b1", "B", None), _host("a1", "A", None), _host("b2", "B", None)]
    assert by_os_category(rows, "linux") == rows
