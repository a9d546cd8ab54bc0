"""UCS (4.3's UCS plugin): Cisco UCS managers of a zone, the blades each one has, its service
profiles, and associating a profile to a blade.

The commands talk to the UCS manager over its XML API (`stratus.ucsm`) from the server: adding a
manager logs in and records the blades it lists (a login it refuses adds nothing), profiles are
listed live, and associating a profile is a job (as in 4.3) that clones the profile for the blade,
binds the clone to it and waits until the manager reports the blade associated. The password is
a `Secret`, kept sealed in the log and shown in no answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.cloudstack.common import select_page
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import ucs as cmd
from domain.errors import DomainError, InvalidParameter
from domain.ucs import UcsManager
from domain.values import Secret
from stratus.db import contains
from stratus.ucsm import UcsError, UcsManagerClient, UcsRefused

P = ParamType
PKG = "org.apache.cloudstack.api"
MANAGER, PROFILE, BLADE = "ucsmanager", "ucsprofile", "ucsblade"


def _client(manager: UcsManager) -> UcsManagerClient:
    return UcsManagerClient(manager.url, manager.username, manager.password)


def _manager(call: Call, manager_id: str) -> UcsManager:
    """A manager still known: 431 naming `ucsmanagerid` when there is none."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM ucs_managers WHERE id = %s AND removed = 0", (manager_id,)
        ).fetchone()
    if row is None:
        raise not_found("ucsmanagerid", manager_id)
    return cmd.manager(call.store, UUID(manager_id))


def _failed(error: UcsError) -> DomainError:
    if isinstance(error, UcsRefused) and error.method == "aaaLogin":
        return DomainError(f"Cannot get cookie: {error}")
    return DomainError(f"ucs call failed: {error}")


def render_manager(row: dict[str, Any]) -> dict[str, Any]:
    body = {"id": row["id"], "url": row["url"], "zoneid": row["zone_id"]}
    return {**body, "name": row["name"]} if row["name"] else body


def render_blade(row: dict[str, Any]) -> dict[str, Any]:
    body = {"id": row["id"], "bladedn": row["dn"], "ucsmanagerid": row["manager_id"]}
    if row["profile_dn"]:
        body["profiledn"] = row["profile_dn"]
    if row["host_id"]:
        body["hostid"] = row["host_id"]
    return body


def blade_view(call: Call, blade_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute("SELECT * FROM ucs_blades WHERE id = %s", (blade_id,)).fetchone()
    if row is None:
        raise not_found("bladeid", blade_id)
    return render_blade(dict(row))


# ---- managers ----------------------------------------------------------------------------


def add_manager(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    url = args["url"]
    with call.read() as cursor:
        zone = cursor.execute(
            "SELECT id FROM zones WHERE id = %s AND removed = 0", (args["zoneid"],)
        ).fetchone()
        taken = cursor.execute(
            "SELECT 1 FROM ucs_managers WHERE url = %s AND removed = 0", (url,)
        ).fetchone()
    if zone is None:
        raise not_found("zoneid", args["zoneid"])
    if taken:
        raise InvalidParameter(
            f"duplicate UCS manager. url[{url}] is used by another UCS manager already"
        )
    client = UcsManagerClient(url, args["username"], Secret(args["password"]))
    try:
        with client.session() as session:
            blades = session.blades()
    except UcsError as error:
        raise _failed(error) from None
    command = cmd.AddUcsManager(
        manager_id=uuid4(),
        zone_id=UUID(args["zoneid"]),
        name=args["name"] or "",
        url=url,
        username=args["username"],
        password=client.password,
        blades={str(uuid4()): blade.dn for blade in blades},
    )
    call.write(cmd.add_ucs_manager, command)
    row = {"id": str(command.manager_id), "url": url, "zone_id": args["zoneid"]}
    return render_manager({**row, "name": command.name})


def list_managers(call: Call, args: dict[str, Any]) -> Listing:
    where, params = ["removed = 0"], []
    for name, column in (("id", "id"), ("zoneid", "zone_id")):
        if args[name]:
            where.append(f"{column} = %s")
            params.append(args[name])
    if args["keyword"]:
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, "ucs_managers", where, params, "created, id", args, render_manager)


def remove_manager(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    manager = _manager(call, args["ucsmanagerid"])
    call.write(cmd.remove_ucs_manager, manager.id)
    return {"success": True}


# ---- profiles and blades -----------------------------------------------------------------


def list_profiles(call: Call, args: dict[str, Any]) -> Listing:
    manager = _manager(call, args["ucsmanagerid"])
    try:
        with _client(manager).session() as session:
            dns = session.profiles()
    except UcsError as error:
        raise _failed(error) from None
    if args["keyword"]:
        dns = [dn for dn in dns if args["keyword"].lower() in dn.lower()]
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing([{"ucsdn": dn} for dn in dns[paging.offset : end]], len(dns))


def list_blades(call: Call, args: dict[str, Any]) -> Listing:
    manager = _manager(call, args["ucsmanagerid"])
    where, params = ["manager_id = %s"], [str(manager.id)]
    if args["keyword"]:
        clause, values = contains(("dn",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, "ucs_blades", where, params, "position", args, render_blade)


def associate(call: Call, args: dict[str, Any]) -> Submitted:
    manager = _manager(call, args["ucsmanagerid"])
    blade_id = UUID(args["bladeid"])
    blade = manager.blade(blade_id)
    source = args["profiledn"]

    def work() -> dict[str, Any]:
        try:
            with _client(manager).session() as session:
                profile = session.clone_profile(source, f"profile-for-blade-{blade_id}")
                session.associate(profile, blade.dn)
                session.wait_associated(blade.dn)
        except UcsError as error:
            raise _failed(error) from None
        call.write(cmd.associate_profile, cmd.AssociateProfile(manager.id, blade_id, profile))
        return {"object": BLADE, "id": str(blade_id)}

    return run_async(
        call,
        instance_type="UcsBlade",
        instance_id=blade_id,
        event_type="UCS.ASSOCIATEPROFILE",
        description=f"associating the UCS profile {source} to blade {blade.dn}",
        work=work,
    )


# ---- declarations ------------------------------------------------------------------------

MANAGER_ID = Param("ucsmanagerid", P.UUID, required=True)

COMMANDS = (
    ApiCommand(
        "addUcsManager",
        add_manager,
        (
            Param("zoneid", P.UUID, required=True),
            Param("name", P.STRING),
            Param("url", P.STRING, required=True),
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
        ),
        role=Role.ROOT_ADMIN,
        item_key=MANAGER,
        java_class=f"{PKG}.AddUcsManagerCmd",
        description="Adds a UCS manager and records the blades it has",
    ),
    ApiCommand(
        "listUcsManagers",
        list_managers,
        (Param("id", P.UUID), Param("zoneid", P.UUID)),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key=MANAGER,
        java_class=f"{PKG}.ListUcsManagerCmd",
        description="Lists UCS managers",
    ),
    ApiCommand(
        "listUcsProfiles",
        list_profiles,
        (MANAGER_ID,),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key=PROFILE,
        java_class=f"{PKG}.ListUcsProfileCmd",
        description="Lists the service profiles a UCS manager has",
    ),
    ApiCommand(
        "listUcsBlades",
        list_blades,
        (MANAGER_ID,),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key=BLADE,
        java_class=f"{PKG}.ListUcsBladeCmd",
        description="Lists the blades of a UCS manager",
    ),
    ApiCommand(
        "associateUcsProfileToBlade",
        associate,
        (
            MANAGER_ID,
            Param("profiledn", P.STRING, required=True),
            Param("bladeid", P.UUID, required=True),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key=BLADE,
        render=blade_view,
        java_class=f"{PKG}.AssociateUcsProfileToBladeCmd",
        description="Associates a copy of a service profile to a blade",
    ),
    ApiCommand(
        "removedeleteUcsManager",
        remove_manager,
        (MANAGER_ID,),
        role=Role.ROOT_ADMIN,
        shape="success",
        java_class=f"{PKG}.DeleteUcsManagerCmd",
        description="Removes a UCS manager and its blades (4.3 lists it by this name)",
    ),
)
