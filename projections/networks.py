"""Networking read models: physical networks, network offerings, guest networks, claims, VMs'
NICs, public ranges and addresses; and the query helpers other families use."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import orjson

from domain.network import Network, initial_range_id
from domain.network_claims import Claim
from domain.network_offering import NetworkOffering
from domain.network_physical import PhysicalNetwork
from domain.network_public_ip import PublicIp, VlanIpRange, public_ip_id
from domain.portable_ips import PortableIpRanges, portable_ip_id
from domain.vm import VirtualMachine, nic_id
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

# Events made by the library's decorator: type checkers cannot see them.
PHYSICAL: Any = PhysicalNetwork
OFFERING: Any = NetworkOffering
NETWORK: Any = Network
CLAIM: Any = Claim
VM: Any = VirtualMachine
RANGE: Any = VlanIpRange
PUBLIC: Any = PublicIp
PORTABLE: Any = PortableIpRanges


def _id(e: Any) -> str:
    return str(e.originator_id)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _set(c: Cursor, table: str, e: Any, **columns: Any) -> None:
    assignments = ", ".join(f"{name} = %s" for name in columns)
    c.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", (*columns.values(), _id(e)))


def _ranges_text(pairs: list[list[int]]) -> str:
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in pairs)


# What an offering's update may change, each its own column.
_OFFERING_UPDATES = (
    "name",
    "display_text",
    "state",
    "availability",
    "max_connections",
    "keep_alive",
    "sort_key",
)


class NetworksProjection(Projection):
    """Keeps `physical_networks`, `network_offerings`, `networks`, `network_claims`, `vm_nics`
    and `nic_secondary_ips`."""

    name = "networks"
    summary = "physical and guest networks, network offerings, NICs and their secondary IPs"
    tables = (
        "physical_networks",
        "network_offerings",
        "networks",
        "network_claims",
        "vm_nics",
        "nic_secondary_ips",
    )

    @on(PHYSICAL.Created)
    def physical_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.physical_networks} (id, zone_id, name, isolation, vlan, state, "
            "speed, tags, created, domain_id, broadcast_domain_range) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                str(e.zone_id),
                e.name,
                e.isolation,
                _ranges_text(e.vnet_ranges),
                "Disabled",
                e.speed,
                e.tags,
                e.timestamp.isoformat(),
                _text(getattr(e, "domain_id", None)),
                getattr(e, "broadcast_domain_range", "ZONE"),
            ),
        )

    @on(PHYSICAL.Updated)
    def physical_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        columns: dict[str, Any] = {}
        if "vnet_ranges" in e.changes:
            columns["vlan"] = _ranges_text(e.changes["vnet_ranges"])
        for key in ("state", "speed", "tags"):
            if key in e.changes:
                columns[key] = e.changes[key]
        if columns:
            _set(c, t.physical_networks, e, **columns)

    @on(PHYSICAL.Deleted)
    def physical_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.physical_networks, e, removed=1)

    # Offerings ------------------------------------------------------------------------------

    @on(OFFERING.Created)
    def offering_created(self, e: Any, c: Cursor, t: Tables) -> None:
        terms = e.terms
        c.execute(
            f"INSERT INTO {t.network_offerings} (id, name, display_text, guest_type, services, "
            "specify_vlan, specify_ip_ranges, conserve_mode, availability, network_rate, tags, "
            "state, is_default, created, egress_default_policy, for_vpc, max_connections, "
            "keep_alive, is_persistent, router_offering_id, details) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                terms["name"],
                terms["display_text"],
                terms["guest_type"],
                orjson.dumps(terms["services"]).decode(),
                int(terms["specify_vlan"]),
                int(terms["specify_ip_ranges"]),
                int(terms["conserve_mode"]),
                terms["availability"],
                terms["network_rate"],
                terms["tags"],
                e.state,
                int(e.is_default),
                e.timestamp.isoformat(),
                int(bool(terms.get("egress_default_policy", False))),
                int(bool(terms.get("for_vpc", False))),
                terms.get("max_connections"),
                int(bool(terms.get("keep_alive", False))),
                int(bool(terms.get("is_persistent", False))),
                terms.get("router_offering_id"),
                orjson.dumps(terms.get("details") or {}).decode(),
            ),
        )

    @on(OFFERING.Updated)
    def offering_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        columns = {k: v for k, v in e.changes.items() if k in _OFFERING_UPDATES}
        if "keep_alive" in columns:
            columns["keep_alive"] = int(bool(columns["keep_alive"]))
        if columns:
            _set(c, t.network_offerings, e, **columns)

    @on(OFFERING.Deleted)
    def offering_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.network_offerings, e, removed=1)

    # Guest networks -------------------------------------------------------------------------

    @on(NETWORK.Created)
    def network_created(self, e: Any, c: Cursor, t: Tables) -> None:
        plan = e.addressing
        uri = e.broadcast_uri
        c.execute(
            f"INSERT INTO {t.networks} (id, name, display_text, zone_id, physical_network_id, "
            "offering_id, guest_type, account_id, domain_id, cidr, gateway, netmask, start_ip, "
            "end_ip, ip6_cidr, ip6_gateway, start_ipv6, end_ipv6, broadcast_uri, vnet, state, "
            "created, seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, "
            f"(SELECT COALESCE(max(seq), 0) + 1 FROM {t.networks}))",
            (
                _id(e),
                e.name,
                e.display_text,
                str(e.zone_id),
                _text(e.physical_network_id),
                str(e.offering_id),
                e.guest_type,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                plan["cidr"],
                plan["gateway"],
                plan["netmask"],
                plan["start_ip"],
                plan["end_ip"],
                plan.get("ip6_cidr") or None,
                plan.get("ip6_gateway") or None,
                plan.get("start_ipv6") or None,
                plan.get("end_ipv6") or None,
                uri,
                uri.split("://", 1)[1] if uri and "://" in uri else None,
                e.state,
                e.timestamp.isoformat(),
            ),
        )
        _set(
            c,
            t.networks,
            e,
            network_domain=getattr(e, "network_domain", "") or None,
            subdomain_access=int(getattr(e, "subdomain_access", True)),
            isolated_pvlan=getattr(e, "isolated_pvlan", "") or None,
        )

    @on(NETWORK.NetworkDomainChanged)
    def network_domain_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, network_domain=e.network_domain or None)

    @on(NETWORK.IpsReserved)
    def network_ips_reserved(self, e: Any, c: Cursor, t: Tables) -> None:
        """The VMs' part of the CIDR is `cidr` (and their range); the whole is kept aside."""
        hosts = IPv4Network(e.guest_vm_cidr)
        _set(
            c,
            t.networks,
            e,
            cidr=e.guest_vm_cidr,
            start_ip=str(hosts.network_address + 1),
            end_ip=str(hosts.broadcast_address - 1),
            network_cidr=e.network_cidr or None,
        )

    @on(NETWORK.Updated)
    def network_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        names = {"name": "name", "display_text": "display_text"}
        columns = {names[k]: v for k, v in e.changes.items() if k in names}
        if columns:
            _set(c, t.networks, e, **columns)

    @on(NETWORK.VpcJoined)
    def network_joined_vpc(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, vpc_id=str(e.vpc_id), acl_id=str(e.acl_id))

    @on(NETWORK.AclReplaced)
    def network_acl_replaced(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, acl_id=str(e.acl_id))

    @on(NETWORK.OfferingChanged)
    def network_offering_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, offering_id=str(e.offering_id))

    @on(NETWORK.Implemented)
    def network_implemented(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, state="Implemented", source_nat_ip=e.source_nat_ip)

    @on(NETWORK.Restarted)
    def network_restarted(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, restarted=e.timestamp.isoformat())

    @on(NETWORK.Deleted)
    def network_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.networks, e, removed=1, state="Destroy")

    @on(NETWORK.Ipv6RangeAdded)
    def network_ipv6_range_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.networks} SET ip6_cidr = %s, ip6_gateway = %s WHERE id = %s",
            (e.ip6_cidr, e.ip6_gateway, _id(e)),
        )

    @on(NETWORK.Ipv4RangeAdded)
    def network_ipv4_range_added(self, e: Any, c: Cursor, t: Tables) -> None:
        """A network made with no IPv4 plan takes its first range's subnet."""
        c.execute(
            f"UPDATE {t.networks} SET cidr = %s, gateway = %s, netmask = %s "
            "WHERE id = %s AND cidr = ''",
            (e.cidr, e.gateway, e.netmask, _id(e)),
        )

    @on(NETWORK.Ipv4RangeRemoved)
    def network_ipv4_range_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        if e.range_id == str(initial_range_id(e.originator_id)):
            _set(c, t.networks, e, start_ip="", end_ip="")

    # Claims and NICs --------------------------------------------------------------------------

    @on(CLAIM.Claimed)
    def claimed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.network_claims} (id, kind, scope, value, holder_id) "
            "VALUES (%s, %s, %s, %s, %s)",
            (_id(e), e.kind, str(e.scope), e.value, str(e.holder_id)),
        )

    @on(CLAIM.Taken, CLAIM.Released)
    def claim_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        held = type(e).__name__ == "Taken"
        _set(c, t.network_claims, e, holder_id=str(e.holder_id) if held else None)

    @on(VM.NicPlugged, VM.NicHotPlugged)
    def nic_plugged(self, e: Any, c: Cursor, t: Tables) -> None:
        nic = e.nic
        c.execute(
            f"INSERT INTO {t.vm_nics} (vm_id, network_id, ip_address, mac_address, gateway, "
            "netmask, is_default, broadcast_uri, network_offering_id, nic_id, ip6_address, "
            "ip6_gateway, ip6_cidr, plugged, device_id) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            f"(SELECT coalesce(max(device_id) + 1, 0) FROM {t.vm_nics} WHERE vm_id = %s)) "
            "ON CONFLICT (vm_id, network_id) DO NOTHING",
            (
                _id(e),
                str(nic["network_id"]),
                nic["ip_address"],
                nic["mac_address"],
                nic["gateway"],
                nic["netmask"],
                int(nic["is_default"]),
                nic["broadcast_uri"],
                str(nic["network_offering_id"]),
                nic_id(e.originator_id, nic["network_id"]),
                nic.get("ip6_address") or None,
                nic.get("ip6_gateway") or None,
                nic.get("ip6_cidr") or None,
                e.timestamp.isoformat(),
                _id(e),
            ),
        )

    @on(VM.Expunged)
    def vm_expunged(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.vm_nics} SET removed = 1 WHERE vm_id = %s", (_id(e),))
        c.execute(f"DELETE FROM {t.nic_secondary_ips} WHERE vm_id = %s", (_id(e),))

    @on(VM.NicUnplugged)
    def nic_unplugged(self, e: Any, c: Cursor, t: Tables) -> None:
        key = (_id(e), str(e.network_id))
        c.execute(f"DELETE FROM {t.vm_nics} WHERE vm_id = %s AND network_id = %s", key)
        c.execute(f"DELETE FROM {t.nic_secondary_ips} WHERE vm_id = %s AND network_id = %s", key)

    @on(VM.DefaultNicChanged)
    def default_nic_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.vm_nics} SET is_default = CASE WHEN network_id = %s THEN 1 ELSE 0 END "
            "WHERE vm_id = %s",
            (str(e.network_id), _id(e)),
        )

    @on(VM.SecondaryIpAdded)
    def secondary_ip_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.nic_secondary_ips} (id, vm_id, network_id, ip_address, created) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (str(e.ip_id), _id(e), str(e.network_id), e.ip_address, e.timestamp.isoformat()),
        )

    @on(VM.SecondaryIpRemoved)
    def secondary_ip_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.nic_secondary_ips} WHERE id = %s", (str(e.ip_id),))


class PublicIpsProjection(Projection):
    """Keeps `vlan_ip_ranges` and `public_ips` (a row per address of every live range), and
    the portable ones: `portable_ip_ranges` and `portable_ips` (a row per address of every
    live range; an associated one is in `public_ips` too, in its zone)."""

    name = "public_ips"
    summary = "public IP ranges and addresses, portable ranges and addresses"
    tables = ("vlan_ip_ranges", "public_ips", "portable_ip_ranges", "portable_ips")

    @on(PORTABLE.RangeAdded)
    def portable_range_added(self, e: Any, c: Cursor, t: Tables) -> None:
        terms = e.terms
        c.execute(
            f"INSERT INTO {t.portable_ip_ranges} (id, region_id, gateway, netmask, start_ip, "
            "end_ip, vlan, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.range_id,
                e.region_id,
                terms["gateway"],
                terms["netmask"],
                terms["start_ip"],
                terms["end_ip"],
                terms["vlan"],
                e.timestamp.isoformat(),
            ),
        )
        first, last = int(IPv4Address(terms["start_ip"])), int(IPv4Address(terms["end_ip"]))
        rows = [
            (
                str(portable_ip_id(e.region_id, str(IPv4Address(n)))),
                e.range_id,
                e.region_id,
                str(IPv4Address(n)),
                n,
            )
            for n in range(first, last + 1)
        ]
        c.executemany(
            f"INSERT INTO {t.portable_ips} (id, range_id, region_id, address, ordinal, state) "
            "VALUES (%s, %s, %s, %s, %s, 'Free') "
            "ON CONFLICT (id) DO UPDATE SET range_id = excluded.range_id",
            rows,
        )

    @on(PORTABLE.RangeRemoved)
    def portable_range_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.portable_ip_ranges} WHERE id = %s", (e.range_id,))
        c.execute(
            f"DELETE FROM {t.portable_ips} WHERE range_id = %s AND state = 'Free'", (e.range_id,)
        )

    @on(PUBLIC.PortablePlaced)
    def portable_placed(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.portable_ips, e, zone_id=str(e.zone_id))

    @on(PUBLIC.Transferred)
    def transferred(self, e: Any, c: Cursor, t: Tables) -> None:
        moved = {"zone_id": str(e.zone_id), "network_id": str(e.network_id)}
        _set(c, t.portable_ips, e, **moved)
        _set(c, t.public_ips, e, **moved)

    @on(RANGE.Created)
    def range_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vlan_ip_ranges} (id, zone_id, physical_network_id, vlan, gateway, "
            "netmask, start_ip, end_ip, for_virtual_network, created) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                str(e.zone_id),
                _text(e.physical_network_id),
                e.vlan,
                e.gateway,
                e.netmask,
                e.start_ip,
                e.end_ip,
                int(e.for_virtual_network),
                e.timestamp.isoformat(),
            ),
        )
        if getattr(e, "pod_id", None) is not None:
            _set(c, t.vlan_ip_ranges, e, pod_id=str(e.pod_id))
        first, last = int(IPv4Address(e.start_ip)), int(IPv4Address(e.end_ip))
        rows = [
            (
                str(public_ip_id(e.zone_id, str(IPv4Address(n)))),
                str(e.zone_id),
                str(IPv4Address(n)),
                n,
                _id(e),
            )
            for n in range(first, last + 1)
        ]
        c.executemany(
            f"INSERT INTO {t.public_ips} (id, zone_id, address, ordinal, vlan_range_id, state) "
            "VALUES (%s, %s, %s, %s, %s, 'Free') "
            "ON CONFLICT (id) DO UPDATE SET vlan_range_id = excluded.vlan_range_id",
            rows,
        )

    @on(NETWORK.Ipv6RangeAdded)
    def network_ipv6_range_added(self, e: Any, c: Cursor, t: Tables) -> None:
        """A shared network's IPv6 range: listed with the zone's ranges, no address rows."""
        c.execute(
            f"INSERT INTO {t.vlan_ip_ranges} (id, zone_id, physical_network_id, vlan, gateway, "
            "netmask, start_ip, end_ip, for_virtual_network, created, network_id, ip6_cidr, "
            "ip6_gateway, start_ipv6, end_ipv6) VALUES "
            "(%s, %s, %s, %s, '', '', '', '', 0, %s, %s, %s, %s, %s, %s)",
            (
                e.range_id,
                str(e.zone_id),
                _text(e.physical_network_id),
                e.vlan,
                e.timestamp.isoformat(),
                _id(e),
                e.ip6_cidr,
                e.ip6_gateway,
                e.start_ipv6,
                e.end_ipv6,
            ),
        )

    @on(NETWORK.Ipv6RangeRemoved, NETWORK.Ipv4RangeRemoved)
    def network_range_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.vlan_ip_ranges} SET removed = 1 WHERE id = %s", (e.range_id,))

    def _network_ipv4_range(
        self, c: Cursor, t: Tables, e: Any, range_id: str, vlan: str, plan: dict[str, Any]
    ) -> None:
        c.execute(
            f"INSERT INTO {t.vlan_ip_ranges} (id, zone_id, physical_network_id, vlan, gateway, "
            "netmask, start_ip, end_ip, for_virtual_network, created, network_id) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s)",
            (
                range_id,
                str(e.zone_id),
                _text(e.physical_network_id),
                vlan,
                plan["gateway"],
                plan["netmask"],
                plan["start_ip"],
                plan["end_ip"],
                e.timestamp.isoformat(),
                _id(e),
            ),
        )

    @on(NETWORK.Created)
    def shared_network_created(self, e: Any, c: Cursor, t: Tables) -> None:
        """The IPv4 range a shared network is made with is listed with the zone's ranges."""
        plan, uri = e.addressing, e.broadcast_uri or ""
        if e.guest_type != "Shared" or not plan.get("start_ip"):
            return
        vlan = uri.split("://", 1)[1] if "://" in uri else "untagged"
        self._network_ipv4_range(c, t, e, str(initial_range_id(e.originator_id)), vlan, plan)

    @on(NETWORK.Ipv4RangeAdded)
    def network_ipv4_range_added(self, e: Any, c: Cursor, t: Tables) -> None:
        """A range added to a shared network: listed with the zone's ranges, no address rows
        (its addresses are the network's guest-IP claims)."""
        plan = {k: getattr(e, k) for k in ("gateway", "netmask", "start_ip", "end_ip")}
        self._network_ipv4_range(c, t, e, e.range_id, e.vlan, plan)

    @on(NETWORK.Deleted)
    def network_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.vlan_ip_ranges} SET removed = 1 WHERE network_id = %s", (_id(e),))

    @on(RANGE.Dedicated)
    def range_dedicated(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.vlan_ip_ranges, e, account_id=str(e.account_id), domain_id=str(e.domain_id))

    @on(RANGE.DedicationReleased)
    def range_dedication_released(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.vlan_ip_ranges, e, account_id=None, domain_id=None)

    @on(RANGE.Deleted)
    def range_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.vlan_ip_ranges, e, removed=1)
        c.execute(
            f"DELETE FROM {t.public_ips} WHERE vlan_range_id = %s AND state = 'Free'", (_id(e),)
        )

    @on(PUBLIC.Associated)
    def associated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.public_ips} (id, zone_id, address, ordinal, vlan_range_id, state, "
            "account_id, domain_id, network_id, source_nat, is_system, allocated) VALUES "
            "(%s, %s, %s, %s, %s, 'Allocated', %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO "
            "UPDATE SET state = 'Allocated', vlan_range_id = excluded.vlan_range_id, "
            "account_id = excluded.account_id, domain_id = excluded.domain_id, "
            "network_id = excluded.network_id, source_nat = excluded.source_nat, "
            "is_system = excluded.is_system, allocated = excluded.allocated",
            (
                _id(e),
                str(e.zone_id),
                e.address,
                int(IPv4Address(e.address)),
                str(e.vlan_range_id),
                str(e.account_id),
                str(e.domain_id),
                _text(e.network_id),
                int(e.source_nat),
                int(e.is_system),
                e.timestamp.isoformat(),
            ),
        )
        _set(  # a portable address (no row otherwise)
            c,
            t.portable_ips,
            e,
            state="Allocated",
            account_id=str(e.account_id),
            domain_id=str(e.domain_id),
            zone_id=str(e.zone_id),
            network_id=_text(e.network_id),
            allocated=e.timestamp.isoformat(),
        )

    @on(PUBLIC.VpcJoined)
    def vpc_joined(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.public_ips, e, vpc_id=str(e.vpc_id))

    @on(PUBLIC.VpcLeft)
    def vpc_left(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.public_ips, e, vpc_id=None)

    @on(PUBLIC.TierServed)
    def tier_served(self, e: Any, c: Cursor, t: Tables) -> None:
        _set(c, t.public_ips, e, network_id=_text(e.network_id))

    @on(PUBLIC.Disassociated)
    def disassociated(self, e: Any, c: Cursor, t: Tables) -> None:
        freed = {"account_id": None, "domain_id": None, "network_id": None, "allocated": None}
        _set(c, t.portable_ips, e, state="Free", **freed)
        portable = c.execute(f"SELECT 1 FROM {t.portable_ips} WHERE id = %s", (_id(e),)).fetchone()
        if portable is not None:  # it is in no zone's range: its zone row goes
            c.execute(f"DELETE FROM {t.public_ips} WHERE id = %s", (_id(e),))
            return
        _set(
            c,
            t.public_ips,
            e,
            state="Free",
            account_id=None,
            domain_id=None,
            network_id=None,
            source_nat=0,
            is_system=0,
            allocated=None,
            vpc_id=None,
        )


# Queries other families use ---------------------------------------------------------------------

NETWORK_SELECT = (  # a network with its owner's names, domain path and offering
    "SELECT n.*, a.name AS account_name, d.name AS domain_name, d.path AS domain_path, "
    "o.name AS offering_name, o.display_text AS offering_display_text, "
    "o.availability AS offering_availability, o.services AS services, "
    "o.is_persistent AS offering_persistent "
    "FROM networks AS n JOIN accounts AS a ON a.id = n.account_id "
    "JOIN domains AS d ON d.id = n.domain_id "
    "LEFT JOIN network_offerings AS o ON o.id = n.offering_id"
)


def network_by_id(cursor: Cursor, network_id: str) -> dict[str, Any] | None:
    """A live guest network: zone, account, domain (and its path), offering (with `services`
    decoded to {service: [providers]}), type, broadcast URI and `vnet` (VLAN id or VNI), CIDR,
    gateway, state, source NAT address."""
    row = cursor.execute(
        NETWORK_SELECT + " WHERE n.id = %s AND n.removed = 0", (network_id,)
    ).fetchone()
    if row is None:
        return None
    found = dict(row)
    found["services"] = orjson.loads(found["services"] or "{}")
    return found


def held_values(cursor: Cursor, kind: str, scope: str) -> set[str]:
    """Values of a pool the read model shows held (guest VNIs of a physical network, IPs of a
    network): what a new allocation should skip first."""
    rows = cursor.execute(
        "SELECT value FROM network_claims WHERE kind = %s AND scope = %s AND holder_id IS NOT NULL",
        (kind, scope),
    ).fetchall()
    return {r["value"] for r in rows}


def nics_of_vms(cursor: Cursor, vm_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The NICs of these VMs (with their network's name), default first."""
    if not vm_ids:
        return {}
    among, params = in_list(cursor, "v.vm_id", vm_ids)
    rows = cursor.execute(
        "SELECT v.*, n.name AS network_name, n.guest_type AS network_type FROM vm_nics AS v "
        f"LEFT JOIN networks AS n ON n.id = v.network_id WHERE {among} "
        "ORDER BY v.is_default DESC, v.network_id",
        params,
    ).fetchall()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["vm_id"], []).append(dict(row))
    return found


def vms_on_network(cursor: Cursor, network_id: str) -> int:
    """VMs (not expunged) with a NIC on the network."""
    row = cursor.execute(
        "SELECT count(*) AS n FROM vm_nics WHERE network_id = %s AND removed = 0", (network_id,)
    ).fetchone()
    return int(row["n"]) if row else 0


Secondaries = dict[tuple[str, str], list[dict[str, Any]]]  # by (VM, network)


def secondary_ips_of(cursor: Cursor, vm_ids: list[str]) -> Secondaries:
    """The secondary addresses of these VMs' NICs by (VM, network), oldest first."""
    if not vm_ids:
        return {}
    among, params = in_list(cursor, "vm_id", vm_ids)
    rows = cursor.execute(
        f"SELECT * FROM nic_secondary_ips WHERE {among} ORDER BY created, id", params
    ).fetchall()
    found: Secondaries = {}
    for row in rows:
        found.setdefault((row["vm_id"], row["network_id"]), []).append(dict(row))
    return found


def secondary_ip_row(cursor: Cursor, ip_id: str) -> dict[str, Any] | None:
    """One secondary address with its VM's owner (for the caller's reach)."""
    row = cursor.execute(
        "SELECT s.*, v.account_id, a.domain_path FROM nic_secondary_ips AS s "
        "JOIN virtual_machines AS v ON v.id = s.vm_id JOIN accounts AS a ON a.id = v.account_id "
        "WHERE s.id = %s",
        (ip_id,),
    ).fetchone()
    return dict(row) if row is not None else None


def nic_by_id(cursor: Cursor, wanted: str) -> dict[str, Any] | None:
    """A live NIC by its id, with its VM's owner (for the caller's reach). Rows recorded before
    NIC ids were kept have none until a rebuild: their ids are computed here."""
    select = (
        "SELECT n.*, v.account_id, v.name AS vm_name, a.domain_path FROM vm_nics AS n "
        "JOIN virtual_machines AS v ON v.id = n.vm_id JOIN accounts AS a ON a.id = v.account_id "
        "WHERE n.removed = 0 AND "
    )
    row = cursor.execute(select + "n.nic_id = %s", (wanted,)).fetchone()
    if row is not None:
        return dict(row)
    for old in cursor.execute(select + "n.nic_id IS NULL").fetchall():
        if nic_id(old["vm_id"], old["network_id"]) == wanted:
            return dict(old)
    return None


READ_MODELS = (NetworksProjection, PublicIpsProjection)
