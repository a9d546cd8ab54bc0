"""Every host-bound action an adapter performs, by name: one table, built in one place.

Its keys are the host-bound actions of `stratus.actions.ACTIONS` other than the host session's
own (connect, ping, disconnect), which `adapters.sessions` performs itself; a test holds them
equal, so an action cannot be catalogued without a handler, nor handled without a declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor
from adapters.appliances import APPLIANCE_ACTIONS
from adapters.captures import CAPTURE_ACTIONS
from adapters.devices.rules import DEVICE_ACTIONS
from adapters.disks import DISK_ACTIONS
from adapters.guests import GUEST_ACTIONS
from adapters.isos import ISO_ACTIONS
from adapters.migrations import MIGRATION_ACTIONS
from adapters.network_rules import RULE_ACTIONS
from adapters.nics import NIC_ACTIONS
from adapters.security import SECURITY_ACTIONS
from adapters.simulation import SIMULATION_ACTIONS
from adapters.site_vpn import SITE_VPN_ACTIONS
from adapters.snapshots import SNAPSHOT_ACTIONS
from adapters.statistics import STATISTICS_ACTIONS
from adapters.storage_pools import POOL_ACTIONS

Handler = Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]

SESSION_ACTIONS = frozenset({"connect_host", "ping_host", "disconnect_host"})

HANDLERS: dict[str, Handler] = {
    **GUEST_ACTIONS,
    **APPLIANCE_ACTIONS,
    **DISK_ACTIONS,
    **ISO_ACTIONS,
    **NIC_ACTIONS,
    **SNAPSHOT_ACTIONS,
    **STATISTICS_ACTIONS,
    **RULE_ACTIONS,
    **SECURITY_ACTIONS,
    **SITE_VPN_ACTIONS,
    **POOL_ACTIONS,
    **CAPTURE_ACTIONS,
    **MIGRATION_ACTIONS,
    **SIMULATION_ACTIONS,
    **DEVICE_ACTIONS,
}
