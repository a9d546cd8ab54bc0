"""SSH key pairs: create (the server generates the pair), register (a public key), delete, list.

A generated pair's private key is in the create answer and nowhere else: not in the log, the
read model, a job or a later answer. Names are unique per account; an administrator acts on
another account's pairs with `account` and `domainid`, as in 4.3.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import list_scope
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    named_owner,
    resolve_owner_filters,
    select_page,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands import ssh_keys as cmd
from domain.errors import InvalidParameter
from projections.ssh_key_pairs import key_pair_by_name
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.ssh"
_TABLE = (
    "(SELECT k.*, a.domain_path AS domain_path FROM ssh_key_pairs AS k "
    "JOIN accounts AS a ON a.id = k.account_id) AS k"
)


def _render(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "fingerprint": row["fingerprint"]}


def named_key_pair(call: Call, account_id: str, name: str) -> dict[str, Any]:
    """An account's live key pair by name; 431 when it has none of that name."""
    with call.read() as cursor:
        row = key_pair_by_name(cursor, account_id, name)
    if row is None:
        raise InvalidParameter(f"A key pair with name '{name}' does not exist for this account")
    return row


def _register(call: Call, args: dict[str, Any], public_key: str) -> dict[str, Any]:
    account_id, domain_id = named_owner(call, args)
    command = cmd.RegisterKeyPair(
        uuid4(), args["name"], public_key, UUID(account_id), UUID(domain_id)
    )
    call.write(cmd.register_key_pair, command)
    return named_key_pair(call, account_id, args["name"])


def register(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return _render(_register(call, args, args["publickey"]))


def create(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """A new pair; the answer carries its private key, which is then forgotten."""
    private_key, public_key = cmd.generate_key_pair()
    return {**_render(_register(call, args, public_key)), "privatekey": private_key}


def delete(call: Call, args: dict[str, Any]) -> None:
    account_id, _domain = named_owner(call, args)
    row = named_key_pair(call, account_id, args["name"])
    call.write(lambda store, _: cmd.delete_key_pair(store, UUID(row["id"])), None)


def list_pairs(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(call.caller, prefix="k.", **resolve_owner_filters(call, args))
    where, params = ["k.removed = 0", scope.clause], list(scope.params)
    for column in ("name", "fingerprint"):
        if args[column]:
            where.append(f"k.{column} = %s")
            params.append(args[column])
    if args["keyword"]:
        clause, values = contains(("k.name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, _TABLE, where, params, "k.name, k.id", args, _render)


OWNER = (Param("account", P.STRING), Param("domainid", P.UUID), OWNER_PROJECT_ID)

COMMANDS = (
    ApiCommand(
        "createSSHKeyPair",
        create,
        (Param("name", P.STRING, required=True), *OWNER),
        item_key="keypair",
        java_class=f"{PKG}.CreateSSHKeyPairCmd",
        description="Create a new keypair and returns the private key",
    ),
    ApiCommand(
        "registerSSHKeyPair",
        register,
        (
            Param("name", P.STRING, required=True),
            Param("publickey", P.STRING, required=True, max_length=16384),
            *OWNER,
        ),
        item_key="keypair",
        java_class=f"{PKG}.RegisterSSHKeyPairCmd",
        description="Register a public key in a keypair under a certain name",
    ),
    ApiCommand(
        "deleteSSHKeyPair",
        delete,
        (Param("name", P.STRING, required=True), *OWNER),
        shape="success",
        java_class=f"{PKG}.DeleteSSHKeyPairCmd",
        description="Deletes a keypair by name",
    ),
    ApiCommand(
        "listSSHKeyPairs",
        list_pairs,
        (
            *OWNER_PARAMS,
            Param("name", P.STRING),
            Param("fingerprint", P.STRING),
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="sshkeypair",
        java_class=f"{PKG}.ListSSHKeyPairsCmd",
        description="List registered keypairs",
    ),
)
