"""Security group (10) and VPN user (14) usage, from security group and VPN user events.

A VM is charged for each security group it is in, from joining (its deploy) to leaving (its
expunge), as CloudStack's SG.ASSIGN and SG.REMOVE meter it: the record's usage id is the group
and the VM tells memberships apart. A VPN user is charged to its account from being added to
being removed (VPN.USER.ADD, VPN.USER.REMOVE); a user belongs to no zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.security_group import SecurityGroup
from domain.usage import SECURITY_GROUP, VPN_USERS, facts_of
from domain.usage_ledger import Ledger, attrs_of
from domain.vpn import VpnUser

_Group: Any = SecurityGroup
_User: Any = VpnUser


@facts_of(_Group.Created, produces=(SECURITY_GROUP,))
def group_created(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.remember(
        e["originator_id"],
        name=e["name"],
        account_id=e["owner_account_id"],
        domain_id=e["owner_domain_id"],
    )


@facts_of(_Group.Joined)
def vm_joined(ledger: Ledger, e: Mapping[str, Any]) -> None:
    vm_id = e["vm_id"]
    attrs = attrs_of({"vm_id": vm_id})
    ledger.begin(
        SECURITY_GROUP, e["originator_id"], e["at"], attrs, sub=vm_id, zone_id=e["zone_id"]
    )


@facts_of(_Group.Left)
def vm_left(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end(SECURITY_GROUP, e["originator_id"], e["at"], sub=e["vm_id"])


@facts_of(_User.Added, produces=(VPN_USERS,))
def user_added(ledger: Ledger, e: Mapping[str, Any]) -> None:
    user_id = e["originator_id"]
    ledger.remember(
        user_id,
        name=e["username"],
        account_id=e["owner_account_id"],
        domain_id=e["owner_domain_id"],
    )
    ledger.begin(VPN_USERS, user_id, e["at"], attrs_of({}))


@facts_of(_User.AddedAgain)
def user_added_again(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.begin(VPN_USERS, e["originator_id"], e["at"], attrs_of({}))


@facts_of(_User.Revoked, _User.Dropped)
def user_removed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end(VPN_USERS, e["originator_id"], e["at"])
