"""The display flag: whether a resource's end users are shown it (4.3's `fordisplay`,
`displaynetwork`, and the VM's and volume's own `displayvm`, `displayvolume`).

One rule for every resource that carries it: the flag is true unless a root administrator
says otherwise; only a root administrator may set it or list by it (others are refused as
4.3 refuses them, 531); and lists leave hidden resources out for every other caller. VMs and
volumes keep the flag in their own events; every other resource keeps it in its
`ResourceDisplay` (domain/resource_display.py), set here before the resource is made wherever
its id is known then (so no list shows a resource that is to be hidden), else in the job that
makes it (a public address, chosen by the job).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.dispatch import Call
from api.params import Param, ParamType
from commands import resource_display as cmd
from domain.errors import PermissionDenied
from projections.resource_display import hidden_among, hidden_sql, shown_sql

# On a create: the new resource is shown unless told (so `true` asks for nothing).
FOR_DISPLAY = Param("fordisplay", ParamType.BOOLEAN, default=True)
# On an update (unchanged when absent) and a list (no filter when absent).
FOR_DISPLAY_CHANGE = Param("fordisplay", ParamType.BOOLEAN)


def root_only(call: Call, name: str) -> None:
    """Refuse a display parameter from anyone but a root administrator."""
    if call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied(f"Parameter {name} can only be specified by a Root Admin")


def asked(call: Call, args: dict[str, Any], name: str = "fordisplay") -> bool | None:
    """The flag a create or update asks for (None: left as it is), checked: a value other
    than the parameter's default is a root administrator's only (a create's `true` is every
    resource's default and passes from anyone, as `displayvm` does)."""
    value: bool | None = args[name]
    default = next(spec.default for spec in call.command.specs if spec.name == name)
    if value is not None and value != default:
        root_only(call, name)
    return value


def set_display(call: Call, resource_type: str, resource_id: Any, display: bool) -> None:
    """Record the resource's flag and wait until lists show it."""
    call.write(cmd.set_display, cmd.SetDisplay(resource_type, UUID(str(resource_id)), display))


def new(call: Call, args: dict[str, Any], name: str = "fordisplay") -> bool:
    """A create's flag, checked: shown unless a root administrator hides the new resource."""
    return asked(call, args, name) is not False


def record_new(call: Call, resource_type: str, resource_id: Any, display: bool) -> None:
    """A new resource's flag: recorded when it hides the resource, or when its id was hidden
    before (an id that comes again, as a VPC's VPN gateway's or a public address allocated
    again, does not keep its forerunner's flag)."""
    if not display or str(resource_id) in hidden(call, [str(resource_id)]):
        set_display(call, resource_type, resource_id, display)


def hide_new(
    call: Call, args: dict[str, Any], resource_type: str, resource_id: Any, name: str = "fordisplay"
) -> None:
    """Before a create whose id is known: its flag is recorded first, so no list shows a
    resource to be hidden even while it is being made."""
    record_new(call, resource_type, resource_id, new(call, args, name))


def change(
    call: Call, args: dict[str, Any], resource_type: str, resource_id: Any, name: str = "fordisplay"
) -> None:
    """An update's flag, when given (a root administrator's only)."""
    value = asked(call, args, name)
    if value is not None:
        set_display(call, resource_type, resource_id, value)


def listed_flag(call: Call, wanted: bool | None, name: str) -> bool | None:
    """Which resources a list keeps by the flag (None: all): any caller but a root
    administrator sees shown resources only, and may not filter by the flag (531); a root
    administrator sees all, or those the filter `wanted` asks for."""
    if call.caller.role != Role.ROOT_ADMIN:
        if wanted is not None:
            root_only(call, name)
        return True
    return wanted


def condition(call: Call, wanted: bool | None, name: str, shown: str, hidden: str) -> str | None:
    """`listed_flag` as the SQL condition a list adds (`shown`/`hidden`: SQL true when a row
    is), or None for no condition."""
    keep = listed_flag(call, wanted, name)
    if keep is None:
        return None
    return shown if keep else hidden


def clauses(
    call: Call, args: dict[str, Any], column: str, name: str = "fordisplay"
) -> tuple[str, ...]:
    """The flag's condition (none or one) for a list of resources whose id is in `column`."""
    clause = condition(call, args.get(name), name, shown_sql(column), hidden_sql(column))
    return (clause,) if clause else ()


def narrow(
    call: Call, args: dict[str, Any], column: str, where: list[str], name: str = "fordisplay"
) -> None:
    """Add the flag's condition to a list of resources whose id is in `column`."""
    where.extend(clauses(call, args, column, name))


def kept(
    call: Call, args: dict[str, Any], items: list[dict[str, Any]], name: str = "fordisplay"
) -> list[dict[str, Any]]:
    """`listed_flag` applied to answers already rendered with their `fordisplay`."""
    keep = listed_flag(call, args.get(name), name)
    return items if keep is None else [item for item in items if item["fordisplay"] is keep]


def shown_column(column: str) -> str:
    """A SELECT column answering whether the resource whose id is in `column` is shown, as
    `shown` (read it with `shown(row)`)."""
    return f"{shown_sql(column)} AS shown"


def shown(row: dict[str, Any]) -> bool:
    """Whether a row selected with `shown_column` (or passed through `mark`) is shown to end
    users."""
    return bool(row["shown"])


def mark(call: Call, rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """The rows, each told whether the resource whose id is `row[key]` is shown (`shown`)."""
    hidden_ids = hidden(call, [row[key] for row in rows])
    for row in rows:
        row["shown"] = row[key] not in hidden_ids
    return rows


def hidden(call: Call, ids: list[str]) -> set[str]:
    """Which of these resources are hidden from their end users."""
    with call.read() as cursor:
        return hidden_among(cursor, ids)
