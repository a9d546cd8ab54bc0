"""A guest network's DNS domain (4.3's `networkdomain`): checked when given, else chosen as
4.3 chooses it: the owner's (the account's for an isolated network; for a shared one, its
domain's or the nearest ancestor's), else the zone's, else cs<owner>.<guest.domain.suffix>."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from api.cloudstack.configuration import current_value
from api.dispatch import Call
from domain.errors import InvalidParameter

SUFFIX = "guest.domain.suffix"


def offers_dns(offering: dict[str, Any]) -> bool:
    services = offering["services"]
    if isinstance(services, str | None):
        services = orjson.loads(services or "{}")
    return any(name.lower() == "dns" for name in services)


def network_domain_for(
    call: Call,
    given: str | None,
    offering: dict[str, Any],
    owner: tuple[str, str],
    zone_id: str,
    *,
    shared: bool,
) -> str:
    """The DNS domain of a new network of `owner` (account id, domain id): none when its
    offering has no Dns service (naming one is then refused, as 4.3 does)."""
    if not offers_dns(offering):
        if given:
            raise InvalidParameter(
                f"Domain name change is not supported by network offering id={offering['id']}"
            )
        return ""
    if given:
        return checked_domain(given, owner[0])
    account_id, domain_id = owner
    found = _domain_chain(call, domain_id) if shared else _account_domain(call, account_id)
    return found or _zone_domain(call, zone_id) or _generated(call, account_id, zone_id)


def changed_network_domain(given: str, row: dict[str, Any]) -> str:
    """updateNetwork's `networkdomain`: checked; refused when the network's offering has no
    Dns service."""
    if not offers_dns(row):
        raise InvalidParameter(
            f"Domain name change is not supported by network offering id={row['offering_id']}"
        )
    return checked_domain(given, row["account_id"])


def checked_domain(given: str, account_id: str) -> str:
    """The name checked as 4.3 checks a network domain (the VPCs' rule)."""
    from api.cloudstack.vpcs import network_domain  # it imports the networks module

    return network_domain(given, account_id)


def _generated(call: Call, account_id: str, zone_id: str) -> str:
    suffix = current_value(call, SUFFIX, "zone", zone_id).strip(".")
    return f"cs{UUID(account_id).hex[:8]}.{suffix}"


def _account_domain(call: Call, account_id: str) -> str:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT network_domain FROM accounts WHERE id = %s", (account_id,)
        ).fetchone()
    return str(row["network_domain"] or "") if row else ""


def _domain_chain(call: Call, domain_id: str) -> str:
    """The network domain of the domain, else of its nearest ancestor that has one."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT a.network_domain FROM domains AS d JOIN domains AS a "
            "ON substr(d.path, 1, length(a.path)) = a.path "
            "WHERE d.id = %s AND a.network_domain <> '' ORDER BY length(a.path) DESC",
            (domain_id,),
        ).fetchall()
    return str(rows[0]["network_domain"]) if rows else ""


def _zone_domain(call: Call, zone_id: str) -> str:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT network_domain FROM zones WHERE id = %s", (zone_id,)
        ).fetchone()
    return str(row["network_domain"] or "") if row else ""
