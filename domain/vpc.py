"""Vpc: a virtual private cloud — its CIDR, its tiers (guest networks inside it), its network
ACL lists and their items, and the application of those ACLs to the VPC's virtual router.

One aggregate per VPC, because its router applies the ACLs of every tier as one set, as a
network's rules are one set (domain/network_rules.py). Adding a tier is checked against every
tier of the VPC in the same aggregate, so two overlapping tiers created at once write the same
version and the second is checked again and refused. An item is `Add` until the router confirms
a set holding it, then `Active`; deleting makes it `Revoke` until the router confirms a set
without it. When no tier uses the item's list, or the VPC's router is not running, nothing has
to be applied and the change settles at once (4.3 does the same: the router gets the whole set
when it starts).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from ipaddress import IPv4Network
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, NotFound, ResourceInUse
from domain.network_acl import DEFAULT_LISTS, AclItem, AclState, is_default_list
from domain.network_addressing import cidr
from domain.network_rules import ApplyTarget, Pending
from domain.values import Secret

GATEWAY, ROUTE = "gateway", "route"  # keys `<id>/gateway`, `<id>/route` in apply requests
PRIVATE_SPACES = tuple(IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
CHANGED = "changed"  # the key of an item's change in an apply request: `<item id>/changed`


def vpc_cidr(text: str) -> str:
    """A VPC's CIDR: a valid IPv4 CIDR inside RFC 1918 space, as 4.3 requires."""
    network = cidr(text)
    if not any(network.subnet_of(space) for space in PRIVATE_SPACES):
        raise InvalidParameter(
            f"Invalid CIDR {text}: a VPC's cidr should be in the RFC 1918 private address space"
        )
    return str(network)


@dataclass(frozen=True)
class PrivateGateway:
    """A VPC's private gateway: an address of the VPC's router on a VLAN of a physical network,
    through which static routes lead. `state` is the item states' (Add until its router holds
    it, then Active; Revoke while it goes)."""

    id: UUID
    vlan: str
    physical_network_id: UUID
    ip_address: str
    gateway: str
    netmask: str
    source_nat: bool
    acl_id: UUID
    state: str = "Add"


@dataclass(frozen=True)
class StaticRoute:
    """Traffic of the VPC to `cidr` goes through a private gateway."""

    id: UUID
    gateway_id: UUID
    cidr: str
    state: str = "Add"


@dataclass(frozen=True)
class Tier:
    """A guest network of the VPC: its CIDR and the ACL list applied to it."""

    network_id: UUID
    name: str
    cidr: str
    acl_id: UUID


class Vpc(Aggregate):
    """A VPC of one account in one zone."""

    @event("Created")
    def __init__(
        self,
        name: str,
        display_text: str,
        zone_id: UUID,
        offering_id: UUID,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        cidr: str,
        network_domain: str,
        services: dict[str, list[str]],
        id: UUID,
    ) -> None:
        if not name:
            raise InvalidParameter("A VPC needs a name")
        self.name, self.display_text = name, display_text
        self.zone_id, self.offering_id = zone_id, offering_id
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.cidr, self.network_domain = cidr, network_domain
        self.services = dict(services)
        self.state = "Enabled"
        self.removed = False
        self.tiers: dict[UUID, Tier] = {}
        self.acl_lists: dict[UUID, tuple[str, str]] = {}  # id -> (name, description)
        self.items: dict[UUID, AclItem] = {}
        self.previous: dict[UUID, AclItem] = {}  # items changed, before the router confirms
        self.pending: dict[str, Pending] = {}
        self.generation = 0
        self.gateways: dict[UUID, PrivateGateway] = {}
        self.routes: dict[UUID, StaticRoute] = {}
        self.source_nat: tuple[UUID, str] | None = None  # (public ip id, address)

    # Reading ------------------------------------------------------------------------------

    def check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"VPC {self.name} has been deleted")

    def tiers_using(self, acl_id: UUID) -> list[Any]:
        """The tiers and private gateways the list is applied to."""
        tiers: list[Any] = [t for t in self.tiers.values() if t.acl_id == acl_id]
        return tiers + [g for g in self.gateways.values() if g.acl_id == acl_id]

    def items_of(self, acl_id: UUID) -> list[AclItem]:
        if acl_id in DEFAULT_LISTS:
            return list(DEFAULT_LISTS[acl_id].items)
        return sorted(
            (i for i in self.items.values() if i.acl_id == acl_id), key=lambda i: i.number
        )

    def applied_set(self) -> tuple[dict[str, Any], ...]:
        """What the router is to hold: per tier, the items of its list not being revoked; its
        private gateways (with their lists' items) and the static routes through them."""
        return (*self._tiers_set(), *self._gateways_set())

    def _gateways_set(self) -> tuple[dict[str, Any], ...]:
        gateways = sorted(
            (g for g in self.gateways.values() if g.state != "Revoke"), key=lambda g: g.ip_address
        )
        routes = sorted(
            (r for r in self.routes.values() if r.state != "Revoke"), key=lambda r: r.cidr
        )
        return (
            *(
                {
                    "kind": "private_gateway",
                    "gateway_id": str(g.id),
                    "vlan": g.vlan,
                    "ip_address": g.ip_address,
                    "gateway": g.gateway,
                    "netmask": g.netmask,
                    "source_nat": g.source_nat,
                    # with source NAT, the tiers' traffic out of it takes its address
                    "source_nat_cidrs": sorted(t.cidr for t in self.tiers.values())
                    if g.source_nat
                    else [],
                    "acl_id": str(g.acl_id),
                    "items": [
                        i.applied_view() for i in self.items_of(g.acl_id) if i.state != "Revoke"
                    ],
                }
                for g in gateways
            ),
            *(
                {
                    "kind": "static_route",
                    "route_id": str(r.id),
                    "gateway_id": str(r.gateway_id),
                    "cidr": r.cidr,
                }
                for r in routes
            ),
        )

    def _tiers_set(self) -> tuple[dict[str, Any], ...]:
        return tuple(
            {
                "kind": "tier",
                "network_id": str(tier.network_id),
                "cidr": tier.cidr,
                "acl_id": str(tier.acl_id),
                "items": [
                    i.applied_view() for i in self.items_of(tier.acl_id) if i.state != "Revoke"
                ],
            }
            for tier in sorted(self.tiers.values(), key=lambda t: t.cidr)
        )

    def item(self, item_id: UUID) -> AclItem:
        found = self.items.get(item_id)
        if found is None:
            raise NotFound(f"Unable to find network ACL item with id {item_id}")
        return found

    def acl_list(self, acl_id: UUID) -> None:
        """Refuse a list that is neither a default one nor this VPC's."""
        if acl_id not in self.acl_lists and not is_default_list(acl_id):
            raise InvalidParameter(f"Network ACL {acl_id} and VPC {self.name} do not belong")

    # The VPC itself ----------------------------------------------------------------------

    def update(self, changes: dict[str, Any]) -> None:
        self.check_live()
        unknown = set(changes) - {"name", "display_text"}
        if unknown:
            raise InvalidParameter(f"Cannot update {', '.join(sorted(unknown))} of a VPC")
        if changes:
            self._updated(changes=dict(changes))

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def restart(self) -> None:
        self.check_live()
        self._restarted()

    @event("Restarted")
    def _restarted(self) -> None:
        pass

    def delete(self) -> None:
        """Delete the VPC with its ACL lists; refused while it has tiers (4.3's rule)."""
        self.check_live()
        if self.tiers:
            raise InvalidParameter(
                f"Can't delete VPC {self.name} as its used by {len(self.tiers)} networks"
            )
        if self.gateways:
            raise ResourceInUse(
                f"Can't delete VPC {self.name} while it has {len(self.gateways)} private "
                "gateway(s): delete them first"
            )
        self._deleted(
            account_id=self.account_id,
            zone_id=self.zone_id,
            acl_ids=tuple(self.acl_lists),
            item_ids=tuple(self.items),
        )

    @event("Deleted")
    def _deleted(
        self,
        account_id: UUID,
        zone_id: UUID,
        acl_ids: tuple[UUID, ...],
        item_ids: tuple[UUID, ...],
    ) -> None:
        self.removed = True
        self.acl_lists, self.items, self.pending = {}, {}, {}

    # The source NAT address ------------------------------------------------------------------

    @property
    def source_nat_address(self) -> tuple[UUID, str] | None:
        """(public ip id, address) of the VPC's source NAT address, once it was started."""
        found: tuple[UUID, str] | None = getattr(self, "source_nat", None)
        return found

    def take_source_nat(self, public_ip_id: UUID, address: str) -> None:
        """The address the VPC's router sends out from (acquired when the VPC first starts)."""
        self.check_live()
        if self.source_nat_address is not None:
            raise InvalidState(f"VPC {self.name} has its source nat ip address already")
        self._source_nat_taken(public_ip_id=public_ip_id, address=address)

    @event("SourceNatTaken")
    def _source_nat_taken(self, public_ip_id: UUID, address: str) -> None:
        self.source_nat = (public_ip_id, address)

    # Tiers -------------------------------------------------------------------------------

    def add_tier(self, tier: Tier, max_tiers: int) -> None:
        """A guest network joins: inside the VPC's CIDR, overlapping no other tier."""
        self.check_live()
        self.acl_list(tier.acl_id)
        mine, network = IPv4Network(self.cidr), IPv4Network(tier.cidr)
        if not network.subnet_of(mine):
            raise InvalidParameter(f"Network cidr {tier.cidr} is not within vpc {self.name} cidr")
        for other in self.tiers.values():
            if network.overlaps(IPv4Network(other.cidr)):
                raise InvalidParameter(
                    f"Network cidr {tier.cidr} crosses other network cidr {other.cidr} belonging "
                    f"to the same vpc {self.name}"
                )
        if len(self.tiers) >= max_tiers:
            raise InvalidParameter(
                f"Number of networks per VPC can't extend {max_tiers}; increase it using global "
                "config vpc.max.networks"
            )
        self._tier_added(
            network_id=tier.network_id, name=tier.name, cidr=tier.cidr, acl_id=tier.acl_id
        )

    @event("TierAdded")
    def _tier_added(self, network_id: UUID, name: str, cidr: str, acl_id: UUID) -> None:
        self.tiers[network_id] = Tier(network_id, name, cidr, acl_id)

    def remove_tier(self, network_id: UUID) -> None:
        if network_id in self.tiers:
            self._tier_removed(network_id=network_id)

    @event("TierRemoved")
    def _tier_removed(self, network_id: UUID) -> None:
        self.tiers.pop(network_id, None)

    def replace_acl(self, network_id: UUID, acl_id: UUID) -> None:
        self.check_live()
        tier = self.tiers.get(network_id)
        if tier is None:
            raise InvalidParameter(f"Network {network_id} is not part of VPC {self.name}")
        if acl_id not in self.acl_lists and not is_default_list(acl_id):
            raise InvalidParameter(
                f"Network {tier.name} and ACL {acl_id} do not belong to the same VPC"
            )
        self._acl_replaced(network_id=network_id, acl_id=acl_id)

    @event("AclReplaced")
    def _acl_replaced(self, network_id: UUID, acl_id: UUID) -> None:
        self.tiers[network_id] = replace(self.tiers[network_id], acl_id=acl_id)

    # ACL lists ---------------------------------------------------------------------------

    def create_acl_list(self, acl_id: UUID, name: str, description: str) -> None:
        self.check_live()
        if not name:
            raise InvalidParameter("A network ACL list needs a name")
        self._acl_list_created(acl_id=acl_id, name=name, description=description or name)

    @event("AclListCreated")
    def _acl_list_created(self, acl_id: UUID, name: str, description: str) -> None:
        self.acl_lists[acl_id] = (name, description)

    def delete_acl_list(self, acl_id: UUID) -> None:
        self.check_live()
        if is_default_list(acl_id):
            raise InvalidParameter("Default Network ACL cannot be removed")
        if acl_id not in self.acl_lists:
            raise NotFound(f"Unable to find network ACL with id {acl_id}")
        using = self.tiers_using(acl_id)
        if using:
            raise ResourceInUse(
                f"ACL is still associated with {len(using)} tier(s). Cannot delete network ACL: "
                f"{acl_id}"
            )
        self._acl_list_deleted(acl_id=acl_id, item_ids=tuple(self.items_ids_of(acl_id)))

    def items_ids_of(self, acl_id: UUID) -> list[UUID]:
        return [i.id for i in self.items.values() if i.acl_id == acl_id]

    @event("AclListDeleted")
    def _acl_list_deleted(self, acl_id: UUID, item_ids: tuple[UUID, ...]) -> None:
        self.acl_lists.pop(acl_id, None)
        for item_id in item_ids:
            self.items.pop(item_id, None)

    # ACL items ---------------------------------------------------------------------------

    def _check_changeable(self, acl_id: UUID) -> None:
        self.check_live()
        if is_default_list(acl_id):
            raise InvalidParameter("Default ACL cannot be modified")
        if acl_id not in self.acl_lists:
            raise NotFound(f"Unable to find network ACL with id {acl_id}")

    def _check_number(self, item: AclItem) -> None:
        for other in self.items.values():
            if other.acl_id == item.acl_id and other.number == item.number and other.id != item.id:
                raise InvalidParameter(
                    f"ACL item with number {item.number} already exists in ACL: {item.acl_id}"
                )

    def next_number(self, acl_id: UUID) -> int:
        return max((i.number for i in self.items.values() if i.acl_id == acl_id), default=0) + 1

    def add_item(self, item: AclItem) -> str:
        self._check_changeable(item.acl_id)
        self._check_number(item)
        self._item_added(item=item.with_state(AclState.ADD).facts())
        return str(item.id)

    @event("ItemAdded")
    def _item_added(self, item: dict[str, Any]) -> None:
        added = AclItem.from_facts(item)
        self.items[added.id] = added

    def change_item(self, item: AclItem) -> str:
        """New values for an item; the router's answer keeps them, a failure puts back the old."""
        old = self.item(item.id)
        self._check_changeable(old.acl_id)
        if old.state != AclState.ACTIVE or old.id in self.previous:
            raise InvalidState(
                f"Network ACL item {old.id} is being applied or deleted; try again when that is "
                "done"
            )
        self._check_number(item)
        self._item_changed(item=item.with_state(AclState.ACTIVE).facts(), previous=old.facts())
        return f"{item.id}/{CHANGED}"

    @event("ItemChanged")
    def _item_changed(self, item: dict[str, Any], previous: dict[str, Any]) -> None:
        changed = AclItem.from_facts(item)
        self.items[changed.id] = changed
        self.previous[changed.id] = AclItem.from_facts(previous)

    def revoke_item(self, item_id: UUID) -> str:
        item = self.item(item_id)
        self._check_changeable(item.acl_id)
        if item.state != AclState.ACTIVE:
            raise InvalidState(
                f"Network ACL item {item_id} is being applied or deleted; try again when that "
                "is done"
            )
        self._item_revoke_requested(item_id=item_id)
        return str(item_id)

    @event("ItemRevokeRequested")
    def _item_revoke_requested(self, item_id: UUID) -> None:
        self.items[item_id] = self.items[item_id].with_state(AclState.REVOKE)

    # Applying ----------------------------------------------------------------------------

    def needs_router(self, acl_id: UUID | None) -> bool:
        """Whether a change of `acl_id` (None: of the whole set) reaches the router at all."""
        if acl_id is None:
            return bool(self.tiers or self.gateways)
        return bool(self.tiers_using(acl_id))

    def request_apply(
        self,
        request_id: str,
        job_id: UUID | None,
        target: ApplyTarget,
        changes: tuple[tuple[str, ...], tuple[str, ...]],
        result: dict[str, Any],
    ) -> None:
        """Ask the VPC's router to hold the whole set now; `changes`: the keys it adds and
        revokes (item ids, `<id>/changed`)."""
        facts = target.request(request_id, job_id, self.generation + 1, changes, result)
        self._apply_requested(**facts, acls=self.applied_set())

    @event("ApplyRequested")
    def _apply_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        generation: int,
        router_id: UUID,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        acls: tuple[dict[str, Any], ...],
        adds: tuple[str, ...],
        revokes: tuple[str, ...],
        result: dict[str, Any],
    ) -> None:
        self.generation = generation
        self.pending[request_id] = Pending(job_id, tuple(adds), tuple(revokes), dict(result))

    def settle(self, changes: tuple[tuple[str, ...], tuple[str, ...]], ok: bool) -> None:
        """Settle what a change adds and revokes without a router (nothing to apply it to), or
        as the router answered."""
        for key in changes[0]:
            self._settle(key, AclState.ADD, keep=ok)
        for key in changes[1]:
            self._settle(key, AclState.REVOKE, keep=not ok)

    def answered(self, request_id: str, ok: bool, reason: str) -> Pending | None:
        """The router's answer to `request_id`; None when it is not in flight any more."""
        pending = self.pending.get(request_id)
        if pending is None:
            return None
        self.settle((pending.adds, pending.revokes), ok)
        self._apply_done(request_id=request_id, ok=ok, reason=reason)
        return pending

    @event("ApplyDone")
    def _apply_done(self, request_id: str, ok: bool, reason: str) -> None:
        self.pending.pop(request_id, None)

    def _settle(self, key: str, expected: str, *, keep: bool) -> None:
        item_text, _, tail = key.partition("/")
        if tail in (GATEWAY, ROUTE):
            self._settle_path(UUID(item_text), tail, expected, keep=keep)
            return
        item = self.items.get(UUID(item_text))
        if item is None:
            return
        if tail == CHANGED:
            if item.id in self.previous:
                values = item if keep else self.previous[item.id].with_state(item.state)
                self._change_settled(item=values.facts())
        elif item.state == expected and keep:
            self._item_activated(item_id=item.id)
        elif item.state == expected:
            self._item_removed(item_id=item.id, acl_id=item.acl_id)

    @event("ChangeSettled")
    def _change_settled(self, item: dict[str, Any]) -> None:
        settled = AclItem.from_facts(item)
        self.previous.pop(settled.id, None)
        self.items[settled.id] = settled

    @event("ItemActivated")
    def _item_activated(self, item_id: UUID) -> None:
        self.items[item_id] = self.items[item_id].with_state(AclState.ACTIVE)

    @event("ItemRemoved")
    def _item_removed(self, item_id: UUID, acl_id: UUID) -> None:
        self.items.pop(item_id, None)
        self.previous.pop(item_id, None)

    # Private gateways and static routes ---------------------------------------------------

    def add_gateway(self, gateway: PrivateGateway) -> str:
        self.check_live()
        self.acl_list(gateway.acl_id)
        for other in self.gateways.values():
            if other.vlan == gateway.vlan and other.ip_address == gateway.ip_address:
                raise InvalidParameter(
                    f"Private ip address {gateway.ip_address} is already used for a private "
                    f"gateway on vlan {gateway.vlan}"
                )
        self._gateway_added(gateway=asdict(gateway))
        return f"{gateway.id}/{GATEWAY}"

    @event("GatewayAdded")
    def _gateway_added(self, gateway: dict[str, Any]) -> None:
        added = PrivateGateway(**{**gateway, "state": "Add"})
        self.gateways[added.id] = added

    def gateway(self, gateway_id: UUID) -> PrivateGateway:
        found = self.gateways.get(gateway_id)
        if found is None:
            raise NotFound(f"Unable to find private gateway with id {gateway_id}")
        return found

    def remove_gateway(self, gateway_id: UUID) -> str:
        found = self.gateway(gateway_id)
        routes = [r for r in self.routes.values() if r.gateway_id == gateway_id]
        if routes:
            raise ResourceInUse(
                f"Can't delete private gateway {gateway_id} as it has {len(routes)} static "
                "route(s) applied; remove the routes first"
            )
        if found.state != "Active":
            raise InvalidState(f"Private gateway {gateway_id} is being created or deleted")
        self._path_revoking(path_id=gateway_id, kind=GATEWAY)
        return f"{gateway_id}/{GATEWAY}"

    def replace_gateway_acl(self, gateway_id: UUID, acl_id: UUID) -> None:
        self.gateway(gateway_id)
        self.acl_list(acl_id)
        self._gateway_acl_replaced(gateway_id=gateway_id, acl_id=acl_id)

    @event("GatewayAclReplaced")
    def _gateway_acl_replaced(self, gateway_id: UUID, acl_id: UUID) -> None:
        self.gateways[gateway_id] = replace(self.gateways[gateway_id], acl_id=acl_id)

    def add_route(self, route: StaticRoute) -> str:
        self.check_live()
        gateway = self.gateway(route.gateway_id)
        if gateway.state != "Active":
            raise InvalidState(f"Private gateway {gateway.id} is not ready: try again later")
        network = IPv4Network(route.cidr)
        if network.overlaps(IPv4Network(self.cidr)):
            raise InvalidParameter(f"CIDR should be outside of VPC cidr {self.cidr}")
        for other in self.routes.values():
            if other.cidr == route.cidr and other.state != "Revoke":
                raise InvalidParameter(
                    f"There is already a static route with cidr {route.cidr} in VPC {self.name}"
                )
        self._route_added(route_id=route.id, gateway_id=route.gateway_id, cidr=route.cidr)
        return f"{route.id}/{ROUTE}"

    @event("RouteAdded")
    def _route_added(self, route_id: UUID, gateway_id: UUID, cidr: str) -> None:
        self.routes[route_id] = StaticRoute(route_id, gateway_id, cidr)

    def remove_route(self, route_id: UUID) -> str:
        route = self.routes.get(route_id)
        if route is None:
            raise NotFound(f"Unable to find static route with id {route_id}")
        if route.state != "Active":
            raise InvalidState(f"Static route {route_id} is being applied or deleted")
        self._path_revoking(path_id=route_id, kind=ROUTE)
        return f"{route_id}/{ROUTE}"

    @event("PathRevoking")
    def _path_revoking(self, path_id: UUID, kind: str) -> None:
        self._replace_path(path_id, kind, "Revoke")

    def _replace_path(self, path_id: UUID, kind: str, state: str) -> None:
        if kind == GATEWAY:
            self.gateways[path_id] = replace(self.gateways[path_id], state=state)
        else:
            self.routes[path_id] = replace(self.routes[path_id], state=state)

    def _settle_path(self, path_id: UUID, kind: str, expected: str, *, keep: bool) -> None:
        found = (self.gateways if kind == GATEWAY else self.routes).get(path_id)
        if found is None or found.state != expected:
            return
        if keep:
            self._path_activated(path_id=path_id, kind=kind)
        else:
            self._path_removed(path_id=path_id, kind=kind)

    @event("PathActivated")
    def _path_activated(self, path_id: UUID, kind: str) -> None:
        self._replace_path(path_id, kind, "Active")

    @event("PathRemoved")
    def _path_removed(self, path_id: UUID, kind: str) -> None:
        (self.gateways if kind == GATEWAY else self.routes).pop(path_id, None)
