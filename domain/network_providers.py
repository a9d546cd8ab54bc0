"""What a physical network carries besides guest ids: the kinds of traffic it takes (with the
label each hypervisor knows its bridge or port group by) and the service providers that may
serve guest networks on it, each with the services it offers and its state.

Values and checks only; the PhysicalNetwork aggregate keeps them and records their changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID, uuid5

from domain.errors import InvalidParameter

# The kinds of traffic an operator adds to a physical network, as CloudStack spells them.
TRAFFIC_TYPES = ("Public", "Guest", "Management", "Storage")
# The hypervisors whose label a traffic type carries (the bridge, network or port group name).
LABEL_HYPERVISORS = ("kvm", "xen", "vmware", "hyperv")

# Each provider Stratus can run, with the services it offers (CloudStack's spellings).
PROVIDER_SERVICES: Mapping[str, tuple[str, ...]] = {
    "VirtualRouter": (
        "Dhcp",
        "Dns",
        "Firewall",
        "Gateway",
        "Lb",
        "PortForwarding",
        "SourceNat",
        "StaticNat",
        "UserData",
        "Vpn",
    ),
    "VpcVirtualRouter": (
        "Dhcp",
        "Dns",
        "Gateway",
        "Lb",
        "NetworkACL",
        "PortForwarding",
        "SourceNat",
        "StaticNat",
        "UserData",
        "Vpn",
    ),
    "InternalLbVm": ("Lb",),
    "SecurityGroupProvider": ("SecurityGroup",),
}
# The providers of external devices (domain.network_device) an operator may add to a physical
# network, with the services each offers in 4.3; a network offering may name them for those
# services, and its networks are placed on one of their devices.
EXTERNAL_PROVIDER_SERVICES: Mapping[str, tuple[str, ...]] = {
    "F5BigIp": ("Lb",),
    "Netscaler": ("Lb", "StaticNat"),
    "JuniperSRX": ("Firewall", "Gateway", "PortForwarding", "SourceNat", "StaticNat"),
    "PaloAlto": ("Firewall", "Gateway", "PortForwarding", "SourceNat", "StaticNat"),
    "CiscoVnmc": ("Firewall", "Gateway", "PortForwarding", "SourceNat", "StaticNat"),
    "NiciraNvp": ("Connectivity",),
    "BigSwitchVns": ("Connectivity",),
}
# Providers of the devices an operator registers on a physical network (bare metal's DHCP and
# PXE servers, `domain.baremetal`): added by name, never made with a new physical network.
DEVICE_PROVIDERS: Mapping[str, tuple[str, ...]] = {
    "BaremetalDhcpProvider": ("Dhcp",),
    "BaremetalPxeProvider": ("BaremetalPxeService",),
}
KNOWN_PROVIDERS: Mapping[str, tuple[str, ...]] = {
    **PROVIDER_SERVICES,
    **EXTERNAL_PROVIDER_SERVICES,
    **DEVICE_PROVIDERS,
}
# Providers served by a router element that must be enabled before the provider can be.
ROUTER_PROVIDERS = ("VirtualRouter", "VpcVirtualRouter")
# The provider of internal load balancing in VPC tiers; its element, like a router's, is
# enabled before the provider (configureInternalLoadBalancerElement).
INTERNAL_LB_VM = "InternalLbVm"
ELEMENT_PROVIDERS = (*ROUTER_PROVIDERS, INTERNAL_LB_VM)
# createVirtualRouterElement's `providertype` spelling of each.
ELEMENT_TYPES = {"VirtualRouter": "VirtualRouter", "VPCVirtualRouter": "VpcVirtualRouter"}
# Providers whose set of services an operator may narrow.
INDIVIDUAL_SERVICES = frozenset({"VirtualRouter", "VpcVirtualRouter", "InternalLbVm"})
PROVIDER_STATES = ("Enabled", "Disabled", "Shutdown")
# The service a network offering names for security groups, and its provider.
SECURITY_GROUP = "SecurityGroup"


def canonical_in(value: str, known: Iterable[str], message: str) -> str:
    for name in known:
        if name.lower() == value.strip().lower():
            return name
    raise InvalidParameter(message)


def check_traffic_type(value: str) -> str:
    return canonical_in(
        value,
        TRAFFIC_TYPES,
        f"Invalid traffic type {value}: use one of {', '.join(TRAFFIC_TYPES)}",
    )


def check_provider_name(value: str) -> str:
    return canonical_in(
        value,
        KNOWN_PROVIDERS,
        f"Invalid network service provider {value}: Stratus provides {', '.join(KNOWN_PROVIDERS)}",
    )


def check_provider_state(value: str) -> str:
    return canonical_in(
        value, PROVIDER_STATES, f"Invalid state {value}: use {', '.join(PROVIDER_STATES)}"
    )


def check_services(provider: str, services: Iterable[str] | None) -> list[str]:
    """The services asked of `provider`, in canonical spelling; all it offers when None."""
    offered = KNOWN_PROVIDERS[provider]
    if services is None:
        return list(offered)
    chosen = {
        canonical_in(s, offered, f"Provider {provider} does not support service {s}")
        for s in services
        if s.strip()
    }
    if not chosen:
        raise InvalidParameter(f"Specify at least one service for provider {provider}")
    return sorted(chosen)


def default_provider_id(physical_network_id: UUID, name: str) -> UUID:
    """The id of a provider created with its physical network (stable on replay)."""
    return uuid5(physical_network_id, f"provider/{name}")


def default_element_id(physical_network_id: UUID, name: str) -> UUID:
    return uuid5(physical_network_id, f"element/{name}")


@dataclass(frozen=True)
class Labels:
    """Each hypervisor's name for the network a traffic type rides on ('' for its default)."""

    kvm: str | None = None
    xen: str | None = None
    vmware: str | None = None
    hyperv: str | None = None

    def given(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}
