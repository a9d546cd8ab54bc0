"""What removed accounts (deleted accounts, and the accounts of deleted projects) still own,
in the order the account cleanup takes it away: first their VMs, then the disks, snapshots
and addresses those leave, then the networks and VPCs the addresses were on, then their images
and groups.

A leftover names the API command that removes it and that command's parameters; a step of an
account is started only once its earlier steps have nothing left, as a network cannot go
before its VMs and a VPC before its tiers.
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

    @property
    def key(self) -> str:
        return f"{self.command}:{dict(self.params)}"


# (step, command, id parameter, query of (account_id, id) rows, extra parameters)
_KINDS: tuple[tuple[int, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    (  # before its VMs: a group would deploy new ones; deleting it destroys its members
        0,
        "deleteAutoScaleVmGroup",
        "id",
        "SELECT account_id, id FROM autoscale_vm_groups WHERE removed = 0",
        (),
    ),
    (
        0,
        "destroyVirtualMachine",
        "id",
        "SELECT account_id, id FROM virtual_machines WHERE removed = 0 "
        "AND state NOT IN ('Destroyed', 'Expunging')",
        (("expunge", "true"),),
    ),
    (
        0,
        "expungeVirtualMachine",
        "id",
        "SELECT account_id, id FROM virtual_machines WHERE removed = 0 AND state = 'Destroyed'",
        (),
    ),
    (
        1,
        "deleteVolume",
        "id",
        "SELECT account_id, id FROM volumes WHERE removed = 0 AND kind <> 'ROOT' AND vm_id IS NULL",
        (),
    ),
    (1, "deleteSnapshot", "id", "SELECT account_id, id FROM snapshots WHERE removed = 0", ()),
    (
        1,
        "disassociateIpAddress",
        "id",
        "SELECT account_id, id FROM public_ips WHERE state = 'Allocated' AND source_nat = 0 "
        "AND is_system = 0",
        (),
    ),
    (
        2,
        "deleteNetwork",
        "id",
        "SELECT account_id, id FROM networks WHERE removed = 0 AND guest_type = 'Isolated'",
        (),
    ),
    (3, "deleteVPC", "id", "SELECT account_id, id FROM vpcs WHERE removed = 0", ()),
    (
        4,
        "deleteTemplate",
        "id",
        "SELECT account_id, id FROM templates WHERE removed = 0 AND format <> 'ISO' "
        "AND template_type <> 'SYSTEM'",
        (),
    ),
    (
        4,
        "deleteIso",
        "id",
        "SELECT account_id, id FROM templates WHERE removed = 0 AND format = 'ISO'",
        (),
    ),
    (
        4,
        "deleteAffinityGroup",
        "id",
        "SELECT account_id, id FROM affinity_groups WHERE removed = 0",
        (),
    ),
    (
        4,
        "deleteSecurityGroup",
        "id",
        "SELECT account_id, id FROM security_groups WHERE removed = 0 AND name <> 'default'",
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
    for step, command, id_param, query, extra in _KINDS:
        for row in cursor.execute(query).fetchall():
            if row["account_id"] in gone:
                params = ((id_param, str(row["id"])), *extra)
                found.append(Leftover(str(row["account_id"]), step, command, params))
    return found


def first_steps(found: list[Leftover]) -> list[Leftover]:
    """The leftovers whose turn it is: each account's lowest step that has any."""
    lowest: dict[str, int] = {}
    for leftover in found:
        lowest[leftover.account_id] = min(
            lowest.get(leftover.account_id, leftover.step), leftover.step
        )
    return [f for f in found if f.step == lowest[f.account_id]]
