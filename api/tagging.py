"""Resource tags on other commands' answers and lists: the one `tags` filter every tagged list
takes, and the one place that puts a resource's tags on its rendered answer.

The lists apply `tag_filter` to their own query (one clause, so count and paging stay right);
the dispatcher and the job results call `with_tags` on what a command answers, keyed by the
object's name in the answer, so a family renders `tags` by doing nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.params import Param, ParamType
from domain.errors import InvalidParameter
from projections.resource_tags import tag_match, tags_of

# A tagged list's filter: `tags[0].key=k&tags[0].value=v`, any pair matching (as in 4.3).
TAGS_FILTER = Param("tags", ParamType.MAP)

# The objects whose answers show their tags, by the key they are answered under, and the 4.3
# resource type of each. Offerings are not among them: their `tags` are storage tags.
ANSWERED = {
    "virtualmachine": "UserVm",
    "template": "Template",
    "iso": "ISO",
    "volume": "Volume",
    "snapshot": "Snapshot",
    "network": "Network",
    "securitygroup": "SecurityGroup",
    "publicipaddress": "PublicIpAddress",
    "ipaddress": "PublicIpAddress",
    "portforwardingrule": "PortForwardingRule",
    "firewallrule": "FirewallRule",
    "loadbalancerrule": "LoadBalancer",
    "loadbalancer": "LoadBalancer",
    "zone": "Zone",
    "vpc": "Vpc",
    "project": "Project",
    "staticroute": "StaticRoute",
    "networkacl": "NetworkACL",
}


def pairs(groups: list[dict[str, str]] | None, *, value_needed: bool = True) -> dict[str, Any]:
    """`tags[i].key=k&tags[i].value=v` groups as {key: value}; a group without a value maps
    to None when `value_needed` is off (deleteTags: the key whatever its value)."""
    found: dict[str, Any] = {}
    for group in groups or ():
        lowered = {name.lower(): value for name, value in group.items()}
        if set(lowered) - {"key", "value"} or not lowered.get("key"):
            raise InvalidParameter("Each tag is given as tags[n].key=<key>&tags[n].value=<value>")
        value = lowered.get("value")
        if value_needed and not value:
            raise InvalidParameter(f"Value for the key {lowered['key']} is either null or empty")
        if lowered["key"] in found and found[lowered["key"]] != value:
            raise InvalidParameter(f"The key {lowered['key']} is given twice")
        found[lowered["key"]] = value or None
    return found


# Set in a list's arguments once its query took the `tags` filter (see `unapplied`).
_APPLIED = "tags applied"


def narrow(
    args: dict[str, Any], resource_type: str, column: str, where: list[str], params: list[Any]
) -> None:
    """Add a list's `tags` filter, if one is given, to its query: a clause on `where` over the
    listed resources' id `column`, its values on `params`."""
    wanted = pairs(args.get("tags"))
    args[_APPLIED] = True
    if wanted:
        clause, values = tag_match(column, resource_type, list(wanted.items()))
        where.append(clause)
        params += values


def unapplied(args: dict[str, Any]) -> bool:
    """Whether a `tags` filter was given to a list whose query did not take it: refused, never
    answered unfiltered (a list new to `tags` that forgets `narrow`)."""
    return bool(args.get("tags")) and not args.get(_APPLIED)


def render_tag(row: dict[str, Any]) -> dict[str, Any]:
    """One tag as 4.3 answers it (listTags, and each resource's `tags`)."""
    return {
        "key": row["tag_key"],
        "value": row["value"],
        "resourcetype": row["resource_type"],
        "resourceid": row["resource_id"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "customer": row["customer"],
    }


def rendered_tags(cursor: Any, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The rendered tags of these resources, by resource id."""
    return {key: [render_tag(row) for row in rows] for key, rows in tags_of(cursor, ids).items()}


def with_tags(call: Any, item_key: str, items: list[Any]) -> None:
    """Put each answered object's current tags on it, in place, when objects of `item_key`
    carry tags. Items kept as JSON text (`orjson.Fragment`) have them spliced in already."""
    if item_key not in ANSWERED:
        return
    ids = [item["id"] for item in items if isinstance(item, dict) and "id" in item]
    if not ids:
        return
    with call.read() as cursor:
        found = rendered_tags(cursor, ids)
    for index, item in enumerate(items):
        if isinstance(item, dict) and "id" in item:
            items[index] = {**item, "tags": found.get(item["id"], [])}
