"""Site-to-site VPN and a VPC's addresses, given-when-then on the aggregates: a gateway's
checks of a new connection, a connection's states as the router answers, and an address of a
VPC serving one tier at a time."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.network_public_ip import PublicIp
from domain.site_to_site_vpn import CONNECTION_LIMIT, Ends, VpnConnection, VpnGateway
from domain.values import Secret

VPC_CIDR = "10.50.0.0/16"
TARGET = {
    "host_id": uuid4(),
    "url": "simulator://h1",
    "username": "root",
    "password": Secret("pw"),
    "hypervisor": "Simulator",
    "instance_name": "r-1-VM",
}


def _gateway() -> VpnGateway:
    return VpnGateway(uuid4(), uuid4(), "203.0.113.10", uuid4(), uuid4())


def _connection(passive: bool = False) -> VpnConnection:
    ends = Ends(
        "203.0.113.10",
        VPC_CIDR,
        "198.51.100.7",
        "192.168.10.0/24",
        "aes128-sha1",
        "aes128-sha1",
        86400,
        3600,
        False,
        passive,
    )
    return VpnConnection(
        uuid4(), uuid4(), uuid4(), uuid4(), uuid4(), ends.applied_view(), id=uuid4()
    )


def test_a_gateway_connects_each_customer_gateway_once_with_networks_apart() -> None:
    gateway, customer = _gateway(), uuid4()
    gateway.add_connection(uuid4(), customer, "192.168.10.0/24", VPC_CIDR)
    with pytest.raises(InvalidParameter, match="already existed"):
        gateway.check_connection(customer, "192.168.11.0/24", VPC_CIDR)
    with pytest.raises(InvalidParameter, match="overlapped with VPC cidr"):
        gateway.check_connection(uuid4(), "10.50.3.0/24", VPC_CIDR)
    with pytest.raises(InvalidParameter, match="connected to the same VPN gateway"):
        gateway.check_connection(uuid4(), "192.168.0.0/16", VPC_CIDR)
    with pytest.raises(InvalidParameter, match="related VPN connections"):
        gateway.delete()
    gateway.remove_connection(customer)
    gateway.delete()
    assert gateway.removed


def test_a_gateway_holds_at_most_the_connection_limit() -> None:
    gateway = _gateway()
    for n in range(CONNECTION_LIMIT):
        gateway.add_connection(uuid4(), uuid4(), f"192.168.{n}.0/24", VPC_CIDR)
    with pytest.raises(InvalidParameter, match="too many VPN connections"):
        gateway.check_connection(uuid4(), "192.168.100.0/24", VPC_CIDR)


@pytest.mark.parametrize(
    ("passive", "ok", "state"),
    [(False, True, "Connected"), (True, True, "Disconnected"), (False, False, "Error")],
)
def test_a_connection_is_pending_until_the_router_answers(
    passive: bool, ok: bool, state: str
) -> None:
    connection = _connection(passive)
    connection.request_apply("r1", None, TARGET, Secret("key"))
    assert connection.state == "Pending"
    with pytest.raises(InvalidState, match="Pending"):
        connection.check_idle("reset")
    connection.answered("r1", ok, "" if ok else "the router refused")
    assert connection.state == state and connection.generation == 1


def test_the_tunnel_check_moves_only_connections_the_router_holds() -> None:
    connection = _connection(passive=True)
    assert connection.tunnel_checked(True) is None  # Pending: nothing applied yet
    connection.request_apply("r1", None, TARGET, Secret("key"))
    assert connection.tunnel_checked(True) is None  # being applied
    connection.answered("r1", True, "")
    assert connection.state == "Disconnected"
    assert connection.tunnel_checked(False) is None  # unchanged: nothing recorded
    assert connection.tunnel_checked(True) == "Disconnected"
    assert connection.state == "Connected"
    assert connection.tunnel_checked(False) == "Connected"
    assert connection.state == "Disconnected"
    connection.request_apply("r2", None, TARGET, Secret("key"))
    connection.answered("r2", False, "the router refused")
    assert connection.tunnel_checked(True) is None and connection.state == "Error"


def test_a_failed_removal_leaves_the_connection_as_it_was() -> None:
    connection = _connection()
    connection.request_apply("r1", None, TARGET, Secret("key"))
    connection.answered("r1", True, "")
    connection.request_apply("r2", None, TARGET, Secret("key"), removing=True)
    connection.answered("r2", False, "the router refused")
    assert connection.state == "Connected"
    connection.request_apply("r3", None, TARGET, Secret("key"), removing=True)
    connection.answered("r3", True, "")
    assert connection.state == "Removed" and connection.generation == 3


def test_a_vpc_address_serves_one_tier_until_its_rules_are_gone() -> None:
    vpc, web, app = uuid4(), uuid4(), uuid4()
    public = PublicIp(uuid4(), "203.0.113.11", uuid4())
    public.associate(uuid4(), uuid4(), None)
    public.join_vpc(vpc)
    public.serve_tier(web)
    public.serve_tier(web)  # the same tier again records nothing
    with pytest.raises(InvalidParameter, match="another network of its VPC"):
        public.serve_tier(app)
    public.serve_tier(None)
    public.serve_tier(app)
    assert (public.in_vpc, public.network_id) == (vpc, app)
    events = [type(e).__name__ for e in public.collect_events()]
    assert events.count("TierServed") == 3


def test_a_vpc_source_nat_address_goes_only_with_the_vpc() -> None:
    public = PublicIp(uuid4(), "203.0.113.10", uuid4())
    public.associate(uuid4(), uuid4(), None, source_nat=True)
    public.join_vpc(uuid4())
    with pytest.raises(InvalidParameter, match="released when the VPC is deleted"):
        public.disassociate()
    public.disassociate(with_network=True)
    assert public.in_vpc is None and not public.allocated
