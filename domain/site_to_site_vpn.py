"""Site-to-site VPN: a VPC's VPN gateway (its source NAT address, the near end) and the
connections from it to customer gateways (domain/vpn_customer_gateway.py, the far ends),
each applied on the VPC's router as an IPsec configuration.

A VPC has at most one gateway (its id derives from the VPC's). The gateway keeps which
customer gateways it connects to, so a connection is checked against the others in the same
aggregate (one per customer gateway, networks apart) and two racing creates write the same
version. A connection is `Pending` until the router answers: `Connected`, or `Disconnected`
for a passive one (it waits for the far end to start), or `Error`; 4.3 reports the same. From
then on the router's periodic check of its tunnels (4.3's CheckS2SVpnConnections) moves a
Connected or Disconnected connection to whichever its tunnel is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from ipaddress import IPv4Network
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret

_NAMESPACE = UUID("5b0f3c7e-91a2-4d8e-b6f4-2c7a9e1d3f60")
CONNECTION_LIMIT = 4  # site2site.vpn.vpngateway.connection.limit's default


def vpn_gateway_id(vpc_id: UUID) -> UUID:
    """A VPC has at most one VPN gateway: its id derives from the VPC's."""
    return uuid5(_NAMESPACE, f"vpn-gateway:{vpc_id}")


class ConnectionState:
    PENDING = "Pending"
    CONNECTED = "Connected"
    DISCONNECTED = "Disconnected"
    ERROR = "Error"
    REMOVED = "Removed"


class VpnGateway(Aggregate):
    """The near end of a VPC's site-to-site VPNs: its source NAT address."""

    @staticmethod
    def create_id(vpc_id: UUID, *_: Any) -> UUID:
        return vpn_gateway_id(vpc_id)

    @event("Created")
    def __init__(
        self,
        vpc_id: UUID,
        public_ip_id: UUID,
        public_ip: str,
        account_id: UUID,
        domain_id: UUID,
    ) -> None:
        self.vpc_id, self.public_ip_id, self.public_ip = vpc_id, public_ip_id, public_ip
        self.account_id, self.domain_id = account_id, domain_id
        self.removed = False
        self.connections: dict[UUID, tuple[UUID, str]] = {}  # customer gw -> (conn, its cidrs)

    def check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"The VPN gateway {self.id} has been deleted")

    def reopen(self, public_ip_id: UUID, public_ip: str) -> None:
        """A deleted gateway of the VPC made again (its id is the VPC's)."""
        if not self.removed:
            raise InvalidParameter(f"The VPN gateway of VPC {self.vpc_id} already existed!")
        self._reopened(public_ip_id=public_ip_id, public_ip=public_ip)

    @event("Reopened")
    def _reopened(self, public_ip_id: UUID, public_ip: str) -> None:
        self.public_ip_id, self.public_ip, self.removed = public_ip_id, public_ip, False

    def check_connection(self, customer_gateway_id: UUID, cidrs: str, vpc_cidr: str) -> None:
        """4.3's checks of a new connection: one per customer gateway, at most
        CONNECTION_LIMIT, the far networks apart from the VPC's and from the other
        connections' far networks."""
        self.check_live()
        if customer_gateway_id in self.connections:
            raise InvalidParameter(
                f"The vpn connection with customer gateway id {customer_gateway_id} or vpn "
                f"gateway id {self.id} already existed!"
            )
        if len(self.connections) >= CONNECTION_LIMIT:
            raise InvalidParameter(
                "There are too many VPN connections with current VPN gateway! The limit is "
                f"{CONNECTION_LIMIT}"
            )
        mine = IPv4Network(vpc_cidr)
        for cidr in cidrs.split(","):
            if IPv4Network(cidr).overlaps(mine):
                raise InvalidParameter(
                    f"The subnets of customer gateway {customer_gateway_id}'s subnet {cidr} is "
                    f"overlapped with VPC cidr {vpc_cidr}!"
                )
            for other_id, (_connection, others) in self.connections.items():
                for other in others.split(","):
                    if IPv4Network(cidr).overlaps(IPv4Network(other)):
                        raise InvalidParameter(
                            f"The subnet {cidr} of customer gateway {customer_gateway_id} is "
                            f"overlapped with the subnet {other} of customer gateway "
                            f"{other_id}, which is connected to the same VPN gateway"
                        )

    def add_connection(
        self, connection_id: UUID, customer_gateway_id: UUID, cidrs: str, vpc_cidr: str
    ) -> None:
        self.check_connection(customer_gateway_id, cidrs, vpc_cidr)
        self._connection_added(
            connection_id=connection_id, customer_gateway_id=customer_gateway_id, cidrs=cidrs
        )

    @event("ConnectionAdded")
    def _connection_added(self, connection_id: UUID, customer_gateway_id: UUID, cidrs: str) -> None:
        self.connections[customer_gateway_id] = (connection_id, cidrs)

    def remove_connection(self, customer_gateway_id: UUID) -> None:
        if customer_gateway_id in self.connections:
            self._connection_removed(customer_gateway_id=customer_gateway_id)

    @event("ConnectionRemoved")
    def _connection_removed(self, customer_gateway_id: UUID) -> None:
        self.connections.pop(customer_gateway_id, None)

    def delete(self) -> None:
        self.check_live()
        if self.connections:
            raise InvalidParameter(
                f"Unable to delete VPN gateway {self.id} because there is still related VPN "
                "connections!"
            )
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True


@dataclass(frozen=True)
class Ends:
    """What the router needs of both ends: its own address and the VPC's CIDR, the far
    gateway's address and networks, the policies, lifetimes and dead peer detection."""

    public_ip: str
    vpc_cidr: str
    peer_ip: str
    peer_cidrs: str
    ike_policy: str
    esp_policy: str
    ike_lifetime: int
    esp_lifetime: int
    dpd: bool
    passive: bool

    def applied_view(self) -> dict[str, Any]:
        return asdict(self)


class VpnConnection(Aggregate):
    """A connection of a VPC's VPN gateway to a customer gateway; one request to the VPC's
    router in flight (each carries the whole configuration)."""

    @event("Created")
    def __init__(
        self,
        gateway_id: UUID,
        vpc_id: UUID,
        customer_gateway_id: UUID,
        account_id: UUID,
        domain_id: UUID,
        ends: dict[str, Any],
        id: UUID,
    ) -> None:
        self.gateway_id, self.vpc_id = gateway_id, vpc_id
        self.customer_gateway_id = customer_gateway_id
        self.account_id, self.domain_id = account_id, domain_id
        self.ends = Ends(**ends)
        self.state = ConnectionState.PENDING
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.removing = False
        self.generation = 0

    def check_live(self) -> None:
        if self.state == ConnectionState.REMOVED:
            raise InvalidState(f"The VPN connection {self.id} has been removed")

    def check_idle(self, doing: str) -> None:
        """A connection being applied or removed is not changed again meanwhile (4.3 refuses
        a reset while it is Pending)."""
        self.check_live()
        if self.request_id is not None or self.state == ConnectionState.PENDING:
            raise InvalidState(f"VPN connection {self.id} cannot be {doing} when state is Pending!")

    def request_apply(
        self,
        request_id: str,
        job_id: UUID | None,
        target: dict[str, Any],
        psk: Secret,
        *,
        removing: bool = False,
    ) -> None:
        """Ask the VPC's router (`target`: its host and name) to hold the connection, with
        the far end's pre-shared key (sealed at rest), or, `removing`, to drop it."""
        self.check_live()
        self._apply_requested(
            request_id=request_id,
            job_id=job_id,
            generation=self.generation + 1,
            ends=self.ends.applied_view(),
            psk=psk,
            removing=removing,
            **target,
        )

    @event("ApplyRequested")
    def _apply_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        generation: int,
        ends: dict[str, Any],
        psk: Secret,
        removing: bool,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
    ) -> None:
        self.request_id, self.job_id, self.removing = request_id, job_id, removing
        self.generation = generation
        if not removing:
            self.state = ConnectionState.PENDING

    def is_current(self, request_id: str) -> bool:
        return request_id == self.request_id

    def answered(self, request_id: str, ok: bool, reason: str) -> None:
        """The router's answer: a held connection is Connected (Disconnected when passive:
        it waits for the far end), a dropped one Removed; a failure is Error, and a failed
        removal leaves the connection as it was."""
        if self.removing:
            state = ConnectionState.REMOVED if ok else self.state
        elif ok:
            passive = self.ends.passive
            state = ConnectionState.DISCONNECTED if passive else ConnectionState.CONNECTED
        else:
            state = ConnectionState.ERROR
        self._answered(request_id=request_id, ok=ok, reason=reason, state=state)

    @event("Answered")
    def _answered(self, request_id: str, ok: bool, reason: str, state: str) -> None:
        self.state, self.request_id, self.job_id = state, None, None

    def checkable(self) -> bool:
        """Only a connection the router holds and is not being changed is checked (4.3 checks
        Connected and Disconnected ones; Pending and Error wait for an apply)."""
        return self.request_id is None and self.state in (
            ConnectionState.CONNECTED,
            ConnectionState.DISCONNECTED,
        )

    def tunnel_checked(self, up: bool) -> str | None:
        """What the router found of the tunnel: Connected when it is up, else Disconnected.
        Returns the state it left when that changed (None otherwise, and nothing is recorded)."""
        if not self.checkable():
            return None
        state = ConnectionState.CONNECTED if up else ConnectionState.DISCONNECTED
        if state == self.state:
            return None
        was = self.state
        self._tunnel_checked(state=state)
        return was

    @event("TunnelChecked")
    def _tunnel_checked(self, state: str) -> None:
        self.state = state

    def remove_at_once(self) -> None:
        """No router can act (it is not running): the record alone goes."""
        self.check_live()
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.state, self.request_id, self.job_id = ConnectionState.REMOVED, None, None
