"""Commands on site-to-site VPNs: a VPC's VPN gateway, its connections to customer gateways,
and the VPC router's answers to them.

A connection is applied by the VPC's running router (`configure_site_vpn`): the request
carries both ends (addresses, networks, policies, lifetimes, dead peer detection) and the far
end's pre-shared key, sealed at rest in the event and sealed again with the host's
credentials for the adapter, never in the request's parameters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from commands import Outcome, change
from commands.routers import current_router, router_alert
from commands.vpn import router_target
from domain.errors import InvalidParameter, NotFound, PermissionDenied, ResourceUnavailable
from domain.job import Job, JobStatus
from domain.site_to_site_vpn import (
    ConnectionState,
    Ends,
    VpnConnection,
    VpnGateway,
    vpn_gateway_id,
)
from domain.system_vm import Role, SystemVm
from domain.vpc import Vpc
from domain.vpn_customer_gateway import VpnCustomerGateway
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work
from stratus.store.audit import acting

APPLY_ACTION = "configure_site_vpn"
VPN_SERVICE = "Vpn"


# Gateways -------------------------------------------------------------------------------------


def _new_gateway(store: Any, vpc_id: UUID) -> VpnGateway:
    """The VPC's VPN gateway on its source NAT address, made (not saved); 431 when the VPC
    offers no Vpn, has no source NAT address yet, or has a gateway already."""
    vpc: Vpc = store.get(Vpc, vpc_id, what="vpc")
    vpc.check_live()
    if VPN_SERVICE not in vpc.services:
        raise InvalidParameter(f"Vpn service is not supported in VPC {vpc.name}")
    source = vpc.source_nat_address
    if source is None:
        raise InvalidParameter(
            f"The VPN gateway cannot be created: VPC {vpc.name} has no source nat ip address "
            "yet (it takes one when it starts)"
        )
    try:
        gateway: VpnGateway = store.repository.get(vpn_gateway_id(vpc.id))
    except AggregateNotFoundError:
        return VpnGateway(vpc.id, *source, vpc.account_id, vpc.domain_id)
    gateway.reopen(*source)
    return gateway


def check_gateway(store: Any, vpc_id: UUID) -> None:
    """Every refusal of a new gateway, before its job exists (nothing is saved)."""
    _new_gateway(store, vpc_id)


def create_gateway(store: Any, vpc_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        gateway = _new_gateway(store, vpc_id)
        return Outcome(store.last_position(store.save(gateway)), gateway.id)

    result: Outcome = store.run(attempt)
    return result


def delete_gateway(store: Any, gateway_id: UUID) -> Outcome:
    return change(store, VpnGateway, gateway_id, VpnGateway.delete, what="VPN gateway")


def gateway_gone_with_vpc(store: Any, vpc_id: UUID) -> list[Any]:
    """A deleted VPC's VPN gateway goes with it (refused while it has connections); to save
    with the VPC."""
    try:
        gateway: VpnGateway = store.repository.get(vpn_gateway_id(vpc_id))
    except AggregateNotFoundError:
        return []
    if gateway.removed:
        return []
    gateway.delete()
    return [gateway]


# Connections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateConnection:
    gateway_id: UUID
    customer_gateway_id: UUID
    passive: bool
    connection_id: UUID
    job_id: UUID | None = None


@dataclass(frozen=True)
class _Parts:
    gateway: VpnGateway
    customer: VpnCustomerGateway
    vpc: Vpc
    target: dict[str, Any]


def _parts(store: Any, command: CreateConnection) -> _Parts:
    gateway: VpnGateway = store.get(VpnGateway, command.gateway_id, what="VPN gateway")
    gateway.check_live()
    customer: VpnCustomerGateway = store.get(
        VpnCustomerGateway, command.customer_gateway_id, what="VPN customer gateway"
    )
    if customer.removed:
        raise InvalidParameter(f"Unable to find customer gateway {command.customer_gateway_id}")
    if customer.account_id != gateway.account_id:
        raise PermissionDenied(
            "VPN connection can only be established between the same account's VPN gateway "
            "and customer gateway!"
        )
    vpc: Vpc = store.get(Vpc, gateway.vpc_id, what="vpc")
    vpc.check_live()
    gateway.check_connection(customer.id, customer.cidrs, vpc.cidr)
    target = _router(store, vpc.id)
    if target is None:
        raise ResourceUnavailable(
            f"Unable to apply the site-to-site VPN: the virtual router of VPC {vpc.name} is "
            "not running"
        )
    return _Parts(gateway, customer, vpc, target)


def _router(store: Any, vpc_id: UUID) -> dict[str, Any] | None:
    router = current_router(store, vpc_id)
    return router_target(store, router.id if router is not None else None)


def check_connection(store: Any, command: CreateConnection) -> None:
    """Every refusal of a new connection, before its job exists (nothing is saved)."""
    _parts(store, command)


def create_connection(store: Any, command: CreateConnection) -> Outcome:
    """Record the connection (Pending) and ask the VPC's router to hold it."""

    def attempt() -> Outcome:
        parts = _parts(store, command)
        customer = parts.customer
        ends = Ends(
            public_ip=parts.gateway.public_ip,
            vpc_cidr=parts.vpc.cidr,
            peer_ip=customer.gateway,
            peer_cidrs=customer.cidrs,
            ike_policy=customer.ike_policy,
            esp_policy=customer.esp_policy,
            ike_lifetime=customer.ike_lifetime,
            esp_lifetime=customer.esp_lifetime,
            dpd=customer.dpd,
            passive=command.passive,
        )
        connection = VpnConnection(
            parts.gateway.id,
            parts.vpc.id,
            customer.id,
            parts.gateway.account_id,
            parts.gateway.domain_id,
            ends.applied_view(),
            id=command.connection_id,
        )
        parts.gateway.add_connection(connection.id, customer.id, customer.cidrs, parts.vpc.cidr)
        customer.attach(connection.id)
        connection.request_apply(uuid.uuid4().hex, command.job_id, parts.target, customer.psk)
        saved = store.save(connection, parts.gateway, customer)
        return Outcome(store.last_position(saved), connection.id)

    result: Outcome = store.run(attempt)
    return result


def _customer_psk(store: Any, connection: VpnConnection) -> Any:
    customer: VpnCustomerGateway = store.get(
        VpnCustomerGateway, connection.customer_gateway_id, what="VPN customer gateway"
    )
    return customer.psk


def check_change(store: Any, connection_id: UUID, doing: str) -> None:
    """A reset or delete of a connection being applied is refused before its job exists."""
    connection: VpnConnection = store.get(VpnConnection, connection_id, what="VPN connection")
    connection.check_idle(doing)


def reset_connection(store: Any, connection_id: UUID, job_id: UUID | None) -> Outcome:
    """Apply the connection on the VPC's router again (4.3 stops and starts it)."""

    def attempt() -> Outcome:
        connection: VpnConnection = store.get(VpnConnection, connection_id, what="VPN connection")
        connection.check_idle("reset")
        target = _router(store, connection.vpc_id)
        if target is None:
            raise ResourceUnavailable(
                "Unable to reset the VPN connection: the virtual router of its VPC is not running"
            )
        psk = _customer_psk(store, connection)
        connection.request_apply(uuid.uuid4().hex, job_id, target, psk)
        return Outcome(store.last_position(store.save(connection)), connection.id)

    result: Outcome = store.run(attempt)
    return result


def delete_connection(store: Any, connection_id: UUID, job_id: UUID | None) -> Outcome:
    """Ask the VPC's router to drop the connection; with no running router it goes at once."""

    def attempt() -> Outcome:
        connection: VpnConnection = store.get(VpnConnection, connection_id, what="VPN connection")
        connection.check_idle("deleted")
        target = _router(store, connection.vpc_id)
        if target is not None:
            psk = _customer_psk(store, connection)
            connection.request_apply(uuid.uuid4().hex, job_id, target, psk, removing=True)
            return Outcome(store.last_position(store.save(connection)), connection.id)
        connection.remove_at_once()
        changed: list[Any] = [connection, *_released(store, connection)]
        job = store.get(Job, job_id, what="job") if job_id else None
        if job is not None:
            job.succeed({"success": True})
            changed.append(job)
        return Outcome(store.last_position(store.save(*changed)), connection.id)

    result: Outcome = store.run(attempt)
    return result


def _released(store: Any, connection: VpnConnection) -> list[Any]:
    """A removed connection frees its place on the gateway and its customer gateway."""
    gateway: VpnGateway = store.get(VpnGateway, connection.gateway_id, what="VPN gateway")
    gateway.remove_connection(connection.customer_gateway_id)
    customer: VpnCustomerGateway = store.get(
        VpnCustomerGateway, connection.customer_gateway_id, what="VPN customer gateway"
    )
    customer.detach(connection.id)
    return [a for a in (gateway, customer) if a.pending_events]


# Results and routes ---------------------------------------------------------------------------


def connection_result(connection_id: UUID) -> dict[str, Any]:
    return {"object": "vpnconnection", "id": str(connection_id)}


def on_site_vpn_result(store: Any, result: WorkResult) -> Outcome:
    """The router's answer to the request in flight: the connection's state, its job."""

    def attempt() -> Outcome:
        connection: VpnConnection = store.get(VpnConnection, UUID(result.target_id))
        if not connection.is_current(result.request_id):
            return Outcome(0, connection.id)
        job = store.get(Job, connection.job_id, what="job") if connection.job_id else None
        removing = connection.removing
        reason = result.error or "the router did not answer"
        connection.answered(result.request_id, result.ok, reason)
        changed: list[Any] = [connection]
        if connection.state == ConnectionState.REMOVED:
            changed += _released(store, connection)
        if job is not None and job.status == JobStatus.PENDING:
            if result.ok:
                job.succeed({"success": True} if removing else connection_result(connection.id))
            else:
                verb = "remove" if removing else "apply"
                job.fail("ResourceUnavailable", f"Unable to {verb} the site-to-site VPN: {reason}")
            changed.append(job)
        return Outcome(store.last_position(store.save(*changed)), connection.id)

    outcome: Outcome = store.run(attempt)
    return outcome


# Tunnel checks --------------------------------------------------------------------------------

CHECK_ACTION = "check_site_vpns"


@dataclass(frozen=True)
class TunnelTarget:
    """A running VPC router to ask about its tunnels, and the far gateways it is asked about
    (those of its VPC's Connected and Disconnected connections)."""

    router_id: str
    instance_name: str
    host_id: str
    peers: tuple[str, ...]


def tunnel_check_request(box: Any, host: Any, target: TunnelTarget, tick: str) -> WorkRequest:
    """4.3's CheckS2SVpnConnections: which of these far gateways has its tunnel up? A check
    changes nothing by itself, so it is published straight to the bus, not as an event."""
    return WorkRequest(
        request_id=f"s2s-check:{tick}:{target.router_id}",
        hypervisor=host.hypervisor.lower(),
        action=CHECK_ACTION,
        target_id=target.router_id,
        params={
            "host_id": target.host_id,
            "name": target.instance_name,
            "peers": list(target.peers),
        },
        sealed_credentials=seal_credentials(box, host.url, host.username, host.password.reveal()),
    )


def on_tunnel_check(store: Any, result: WorkResult) -> Outcome:
    """The router's answer: each checked connection of its VPC (one whose far gateway was
    asked about, not being changed) is Connected when its tunnel is up, else Disconnected; a
    change raises a router alert, as 4.3 does. A failed check changes nothing."""
    if not result.ok:
        return Outcome(0)

    def attempt() -> Outcome:
        router: SystemVm = store.get(SystemVm, UUID(result.target_id), what="router")
        vpc_id = getattr(router, "vpc_id", None)
        if vpc_id is None or str(router.host_id) != str(result.data.get("host_id")):
            return Outcome(0, router.id)  # a check of an earlier run: it no longer tells
        try:
            gateway: VpnGateway = store.repository.get(vpn_gateway_id(vpc_id))
        except AggregateNotFoundError:
            return Outcome(0, router.id)
        asked = {str(p) for p in result.data.get("checked", ())}
        up = {str(p) for p in result.data.get("connected", ())}
        changed: list[Any] = []
        for customer_id, (connection_id, _cidrs) in sorted(gateway.connections.items()):
            connection: VpnConnection = store.get(VpnConnection, connection_id)
            if connection.ends.peer_ip not in asked:
                continue
            was = connection.tunnel_checked(connection.ends.peer_ip in up)
            if was is None:
                continue
            customer: VpnCustomerGateway = store.get(VpnCustomerGateway, customer_id)
            changed += [
                connection,
                router_alert(
                    router,
                    f"Site-to-site VPN connection to {customer.name} on router {router.name} "
                    f"went from {was} to {connection.state}",
                ),
            ]
        if not changed:
            return Outcome(0, router.id)
        owner = {"account_id": str(router.account_id), "domain_id": str(router.domain_id)}
        with acting(**owner):
            return Outcome(store.last_position(store.save(*changed)), router.id)

    outcome: Outcome = store.run(attempt)
    return outcome


RESULT_HANDLERS = {APPLY_ACTION: on_site_vpn_result, CHECK_ACTION: on_tunnel_check}


def reapply_after_boot(store: Any, result: WorkResult) -> None:
    """A VPC router that booted from its image (started, upgraded) holds no connection: each
    of its VPC's connections that is not being changed is sent to it again, with no job."""
    if not result.ok:
        return
    try:
        router: SystemVm = store.get(SystemVm, UUID(result.target_id), what="router")
    except NotFound:
        return
    vpc_id = getattr(router, "vpc_id", None)
    if router.role != Role.ROUTER or vpc_id is None:
        return
    try:
        gateway: VpnGateway = store.repository.get(vpn_gateway_id(vpc_id))
    except AggregateNotFoundError:
        return  # the VPC has no gateway
    target = router_target(store, router.id)
    if target is None or gateway.removed:
        return
    for connection_id, _cidrs in list(gateway.connections.values()):

        def attempt(connection_id: UUID = connection_id) -> None:
            connection: VpnConnection = store.get(VpnConnection, connection_id)
            if connection.state == ConnectionState.REMOVED or connection.request_id:
                return
            psk = _customer_psk(store, connection)
            connection.request_apply(uuid.uuid4().hex, None, target, psk)
            store.save(connection)

        store.run(attempt)


# Work that follows another family's result, in its own save (commands/results.py).
FOLLOW_UPS = {"start_system_vm": reapply_after_boot, "upgrade_router": reapply_after_boot}


def site_vpn_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """`ApplyRequested` becomes a `configure_site_vpn` request to the VPC router's host; the
    pre-shared key travels sealed with the host's credentials."""

    def apply(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=APPLY_ACTION,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "connection_id": str(e.originator_id),
                "generation": e.generation,
                "removing": e.removing,
                "ends": dict(e.ends),
            },
            sealed_credentials=seal_credentials(
                box, e.url, e.username, e.password.reveal(), secrets={"psk": e.psk.reveal()}
            ),
            **origin(e),
        )
        return work(request, prefix)

    connection: Any = VpnConnection  # events made by the library's decorator
    return {get_topic(connection.ApplyRequested): apply}


OUTBOX_ROUTES = site_vpn_routes
