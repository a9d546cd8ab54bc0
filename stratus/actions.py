"""The actions adapters perform, declared once: each with the capability a hypervisor needs for it.

The server checks a request against its hypervisor's capabilities before the request leaves
(`stratus.outbox.work`): a host kind that cannot do an action gets no request, and the work
fails at once with the reason. Adapters dispatch only catalogued actions, and each driver
declares the capabilities it has, checked again before it is asked to act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Capability(StrEnum):
    """A part of the `Hypervisor` protocol that a driver either does or refuses."""

    HOSTS = "hosts"  # connect, ping, disconnect
    VM_LIFECYCLE = "vm-lifecycle"  # start, stop, reboot, destroy, status
    SCALING = "scaling"
    VOLUMES = "volumes"  # attach, detach, resize data disks
    SNAPSHOTS = "snapshots"  # VM snapshots and volume snapshots
    STATISTICS = "statistics"  # network and disk counters
    APPLIANCES = "appliances"  # system VM images: their release, their services
    NETWORK_RULES = "network-rules"  # a router's NAT, firewall, load-balancing and ACL sets
    SECURITY_GROUPS = "security-groups"  # a VM's ingress/egress set on its host
    REMOTE_ACCESS_VPN = "remote-access-vpn"
    SITE_TO_SITE_VPN = "site-to-site-vpn"  # a VPC router's IPsec connections
    TEMPLATES = "templates"  # downloading an image into a zone's image store
    ISOS = "isos"  # a VM's CD drive: an ISO put in and taken out
    STORAGE_POOLS = "storage-pools"  # a primary storage pool made known to a host
    REIMAGING = "reimaging"  # a VM's root disk made anew (restoreVirtualMachine)
    NICS = "nics"  # a running VM's guest NICs plugged in and out
    MIGRATION = "migration"  # a running guest or appliance moved live to another host
    DATACENTERS = "datacenters"  # a vCenter datacenter claimed for a zone, and given back
    SIMULATION = "simulation"  # the simulator's answers to an action, set by an operator
    STORAGE_MOTION = "storage-motion"  # a disk copied from one primary storage pool to another
    DEVICE_RULES = "device-rules"  # an external network device's share of a network's rules


@dataclass(frozen=True)
class Action:
    """One kind of work: its name on the bus and what the hypervisor must be able to do.

    `host_bound` actions run on a connected host's session; the others on a fresh driver of
    the kind, with no host credentials. `recorded` actions are sent by the server, whose
    result handler records what they did; the others are asked of an adapter directly (an
    operator's query, a probe) and change nothing in the cloud.
    """

    name: str
    needs: Capability
    host_bound: bool = True
    recorded: bool = True


C = Capability
ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("connect_host", C.HOSTS),
        Action("ping_host", C.HOSTS, recorded=False),
        Action("disconnect_host", C.HOSTS, recorded=False),
        Action("start_vm", C.VM_LIFECYCLE),
        Action("stop_vm", C.VM_LIFECYCLE),
        Action("reboot_vm", C.VM_LIFECYCLE),
        Action("destroy_vm", C.VM_LIFECYCLE),
        Action("vm_status", C.VM_LIFECYCLE, recorded=False),
        Action("scale_vm", C.SCALING),
        Action("start_system_vm", C.APPLIANCES),
        Action("reboot_system_vm", C.APPLIANCES),
        Action("upgrade_router", C.APPLIANCES),
        Action("check_router", C.APPLIANCES),
        Action("stop_system_vm", C.VM_LIFECYCLE),
        Action("destroy_system_vm", C.VM_LIFECYCLE),
        Action("scale_system_vm", C.SCALING),
        Action("attach_volume", C.VOLUMES),
        Action("detach_volume", C.VOLUMES),
        Action("resize_volume", C.VOLUMES),
        Action("vm_disks", C.VOLUMES, recorded=False),
        Action("create_vm_snapshot", C.SNAPSHOTS),
        Action("revert_vm_snapshot", C.SNAPSHOTS),
        Action("delete_vm_snapshot", C.SNAPSHOTS),
        Action("snapshot_volume", C.SNAPSHOTS),
        Action("network_stats", C.STATISTICS),
        Action("disk_stats", C.STATISTICS),
        Action("apply_network_rules", C.NETWORK_RULES),
        Action("apply_network_acls", C.NETWORK_RULES),
        Action("apply_security_rules", C.SECURITY_GROUPS),
        Action("configure_remote_access_vpn", C.REMOTE_ACCESS_VPN),
        Action("configure_site_vpn", C.SITE_TO_SITE_VPN),
        Action("check_site_vpns", C.SITE_TO_SITE_VPN),
        Action("download_template", C.TEMPLATES, host_bound=False),
        Action("download_volume", C.TEMPLATES, host_bound=False),  # an uploaded volume
        Action("delete_image", C.TEMPLATES, host_bound=False),  # a deleted image's bytes
        Action("create_template", C.TEMPLATES),  # from a VM's root volume, on its host
        Action("attach_iso", C.ISOS),
        Action("detach_iso", C.ISOS),
        Action("connect_pool", C.STORAGE_POOLS),
        Action("restore_vm", C.REIMAGING),
        Action("plug_nic", C.NICS),
        Action("unplug_nic", C.NICS),
        Action("migrate_vm", C.MIGRATION),
        Action("migrate_system_vm", C.MIGRATION),
        Action("configure_simulator", C.SIMULATION),
        # On the vCenter the request's credentials name, not on a host.
        Action("claim_datacenter", C.DATACENTERS, host_bound=False),
        Action("release_datacenter", C.DATACENTERS, host_bound=False),
        Action("discover_cluster", C.DATACENTERS, host_bound=False),  # a vCenter cluster's hosts
        Action("migrate_volume", C.STORAGE_MOTION),
        # On an external network device (NetScaler, Palo Alto), which stands where a host would.
        Action("apply_device_rules", C.DEVICE_RULES),
    )
}

EVERYWHERE = frozenset({C.HOSTS, C.VM_LIFECYCLE, C.SCALING, C.VOLUMES, C.SNAPSHOTS, C.STATISTICS})

# What each adapter kind can do (its driver declares the same set; a test holds them equal).
# Only VMware has datacenters to claim (on its vCenter); only the simulator is configured.
CAPABILITIES: dict[str, frozenset[Capability]] = {
    "simulator": frozenset(Capability) - {C.DATACENTERS},
    "kvm": frozenset(Capability) - {C.DATACENTERS, C.SIMULATION},
    "xenserver": EVERYWHERE | {C.SECURITY_GROUPS},
    "hyperv": EVERYWHERE | {C.SECURITY_GROUPS},
    "vmware": EVERYWHERE | {C.DATACENTERS},
    "baremetal": frozenset({C.HOSTS, C.VM_LIFECYCLE}),  # booted over PXE, powered over IPMI
}


# What each kind of device adapter can do, beside the hypervisors: hold the rules of the
# networks placed on its devices. Device providers with no adapter here have none.
DEVICE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "netscaler": frozenset({C.DEVICE_RULES}),
    "paloalto": frozenset({C.DEVICE_RULES}),
}


def capabilities_of(kind: str) -> frozenset[Capability]:
    """What an adapter of `kind` (a hypervisor's or a device's) can do."""
    found = CAPABILITIES.get(kind.lower())
    return found if found is not None else DEVICE_CAPABILITIES.get(kind.lower(), frozenset())


class UnknownAction(ValueError):
    """A request names an action that is not in the catalogue."""


def action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise UnknownAction(f"unknown action {name!r}") from None


def lacking(hypervisor: str, name: str) -> str | None:
    """Why a host of this kind cannot do the action, or None when it can."""
    needed = action(name).needs
    if needed in capabilities_of(hypervisor):
        return None
    return f"the {hypervisor} adapter does not support {name} (it lacks {needed.value})"
