"""The VPN customer gateways read model (listVpnCustomerGateways); no pre-shared key in it."""

from __future__ import annotations

from typing import Any

from domain.vpn_customer_gateway import VpnCustomerGateway
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

GATEWAY: Any = VpnCustomerGateway  # events made by the library's decorator


def _described(e: Any) -> tuple[Any, ...]:
    return (
        e.name,
        e.gateway,
        e.cidrs,
        e.ike_policy,
        e.esp_policy,
        e.ike_lifetime,
        e.esp_lifetime,
        int(e.dpd),
    )


class VpnCustomerGatewaysProjection(Projection):
    """One row per customer gateway."""

    name = "vpn_customer_gateways"
    summary = "site-to-site VPN customer gateways"
    tables = ("vpn_customer_gateways",)

    @on(GATEWAY.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vpn_customer_gateways} (id, account_id, domain_id, name, gateway, "
            "cidr_list, ike_policy, esp_policy, ike_lifetime, esp_lifetime, dpd, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.domain_id),
                *_described(e),
                e.timestamp.isoformat(),
            ),
        )

    @on(GATEWAY.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.vpn_customer_gateways} SET name = %s, gateway = %s, cidr_list = %s, "
            "ike_policy = %s, esp_policy = %s, ike_lifetime = %s, esp_lifetime = %s, dpd = %s "
            "WHERE id = %s",
            (*_described(e), str(e.originator_id)),
        )

    @on(GATEWAY.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.vpn_customer_gateways} SET removed = 1 WHERE id = %s",
            (str(e.originator_id),),
        )


READ_MODELS = (VpnCustomerGatewaysProjection,)
