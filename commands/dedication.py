"""Commands on dedicated resources: dedicate a zone, pod, cluster or host to a domain or an
account (with the owner's explicit dedication affinity group, made on first use), release it
(the group goes when it has nothing dedicated left)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.affinity_groups import CLAIM_KIND, delete_group, group_claim_key
from domain.affinity_group import EXPLICIT_DEDICATION, AffinityGroup
from domain.dedication import (
    Dedication,
    GuestVlanDedications,
    Owner,
    dedication_id,
    guest_vlan_dedications_id,
)
from domain.errors import InvalidParameter, InvalidState, NotFound
from domain.names import NameClaim, claim_id
from domain.network_physical import PhysicalNetwork


@dataclass(frozen=True)
class Dedicate:
    kind: str
    resource_id: UUID
    name: str
    owner: Owner
    where: dict[str, UUID | None]  # zone_id, pod_id, cluster_id the resource is in
    group_name: str  # the owner's explicit dedication group, found or made by this name
    new_group_id: UUID  # its id when it is made now


def _owner_group(store: Any, command: Dedicate) -> tuple[UUID, list[Any]]:
    """The owner's live explicit dedication group, or a new one with its name claim."""
    owner = command.owner
    key = group_claim_key(owner.account_id, owner.domain_id, command.group_name)
    try:
        claim: NameClaim | None = store.get(NameClaim, claim_id(CLAIM_KIND, key))
    except NotFound:
        claim = None
    if claim is not None and claim.owner_id is not None:
        group: AffinityGroup = store.get(AffinityGroup, claim.owner_id, what="affinity group")
        if not group.removed and group.group_type == EXPLICIT_DEDICATION:
            return group.id, []
    made = AffinityGroup(
        command.new_group_id,
        command.group_name,
        "dedicated resources group",
        EXPLICIT_DEDICATION,
        command.owner.account_id,
        command.owner.domain_id,
    )
    if claim is None:
        claim = NameClaim(kind=CLAIM_KIND, key=key, owner_id=made.id)
    else:
        claim.take(made.id, f"Affinity group {command.group_name}")
    return made.id, [made, claim]


def dedicate(store: Any, command: Dedicate) -> Outcome:
    """Dedicate the resource; refused (431) when it is dedicated already, whoever won a race."""

    def attempt() -> Outcome:
        key = dedication_id(command.kind, command.resource_id)
        try:
            dedication: Dedication = store.get(Dedication, key, what="dedication")
        except NotFound:
            dedication = Dedication(command.kind, command.resource_id, command.name)
        group_id, made = _owner_group(store, command)
        dedication.dedicate(command.owner, group_id, command.where)
        return Outcome(store.last_position(store.save(dedication, *made)), dedication.id)

    result: Outcome = store.run(attempt)
    return result


def release(store: Any, kind: str, resource_id: UUID, last_of_group: bool) -> Outcome:
    """Release the resource; then its group is deleted when nothing else is dedicated to it
    (`last_of_group`, from the read model), its members leaving it as on any delete."""
    released: list[UUID | None] = []

    def attempt() -> Outcome:
        dedication: Dedication = store.get(
            Dedication, dedication_id(kind, resource_id), what="dedication"
        )
        released[:] = [dedication.group_id]
        dedication.release()
        return Outcome(store.last_position(store.save(dedication)), dedication.id)

    outcome: Outcome = store.run(attempt)
    group_id = released[0] if released else None
    if not last_of_group or group_id is None:
        return outcome
    try:
        deleted = delete_group(store, group_id)
    except (NotFound, InvalidState):  # deleted meanwhile
        return outcome
    return Outcome(max(outcome.position, deleted.position), outcome.id)


# Guest VLAN ranges ---------------------------------------------------------------------------


def _vlan_dedications(store: Any, physical_network_id: UUID) -> GuestVlanDedications | None:
    try:
        found: GuestVlanDedications = store.get(
            GuestVlanDedications,
            guest_vlan_dedications_id(physical_network_id),
            what="guest vlan dedications",
        )
    except NotFound:
        return None
    return found


def guest_vnet_candidates(
    store: Any, physical: PhysicalNetwork, account_id: UUID, preferred: Iterable[int], seed: int
) -> Iterator[str]:
    """The guest ids an account's isolated network may take, in the order to try them: its own
    dedicated ranges first, then the ids dedicated to nobody (never another account's)."""
    dedications = _vlan_dedications(store, physical.id)
    pool = physical.vnets
    if dedications is None:
        yield from (str(v) for v in chain((v for v in preferred if v in pool), pool.probe(seed)))
        return
    for first, last in dedications.of_account(account_id):
        yield from (str(v) for v in range(first, last + 1))
    for vnet in chain((v for v in preferred if v in pool), pool.probe(seed)):
        if dedications.owner_of(vnet) is None:
            yield str(vnet)


def check_dedicated_vlans_kept(store: Any, physical: PhysicalNetwork) -> None:
    """Refuse guest ranges that would leave a dedicated range (partly) outside them."""
    dedications = _vlan_dedications(store, physical.id)
    for first, last in dedications.spans() if dedications else ():
        if not any(a <= first and last <= b for a, b in physical.vnets.ranges):
            raise InvalidParameter(
                f"Unable to remove vlan range: {first}-{last} is dedicated to an account; "
                "release it first"
            )


@dataclass(frozen=True)
class DedicateGuestVlans:
    physical_network_id: UUID
    owner: Owner
    first: int
    last: int
    range_id: UUID


def dedicate_guest_vlans(store: Any, command: DedicateGuestVlans) -> Outcome:
    def attempt() -> Outcome:
        physical = store.get(PhysicalNetwork, command.physical_network_id, what="physical network")
        dedications = _vlan_dedications(store, physical.id) or GuestVlanDedications(physical.id)
        dedications.dedicate(
            command.range_id, command.owner, command.first, command.last, physical.vnets
        )
        return Outcome(store.last_position(store.save(dedications)), command.range_id)

    result: Outcome = store.run(attempt)
    return result


def release_guest_vlans(store: Any, physical_network_id: UUID, range_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        dedications = _vlan_dedications(store, physical_network_id)
        if dedications is None:
            raise NotFound(f"Unable to find dedicated guest vlan range by id {range_id}")
        dedications.release(range_id)
        return Outcome(store.last_position(store.save(dedications)), range_id)

    result: Outcome = store.run(attempt)
    return result
