"""Commands on global load balancer rules: create (its DNS name claimed), update, assign and
remove load balancer rules, delete (the name freed). The rule lives in the local region, which
serves its DNS answers (domain/gslb.py); another region of the cloud is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.names import claimed
from domain.errors import InvalidParameter, NotFound
from domain.gslb import CLAIM_KIND, GlobalLoadBalancer, GslbMember
from domain.names import NameClaim, claim_id
from domain.regions import LOCAL_ID, Regions


@dataclass(frozen=True)
class CreateGslb:
    name: str
    description: str
    region_id: int
    gslb_domain: str
    service: str
    lb_method: str
    sticky_method: str
    account_id: UUID
    domain_id: UUID


def _region_serves(store: Any, region_id: int) -> None:
    try:
        regions: Regions = store.get(Regions, Regions.create_id(), what="regions")
        known = regions.regions
    except NotFound:
        known = {str(LOCAL_ID): {"name": "Local"}}
    region = known.get(str(region_id))
    if region is None:
        raise InvalidParameter(f"Invalid region ID: {region_id}")
    if region_id != LOCAL_ID:
        raise InvalidParameter(f"GSLB service is not enabled in region : {region['name']}")


def create_gslb(store: Any, command: CreateGslb) -> Outcome:
    """Record the rule and claim its DNS name (one rule per name in the cloud)."""
    _region_serves(store, command.region_id)

    def attempt() -> Outcome:
        rule = GlobalLoadBalancer(
            command.name,
            command.description,
            command.region_id,
            command.gslb_domain,
            command.service,
            command.lb_method,
            command.sticky_method,
            command.account_id,
            command.domain_id,
        )
        what = f"A global load balancer rule for the domain name {command.gslb_domain}"
        claim = claimed(store, CLAIM_KIND, command.gslb_domain, rule.id, what)
        return Outcome(store.last_position(store.save(rule, claim)), rule.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def change_gslb(store: Any, gslb_id: UUID, change: Callable[[GlobalLoadBalancer], Any]) -> Outcome:
    def attempt() -> Outcome:
        rule: GlobalLoadBalancer = store.get(
            GlobalLoadBalancer, gslb_id, what="global load balancer rule"
        )
        change(rule)
        return Outcome(store.last_position(store.save(rule)), rule.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def assign(
    store: Any,
    gslb_id: UUID,
    members: list[GslbMember],
    account_of: dict[UUID, UUID],
    gone: tuple[UUID, ...] = (),
) -> Outcome:
    return change_gslb(store, gslb_id, lambda rule: rule.assign(members, account_of, gone))


def forget_balancer(store: Any, rule_id: UUID, gslb_ids: tuple[UUID, ...]) -> list[Any]:
    """A load balancer rule being deleted leaves the global rules it is behind: those changed,
    to save with its revocation (a global rule gone meanwhile is left alone)."""
    changed = []
    for gslb_id in gslb_ids:
        try:
            rule: GlobalLoadBalancer = store.get(GlobalLoadBalancer, gslb_id)
        except NotFound:
            continue
        rule.forget([rule_id])
        if rule.pending_events:
            changed.append(rule)
    return changed


def delete_gslb(store: Any, gslb_id: UUID) -> Outcome:
    """The rule goes with its members; its DNS name is free again."""

    def attempt() -> Outcome:
        rule: GlobalLoadBalancer = store.get(
            GlobalLoadBalancer, gslb_id, what="global load balancer rule"
        )
        rule.delete()
        changed: list[Any] = [rule]
        try:
            claim: NameClaim = store.get(NameClaim, claim_id(CLAIM_KIND, rule.gslb_domain))
        except NotFound:
            claim = None  # type: ignore[assignment]
        if claim is not None and claim.owner_id == rule.id:
            claim.release()
            changed.append(claim)
        return Outcome(store.last_position(store.save(*changed)), rule.id)

    outcome: Outcome = store.run(attempt)
    return outcome
