"""Ids given by others (4.3's custom ids): a new aggregate's given id, and a resource renamed by
a root administrator (`customid` on updates), after which the API takes and answers the new id
in place of the old.

An aggregate's id never changes. The custom ids read model holds each renamed resource's id and
the id it answers to now; a request's ids are turned into the resources' own ids when parsed,
and its answer's ids into the custom ones when written. The old id, and an earlier custom id,
no longer name anything.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from api.access import Role
from api.params import Param, not_found
from api.params import ParamType as P
from commands import check_fresh
from commands.custom_ids import GiveCustomId, give_custom_id
from domain.errors import InvalidParameter, PermissionDenied
from projections.custom_ids import CustomIdsProjection, custom_ids

# The `customid` of a command whose resource the dispatcher renames once the command has done
# its work (its `id`, or the id of what it creates). The dispatcher knows it by identity:
# deployVirtualMachine declares a `customid` of its own, the new VM's given id.
CUSTOM_ID = Param("customid", P.STRING)

_UUID_FORMAT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_QUOTED_UUID = re.compile(rb'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')


def given_id(value: str | None) -> UUID | None:
    """An id given for a new aggregate by another system (4.3's custom ids): a UUID in its
    lower-case form, so the id answered is the one given. Its freshness is the command's."""
    if value is None:
        return None
    if not _UUID_FORMAT.fullmatch(value):
        raise InvalidParameter(f"UUID: {value} doesn't follow the UUID format")
    return UUID(value)


def custom_id(call: Any, value: str | None) -> UUID | None:
    """A custom id a root administrator asks for: a UUID in its lower-case form that nothing in
    the cloud has had (431 otherwise); anyone else is refused, as 4.3 words it."""
    if value is None:
        return None
    if call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied(
            "Please check your permissions, you are not allowed to create/update custom id"
        )
    wanted = given_id(value)
    check_fresh(call.store, wanted)
    return wanted


def wanted_rename(call: Any, params: tuple[Param, ...], args: dict[str, Any]) -> UUID | None:
    """The custom id a command that renames its resource is asked for, checked before the
    command does anything (None: none asked for, or the command renames nothing)."""
    if not any(spec is CUSTOM_ID for spec in params):
        return None
    return custom_id(call, args["customid"])


@dataclass
class Renames:
    """The renamed resources: their own ids to the custom ids they answer to, and back."""

    custom: dict[str, str] = field(default_factory=dict)
    own: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, custom: dict[str, str]) -> Renames:
        return cls(custom, {new: old for old, new in custom.items()})

    def add(self, resource_id: str, new_id: str) -> None:
        earlier = self.custom.get(resource_id)
        if earlier is not None:
            del self.own[earlier]
        self.custom[resource_id] = new_id
        self.own[new_id] = resource_id


# The renames last read, per runner, with the position of the custom ids read model they were
# read at: while this process applies the read models, a request reads them only after a change.
_READ: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, str]]] = weakref.WeakKeyDictionary()


def renames(call: Any) -> Renames:
    """The renamed resources as the read models show them now: read once per change of the
    custom ids read model where this process applies it, else once per request (an
    administrator renames few: one small read)."""
    runner = call.runtime.runner
    at = runner.known(CustomIdsProjection.name) if runner.running else -1
    kept = _READ.get(runner)
    if at >= 0 and kept is not None and kept[0] == at:
        return Renames.of(dict(kept[1]))
    with call.read() as cursor:
        found = custom_ids(cursor)
    if at >= 0:
        _READ[runner] = (at, found)
    return Renames.of(dict(found))


def own_ids(specs: tuple[Param, ...], args: dict[str, Any], known: Renames) -> None:
    """Each id parameter's value as the resource's own id, in place: a custom id becomes the id
    it stands for, and a renamed resource's former id names nothing (refused as 4.3 refuses an
    unknown id). Ids inside map parameters are taken as given."""
    if not known.custom:
        return
    for spec in specs:
        value = args.get(spec.name)
        if value is None:
            continue
        if spec.type is P.UUID:
            args[spec.name] = _own(spec.name, value, known)
        elif spec.element is P.UUID:
            args[spec.name] = [_own(spec.name, item, known) for item in value]


def _own(name: str, value: str, known: Renames) -> str:
    if value in known.custom:
        raise not_found(name, value)
    return known.own.get(value, value)


def answered(body: bytes, known: Renames) -> bytes:
    """An answer's JSON with every renamed resource's id (a whole string value) in its custom
    form; nothing to do while no resource is renamed."""
    if not known.custom:
        return body
    quoted = {f'"{old}"'.encode(): f'"{new}"'.encode() for old, new in known.custom.items()}
    return _QUOTED_UUID.sub(lambda match: quoted.get(match.group(), match.group()), body)


def rename(call: Any, kind: str, resource_id: str, new_id: UUID, known: Renames) -> None:
    """Give `resource_id` (a `kind`, as the API names it) its custom id, and answer with it."""
    call.write(give_custom_id, GiveCustomId(new_id, UUID(resource_id), kind))
    known.add(resource_id, str(new_id))
