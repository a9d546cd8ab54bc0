"""What adapters do for a VPC's site-to-site VPN: hand its router one IPsec connection.

The request names the connection and its generation, both ends (`ends`) and whether it is
being dropped; the pre-shared key comes only from the sealed secrets. Applying it again, or
an older generation after a newer one, changes nothing. The result names the generation held.
"""

from __future__ import annotations

from collections.abc import Callable
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


SITE_VPN_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "configure_site_vpn": _configure,
}
