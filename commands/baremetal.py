"""Registering bare-metal DHCP and PXE servers: on a physical network that has the provider,
one of each kind per zone (a PING server per pod), held by a claim so two requests cannot
both register one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.names import claimed
from domain.baremetal import DHCP_PROVIDER, PXE_PROVIDER, ServerSpec, check_provider, register
from domain.errors import InvalidParameter
from domain.network_physical import PhysicalNetwork

CLAIM = "baremetal-server"


@dataclass(frozen=True)
class RegisterServer:
    server_id: UUID
    spec: ServerSpec


def register_server(store: Any, command: RegisterServer) -> Outcome:
    spec = command.spec

    def attempt() -> Outcome:
        network: PhysicalNetwork = store.get(
            PhysicalNetwork, spec.physical_network_id, what="physical network"
        )
        if network.removed or network.zone_id != spec.zone_id:
            raise InvalidParameter(
                f"Could not find phyical network with ID: {spec.physical_network_id}"
            )
        name = DHCP_PROVIDER if spec.kind == "dhcp" else PXE_PROVIDER
        provider = next((p for p in network.providers.values() if p["name"] == name), None)
        provider_id = check_provider(provider, name, str(network.id))
        server = register(command.server_id, spec, provider_id)
        what = "A DHCP server" if spec.kind == "dhcp" else "A PXE server"
        claim = claimed(store, CLAIM, spec.claim_key(), server.id, f"{what} of this zone or pod")
        return Outcome(store.last_position(store.save(server, claim)), server.id)

    result: Outcome = store.run(attempt)
    return result
