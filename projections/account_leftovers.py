"""What removed accounts (deleted accounts, and the accounts of deleted projects) still own,
in the order the account cleanup takes it away: first their VMs, then the disks, snapshots
and addresses those leave, then the networks and VPCs the addresses were on, then their images,
groups, SSH key pairs and VPN users, and last their default security group.

A leftover names the command that removes it and that command's parameters: an API command,
or (`REMOVE_OWNERS_GROUP`) a removal no API caller may ask for, which the cleanup issues to the
domain itself. A step of an account is started only once its earlier steps have nothing left,
as a network cannot go before its VMs and a VPC before its tiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus.db import Cursor


@dataclass(frozen=True)
class Leftover:
    account_id: str
    step: int  # leftovers of an account are removed step by step, lowest first
    command: str  # the API command that removes it
    params: tuple[tuple[str, str], ...]
    # Tried only once the cleanup interval has passed since it was first seen: a disabled
    # account's stops are retried by the periodic cleanup, not at once after they failed.
    deferred: bool = False

    @property
    def key(self) -> str:
        return f"{self.command}:{dict(self.params)}"


# The removal of a removed account's default security group (no API command may remove it).
REMOVE_OWNERS_GROUP = "removeSecurityGroupOfRemovedAccount"

# Names a leftover by its owner, for commands that take `account` and `domainid`.
_OWNER_NAMES = "a.name AS account, a.domain_id AS domainid"

# (step, command, query of rows: `account_id` and the command's parameters, extra parameters)
_KINDS: tuple[tuple[int, str, str, tuple[tuple[str, str], ...]], ...] = (
    (  # before its VMs: a group would deploy new ones; deleting it destroys its members
        0,
        "deleteAutoScaleVmGroup",
        "SELECT account_id, id FROM autoscale_vm_groups WHERE removed = 0",
        (),
    ),
    (
        0,
        "destroyVirtualMachine",
        "SELECT account_id, id FROM virtual_machines WHERE removed = 0 "
        "AND state NOT IN ('Destroyed', 'Expunging')",
        (("expunge", "true"),),
    ),
    (
        0,
        "expungeVirtualMachine",
        "SELECT account_id, id FROM virtual_machines WHERE removed = 0 AND state = 'Destroyed'",
        (),
    ),
    (
        1,
        "deleteVolume",
        "SELECT account_id, id FROM volumes WHERE removed = 0 AND kind <> 'ROOT' AND vm_id IS NULL",
        (),
    ),
    (1, "deleteSnapshot", "SELECT account_id, id FROM snapshots WHERE removed = 0", ()),
    (
        1,
        "disassociateIpAddress",
        "SELECT account_id, id FROM public_ips WHERE state = 'Allocated' AND source_nat = 0 "
        "AND is_system = 0",
        (),
    ),
    (
        2,
        "deleteNetwork",
        "SELECT account_id, id FROM networks WHERE removed = 0 AND guest_type = 'Isolated'",
        (),
    ),
    (3, "deleteVPC", "SELECT account_id, id FROM vpcs WHERE removed = 0", ()),
    (
        4,
        "deleteTemplate",
        "SELECT account_id, id FROM templates WHERE removed = 0 AND format <> 'ISO' "
        "AND template_type <> 'SYSTEM'",
        (),
    ),
    (
        4,
        "deleteIso",
        "SELECT account_id, id FROM templates WHERE removed = 0 AND format = 'ISO'",
        (),
    ),
    (
        4,
        "deleteAffinityGroup",
        "SELECT account_id, id FROM affinity_groups WHERE removed = 0",
        (),
    ),
    (
        4,
        "deleteSecurityGroup",
        "SELECT account_id, id FROM security_groups WHERE removed = 0 AND name <> 'default'",
        (),
    ),
    (
        4,
        "deleteSSHKeyPair",
        f"SELECT k.account_id, k.name AS name, {_OWNER_NAMES} FROM ssh_key_pairs AS k "
        "JOIN accounts AS a ON a.id = k.account_id WHERE k.removed = 0",
        (),
    ),
    (
        4,
        "removeVpnUser",
        f"SELECT u.account_id, u.username AS username, {_OWNER_NAMES} FROM vpn_users AS u "
        "JOIN accounts AS a ON a.id = u.account_id WHERE u.removed = 0",
        (),
    ),
    (  # last: other groups' rules may name it until they are gone
        5,
        REMOVE_OWNERS_GROUP,
        "SELECT account_id, id FROM security_groups WHERE removed = 0 AND name = 'default'",
        (),
    ),
)


def removed_accounts(cursor: Cursor) -> set[str]:
    rows = cursor.execute("SELECT id FROM accounts WHERE removed = 1").fetchall()
    return {row["id"] for row in rows}


def leftovers(cursor: Cursor) -> list[Leftover]:
    """Everything removed accounts still own, each with the command that removes it."""
    gone = removed_accounts(cursor)
    if not gone:
        return []
    found: list[Leftover] = []
    for step, command, query, extra in _KINDS:
        for row in cursor.execute(query).fetchall():
            if row["account_id"] in gone:
                named = tuple((k, str(v)) for k, v in dict(row).items() if k != "account_id")
                found.append(Leftover(str(row["account_id"]), step, command, (*named, *extra)))
    return found


def disablings_to_retry(cursor: Cursor) -> list[Leftover]:
    """Disabled accounts whose disabling could not stop all their VMs: the cleanup disables
    them again, as 4.3's account cleanup does, until they are stopped or enabled."""
    rows = cursor.execute(
        "SELECT id FROM accounts WHERE removed = 0 AND state = 'disabled' AND needs_cleanup = 1"
    ).fetchall()
    return [
        Leftover(row["id"], 0, "disableAccount", (("id", row["id"]), ("lock", "false")), True)
        for row in rows
    ]


def pending_cleanups(cursor: Cursor) -> set[str]:
    """The removed accounts whose cleanup is not done: they still own something."""
    return {leftover.account_id for leftover in leftovers(cursor)}


def first_steps(found: list[Leftover]) -> list[Leftover]:
    """The leftovers whose turn it is: each account's lowest step that has any."""
    lowest: dict[str, int] = {}
    for leftover in found:
        lowest[leftover.account_id] = min(
            lowest.get(leftover.account_id, leftover.step), leftover.step
        )
    return [f for f in found if f.step == lowest[f.account_id]]
