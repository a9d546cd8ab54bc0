"""Every handler of adapter results, by action: what the server's result consumer dispatches to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands import (
    hosts,
    internal_lb,
    network_acls,
    network_rules,
    routers,
    security_groups,
    simulator_mocks,
    site_to_site_vpn,
    snapshots,
    statistics,
    storage,
    system_vms,
    template_captures,
    templates,
    vcenter_clusters,
    vm_nics,
    vm_snapshots,
    vms,
    vmware_datacenters,
    volume_uploads,
    volume_work,
    vpn,
)


def result_handlers() -> dict[str, Callable[[Any, Any], Any]]:
    """Handlers from every command family; an action claimed twice is a programming error."""
    merged: dict[str, Callable[[Any, Any], Any]] = {}
    for table in (
        hosts.RESULT_HANDLERS,
        vms.RESULT_HANDLERS,
        vm_nics.RESULT_HANDLERS,
        templates.RESULT_HANDLERS,
        template_captures.RESULT_HANDLERS,
        system_vms.RESULT_HANDLERS,
        routers.RESULT_HANDLERS,
        network_rules.RESULT_HANDLERS,
        network_acls.RESULT_HANDLERS,
        security_groups.RESULT_HANDLERS,
        vpn.RESULT_HANDLERS,
        site_to_site_vpn.RESULT_HANDLERS,
        statistics.RESULT_HANDLERS,
        volume_work.RESULT_HANDLERS,
        volume_uploads.RESULT_HANDLERS,
        snapshots.RESULT_HANDLERS,
        vm_snapshots.RESULT_HANDLERS,
        storage.RESULT_HANDLERS,
        vmware_datacenters.RESULT_HANDLERS,
        vcenter_clusters.RESULT_HANDLERS,
        simulator_mocks.RESULT_HANDLERS,
    ):
        for action, handler in table.items():
            if action in merged:
                raise RuntimeError(f"two handlers claim {action} results")
            merged[action] = handler
    for follow_ups in (
        network_rules.FOLLOW_UPS,
        network_acls.FOLLOW_UPS,
        storage.FOLLOW_UPS,
        site_to_site_vpn.FOLLOW_UPS,
        internal_lb.FOLLOW_UPS,
    ):
        for action, follow_up in follow_ups.items():
            merged[action] = _followed(merged[action], follow_up)
    return merged


def _followed(
    handler: Callable[[Any, Any], Any], follow_up: Callable[[Any, Any], None]
) -> Callable[[Any, Any], Any]:
    """`handler`, then work reacting to what it recorded (a router that booted gets its
    networks' rules again)."""

    def handle(store: Any, result: Any) -> Any:
        outcome = handler(store, result)
        follow_up(store, result)
        return outcome

    return handle
