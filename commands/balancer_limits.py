"""What a network's load balancers allow, from its offering: the connection limit and
keep-alive its router's haproxy runs with (4.3's LoadBalancerConfigCommand `maxconn` and
`keepAliveEnabled`)."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.configuration import DEFINITIONS, GLOBAL, Configuration
from domain.network import Network
from domain.network_offering import BalancerLimits, NetworkOffering

MAX_CONNECTIONS = "network.loadbalancer.haproxy.max.conn"


def default_max_connections(store: Any) -> int:
    """The limit for an offering that names none: the global setting in force now."""
    try:
        setting: Configuration = store.repository.get(Configuration.create_id(MAX_CONNECTIONS))
        value = setting.values.get(f"{GLOBAL}:")
    except AggregateNotFoundError:
        value = None
    return int(str(value or DEFINITIONS[MAX_CONNECTIONS].default))


def balancer_limits(store: Any, network: Network) -> dict[str, Any]:
    """`{"max_connections": n, "keep_alive": bool}` for the router of `network` (a network
    whose offering is not recorded: the global limit, connections closed)."""
    try:
        offering = store.repository.get(network.offering_id)
    except AggregateNotFoundError:
        offering = None
    limits = offering.balancer_limits if isinstance(offering, NetworkOffering) else BalancerLimits()
    chosen = limits.max_connections
    return {
        "max_connections": chosen if chosen is not None else default_max_connections(store),
        "keep_alive": limits.keep_alive,
    }
