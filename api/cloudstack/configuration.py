"""listConfigurations and updateConfiguration over the typed configuration definitions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.unbuilt import POOL_SETTING_ID
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands.configuration import UpdateConfiguration, update_configuration
from domain.configuration import DEFINITIONS, GLOBAL, HIDDEN, definition
from domain.errors import InvalidParameter
from projections.configuration import overrides

P = ParamType
SCOPE_PARAMS = {"zone": "zoneid", "cluster": "clusterid", "account": "accountid"}


def current_value(call: Call, name: str, scope: str = GLOBAL, scope_id: str = "") -> str:
    """The value in force: the scope's override, else the global one, else the default."""
    with call.read() as cursor:
        values = overrides(cursor)
    if scope != GLOBAL and (name, scope, scope_id) in values:
        return values[(name, scope, scope_id)]
    return values.get((name, GLOBAL, ""), DEFINITIONS[name].default)


def _scope_of(args: dict[str, Any]) -> tuple[str, str]:
    given = [(scope, args[param]) for scope, param in SCOPE_PARAMS.items() if args.get(param)]
    if len(given) > 1:
        raise InvalidParameter("Specify at most one of zoneid, clusterid and accountid")
    return given[0] if given else (GLOBAL, "")


def _render(name: str, value: str, scope: str, scope_id: str) -> dict[str, Any]:
    spec = DEFINITIONS[name]
    body: dict[str, Any] = {
        "name": name,
        "value": "********" if spec.kind == "secret" and value else value,
        "category": spec.category,
        "description": spec.description,
    }
    if scope != GLOBAL:
        body["scope"], body["id"] = scope, scope_id
    return body


def list_configurations(call: Call, args: dict[str, Any]) -> Listing:
    scope, scope_id = _scope_of(args)
    items = []
    for name in sorted(DEFINITIONS):
        spec = DEFINITIONS[name]
        if spec.category == HIDDEN:
            continue
        if args["name"] and args["name"] not in name:
            continue
        if args["category"] and args["category"].lower() != spec.category.lower():
            continue
        if args.get("keyword") and args["keyword"] not in name:
            continue
        if scope != GLOBAL and scope not in spec.scopes:
            continue
        items.append(_render(name, current_value(call, name, scope, scope_id), scope, scope_id))
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


def update_configuration_api(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    spec = definition(args["name"])
    if spec.category == HIDDEN:
        raise InvalidParameter(
            f"Configuration {spec.name} is the cloud's own and cannot be changed"
        )
    scope, scope_id = _scope_of(args)
    value = args["value"] if args["value"] is not None else spec.default
    call.write(
        update_configuration,
        UpdateConfiguration(spec.name, value, scope, UUID(scope_id) if scope_id else None),
    )
    return _render(spec.name, current_value(call, spec.name, scope, scope_id), scope, scope_id)


COMMANDS = (
    ApiCommand(
        "listConfigurations",
        list_configurations,
        (
            Param("name", P.STRING),
            Param("category", P.STRING),
            Param("zoneid", P.UUID),
            Param("clusterid", P.UUID),
            Param("accountid", P.UUID),
            POOL_SETTING_ID,
        ),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key="configuration",
        description="Lists configuration settings and their values",
    ),
    ApiCommand(
        "updateConfiguration",
        update_configuration_api,
        (
            Param("name", P.STRING, required=True),
            Param("value", P.STRING, max_length=4096),
            Param("zoneid", P.UUID),
            Param("clusterid", P.UUID),
            Param("accountid", P.UUID),
            POOL_SETTING_ID,
        ),
        role=Role.ROOT_ADMIN,
        item_key="configuration",
        description="Updates a configuration setting",
    ),
)
