"""listConfigurations and updateConfiguration over the typed configuration definitions.

A setting is set globally or, where 4.3 scopes it so, for one zone, cluster, account or primary
storage pool (`storageid`, answered with scope `storagepool`); the value in force for a pool is
its own, else its zone's where the setting also has a zone scope, else the global one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands.configuration import UpdateConfiguration, update_configuration
from domain.configuration import DEFINITIONS, GLOBAL, HIDDEN, definition
from domain.errors import InvalidParameter, NotFound
from projections.configuration import overrides
from projections.storage import pool_by_id

P = ParamType
SCOPE_PARAMS = {
    "zone": "zoneid",
    "cluster": "clusterid",
    "account": "accountid",
    "storagepool": "storageid",
}
POOL = "storagepool"


def current_value(call: Call, name: str, scope: str = GLOBAL, scope_id: str = "") -> str:
    """The value in force: the scope's override, else the global one, else the default."""
    with call.read() as cursor:
        values = overrides(cursor, name)
    if scope != GLOBAL and (name, scope, scope_id) in values:
        return values[(name, scope, scope_id)]
    return values.get((name, GLOBAL, ""), DEFINITIONS[name].default)


def pool_value(call: Call, name: str, pool_id: str, zone_id: str) -> str:
    """The value in force for a primary storage pool: the pool's own, else its zone's (for a
    setting that has a zone scope too), else the global one, else the default."""
    with call.read() as cursor:
        values = overrides(cursor, name)
    for key in ((name, POOL, pool_id), (name, "zone", zone_id), (name, GLOBAL, "")):
        if key in values:
            return values[key]
    return DEFINITIONS[name].default


def pool_overrides(call: Call, name: str) -> dict[str, str]:
    """The pools that have a value of their own for the setting: pool id -> value."""
    with call.read() as cursor:
        values = overrides(cursor, name)
    return {key[2]: v for key, v in values.items() if key[1] == POOL}


def _value(call: Call, name: str, scope: str, scope_id: str) -> str:
    if scope != POOL:
        return current_value(call, name, scope, scope_id)
    with call.read() as cursor:
        pool = pool_by_id(cursor, scope_id)
    return pool_value(call, name, scope_id, pool["zone_id"] if pool else "")


def _scope_of(call: Call, args: dict[str, Any]) -> tuple[str, str]:
    given = [(scope, args[param]) for scope, param in SCOPE_PARAMS.items() if args.get(param)]
    if len(given) > 1:
        raise InvalidParameter(
            "cannot handle multiple IDs, provide only one ID corresponding to the scope"
        )
    if not given:
        return GLOBAL, ""
    scope, scope_id = given[0]
    if scope == POOL:
        with call.read() as cursor:
            if pool_by_id(cursor, scope_id) is None:
                raise NotFound(
                    f"Unable to find storage pool by id {scope_id}", resource_ids=(scope_id,)
                )
    return scope, scope_id


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
    scope, scope_id = _scope_of(call, args)
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
        items.append(_render(name, _value(call, name, scope, scope_id), scope, scope_id))
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


def update_configuration_api(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    spec = definition(args["name"])
    if spec.category == HIDDEN:
        raise InvalidParameter(
            f"Configuration {spec.name} is the cloud's own and cannot be changed"
        )
    scope, scope_id = _scope_of(call, args)
    value = args["value"] if args["value"] is not None else spec.default
    call.write(
        update_configuration,
        UpdateConfiguration(spec.name, value, scope, UUID(scope_id) if scope_id else None),
    )
    return _render(spec.name, _value(call, spec.name, scope, scope_id), scope, scope_id)


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
            Param("storageid", P.UUID),
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
            Param("storageid", P.UUID),
        ),
        role=Role.ROOT_ADMIN,
        item_key="configuration",
        description="Updates a configuration setting",
    ),
)
