"""What adapters do for a VPC's site-to-site VPN: hand its router one IPsec connection, and
check which of its tunnels are up.

The request names the connection and its generation, both ends (`ends`) and whether it is
being dropped; the pre-shared key comes only from the sealed secrets. Applying it again, or
an older generation after a newer one, changes nothing. The result names the generation held.

A check (`check_site_vpns`, 4.3's CheckS2SVpnConnections) names far gateways and answers
those whose tunnel is up. Two connections make a tunnel when each is the other's mirror: each
one's far address and networks are the other's near ones, with one pre-shared key (compared
by digest) and the same IKE and ESP policies, and at least one of them initiates (is not
passive). That is what the drivers that can see both ends (`tunnel_up`) decide by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import IPv4Network
from typing import Any

from adapters import Hypervisor, SiteVpnConfig
from adapters.requests import BadRequest, count, name, param

ENDS = (
    "public_ip",
    "vpc_cidr",
    "peer_ip",
    "peer_cidrs",
    "ike_policy",
    "esp_policy",
    "ike_lifetime",
    "esp_lifetime",
    "dpd",
    "passive",
)


def _configure(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    secrets = params.get("secrets")
    if not isinstance(secrets, dict) or not isinstance(secrets.get("psk"), str):
        raise BadRequest("the request carries no sealed pre-shared key")
    ends = param(params, "ends")
    if not isinstance(ends, dict) or any(key not in ends for key in ENDS):
        raise BadRequest(f"parameter 'ends' must be a mapping of {', '.join(ENDS)}")
    connection = SiteVpnConfig(
        connection_id=str(param(params, "connection_id")),
        generation=count(params, "generation"),
        ends={key: ends[key] for key in ENDS},
        psk=secrets["psk"],
        removing=bool(params.get("removing", False)),
    )
    held = driver.configure_site_vpn(name(params), connection)
    return {"generation": held, "connection_id": connection.connection_id}


def _networks(cidrs: str) -> frozenset[IPv4Network]:
    return frozenset(IPv4Network(c.strip(), strict=False) for c in cidrs.split(",") if c.strip())


def mirrors(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Whether two held connections (their ends and `psk_sha256`) are the two sides of one
    tunnel that comes up."""
    try:
        return (
            mine["peer_ip"] == theirs["public_ip"]
            and theirs["peer_ip"] == mine["public_ip"]
            and _networks(mine["peer_cidrs"]) == _networks(theirs["vpc_cidr"])
            and _networks(theirs["peer_cidrs"]) == _networks(mine["vpc_cidr"])
            and mine["psk_sha256"] == theirs["psk_sha256"]
            and mine["ike_policy"] == theirs["ike_policy"]
            and mine["esp_policy"] == theirs["esp_policy"]
            and not (mine["passive"] and theirs["passive"])
        )
    except (KeyError, TypeError, ValueError):
        return False


def tunnel_up(peer: str, own: Iterable[dict[str, Any]], others: Iterable[dict[str, Any]]) -> bool:
    """Whether a router holding `own` connections has its tunnel to `peer` up, the other
    routers in sight holding `others`."""
    theirs = list(others)
    return any(
        mine.get("peer_ip") == peer and any(mirrors(mine, other) for other in theirs)
        for mine in own
    )


def _check(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    peers = param(params, "peers")
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise BadRequest("parameter 'peers' must be a list of addresses")
    connected = driver.check_site_vpns(name(params), tuple(peers))
    return {
        "host_id": params.get("host_id"),
        "checked": peers,
        "connected": [p for p in peers if p in connected],
    }


SITE_VPN_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "configure_site_vpn": _configure,
    "check_site_vpns": _check,
}
