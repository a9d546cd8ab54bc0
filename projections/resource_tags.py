"""The resource tags read model (listTags, the `tags` every tagged resource shows, and the
`tags` filter of their lists) and its queries.

A resource's tags go with it: the events that remove a taggable resource for good (a VM
expunged, a volume, template, snapshot, network, rule, group, VPN, zone or offering deleted, a
public address released, a VPC, a static route or an ACL item removed, an ACL list deleted
with its items) delete its rows here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.infrastructure import Container
from domain.network import Network
from domain.network_public_ip import PublicIp
from domain.network_rules import NetworkRules
from domain.offering import Offering
from domain.project import Project
from domain.resource_tags import ResourceTags
from domain.security_group import SecurityGroup
from domain.snapshot import Snapshot
from domain.template import Template
from domain.vm import VirtualMachine, nic_id
from domain.vm_snapshot import VMSnapshot
from domain.volume import Volume
from domain.vpc import Vpc
from domain.vpn import RemoteAccessVpn
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

# Events made by the library's decorator: type checkers cannot see them.
TAGS: Any = ResourceTags
VM: Any = VirtualMachine
VOLUME: Any = Volume
TEMPLATE: Any = Template
SNAPSHOT: Any = Snapshot
VM_SNAPSHOT: Any = VMSnapshot
NETWORK: Any = Network
RULES: Any = NetworkRules
GROUP: Any = SecurityGroup
PUBLIC: Any = PublicIp
VPN: Any = RemoteAccessVpn
CONTAINER: Any = Container
OFFERING: Any = Offering
VPC: Any = Vpc
PROJECT: Any = Project


class ResourceTagsProjection(Projection):
    """Keeps `resource_tags`, and `resource_tag_owners` (whose resource each aggregate tags)."""

    name = "resource_tags"
    summary = "resource tags"
    tables = ("resource_tags", "resource_tag_owners")

    @on(TAGS.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.resource_tag_owners} (id, resource_type, resource_id, account_id, "
            "domain_id, parent_id) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.resource_type,
                str(e.resource_id),
                str(e.account_id),
                str(e.domain_id),
                _text(getattr(e, "parent_id", None)),
            ),
        )

    @on(TAGS.Tagged)
    def tagged(self, e: Any, c: Cursor, t: Tables) -> None:
        for key, value in e.tags.items():  # the owner's row is copied, never read back
            c.execute(
                f"INSERT INTO {t.resource_tags} (resource_type, resource_id, tag_key, value, "
                "customer, account_id, domain_id, created) SELECT o.resource_type, "
                "o.resource_id, %s, %s, %s, o.account_id, o.domain_id, %s "
                f"FROM {t.resource_tag_owners} AS o WHERE o.id = %s",
                (key, value, e.customer, e.timestamp.isoformat(), str(e.originator_id)),
            )

    @on(TAGS.Untagged)
    def untagged(self, e: Any, c: Cursor, t: Tables) -> None:
        for key in e.keys:
            c.execute(
                f"DELETE FROM {t.resource_tags} WHERE tag_key = %s AND resource_id = "
                f"(SELECT resource_id FROM {t.resource_tag_owners} WHERE id = %s)",
                (key, str(e.originator_id)),
            )

    @on(VM.Expunged)
    def vm_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        """The VM's tags go, and its NICs' with them."""
        vm_id = str(e.originator_id)
        c.execute(
            f"DELETE FROM {t.resource_tags} WHERE resource_id = %s OR resource_id IN "
            f"(SELECT resource_id FROM {t.resource_tag_owners} WHERE parent_id = %s)",
            (vm_id, vm_id),
        )

    @on(VM.NicUnplugged)
    def nic_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        nic = nic_id(e.originator_id, e.network_id)
        c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (nic,))

    @on(
        VOLUME.Destroyed,
        TEMPLATE.Deleted,
        SNAPSHOT.Destroyed,
        VM_SNAPSHOT.Destroyed,
        NETWORK.Deleted,
        GROUP.Deleted,
        PUBLIC.Disassociated,
        VPN.Removed,
        CONTAINER.Removed,
        OFFERING.Deleted,
        PROJECT.Deleted,
    )
    def resource_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (str(e.originator_id),))

    @on(RULES.RuleRemoved)
    def rule_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (str(e.rule_id),))

    @on(VPC.ItemRemoved)
    def acl_item_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (str(e.item_id),))

    @on(VPC.PathRemoved)
    def route_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (str(e.path_id),))

    @on(VPC.AclListDeleted)
    def acl_list_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        for item_id in e.item_ids:
            c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (str(item_id),))

    @on(VPC.Deleted)
    def vpc_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        for resource_id in (e.originator_id, *e.item_ids):
            c.execute(f"DELETE FROM {t.resource_tags} WHERE resource_id = %s", (str(resource_id),))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# ---- queries --------------------------------------------------------------------------------

# What a tag shows beside its own row: its owner's names.
TAG_ROWS = (
    "SELECT g.*, a.name AS account_name, a.domain_name AS domain_name FROM resource_tags AS g "
    "JOIN accounts AS a ON a.id = g.account_id"
)


def tags_of(cursor: Cursor, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The tags of these resources (ids are unique across types), by resource id, by key."""
    if not ids:
        return {}
    clause, params = in_list(cursor, "g.resource_id", list(ids))
    found: dict[str, list[dict[str, Any]]] = {}
    rows = cursor.execute(f"{TAG_ROWS} WHERE {clause} ORDER BY g.tag_key", params).fetchall()
    for row in rows:
        found.setdefault(row["resource_id"], []).append(dict(row))
    return found


def tag_match(
    column: str, resource_type: str, pairs: Sequence[tuple[str, str]]
) -> tuple[str, list]:
    """SQL keeping the resources (their id in `column`) that carry any of these key/value tags,
    as 4.3 matches a list's `tags` filter."""
    either = " OR ".join(["(m.tag_key = %s AND m.value = %s)"] * len(pairs))
    params: list[Any] = [resource_type]
    for key, value in pairs:
        params += [key, value]
    return (
        f"EXISTS (SELECT 1 FROM resource_tags AS m WHERE m.resource_id = {column} "
        f"AND m.resource_type = %s AND ({either}))",
        params,
    )


READ_MODELS = (ResourceTagsProjection,)
