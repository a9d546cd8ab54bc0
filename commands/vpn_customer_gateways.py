"""Commands on VPN customer gateways: an account's names and gateway addresses are unique among
its gateways (each held by a name claim), as 4.3 has them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.names import claimed
from domain.names import NameClaim, claim_id
from domain.vpn_customer_gateway import GatewaySpec, VpnCustomerGateway

NAME_CLAIM = "vpn-customer-gateway-name"
ADDRESS_CLAIM = "vpn-customer-gateway-address"


def _claims(store: Any, gateway_id: UUID, account_id: UUID, spec: GatewaySpec) -> list[Any]:
    return [
        claimed(
            store,
            NAME_CLAIM,
            f"{account_id}:{spec.name}",
            gateway_id,
            f"The customer gateway with name {spec.name}",
        ),
        claimed(
            store,
            ADDRESS_CLAIM,
            f"{account_id}:{spec.gateway}",
            gateway_id,
            f"The customer gateway with ip {spec.gateway}",
        ),
    ]


def _released(store: Any, gateway: VpnCustomerGateway, keep: GatewaySpec | None) -> list[Any]:
    """The claims the gateway holds on a name or address it gives up."""
    released = []
    for kind, value, kept in (
        (NAME_CLAIM, gateway.name, keep.name if keep else None),
        (ADDRESS_CLAIM, gateway.gateway, keep.gateway if keep else None),
    ):
        if value == kept:
            continue
        claim: NameClaim = store.get(NameClaim, claim_id(kind, f"{gateway.account_id}:{value}"))
        if claim.owner_id == gateway.id:
            claim.release()
            released.append(claim)
    return released


@dataclass(frozen=True)
class CreateCustomerGateway:
    gateway_id: UUID
    account_id: UUID
    domain_id: UUID
    spec: GatewaySpec


def create_customer_gateway(store: Any, command: CreateCustomerGateway) -> Outcome:
    def attempt() -> Outcome:
        spec = command.spec
        claims = _claims(store, command.gateway_id, command.account_id, spec)
        gateway = VpnCustomerGateway(
            command.gateway_id, command.account_id, command.domain_id, **spec.fields()
        )
        return Outcome(store.last_position(store.save(gateway, *claims)), gateway.id)

    result: Outcome = store.run(attempt)
    return result


def update_customer_gateway(store: Any, gateway_id: UUID, spec: GatewaySpec) -> Outcome:
    def attempt() -> Outcome:
        gateway: VpnCustomerGateway = store.get(
            VpnCustomerGateway, gateway_id, what="VPN customer gateway"
        )
        released = _released(store, gateway, spec)
        claims = _claims(store, gateway.id, gateway.account_id, spec)
        gateway.update(spec)
        return Outcome(store.last_position(store.save(gateway, *released, *claims)), gateway.id)

    result: Outcome = store.run(attempt)
    return result


def delete_customer_gateway(store: Any, gateway_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        gateway: VpnCustomerGateway = store.get(
            VpnCustomerGateway, gateway_id, what="VPN customer gateway"
        )
        released = _released(store, gateway, None)
        gateway.remove()
        return Outcome(store.last_position(store.save(gateway, *released)), gateway.id)

    result: Outcome = store.run(attempt)
    return result
