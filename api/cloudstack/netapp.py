"""NetApp (4.3's NetApp plugin): pools of filer volumes, and iSCSI LUNs allocated from a pool.

Every command is synchronous, as in 4.3, and talks to the filer over ONTAPI (`stratus.ontapi`)
from the request: the filer does the work first, and what it did is recorded after, so a filer
that refuses leaves nothing recorded. A volume's filer password is taken as a `Secret`, kept
sealed in the log and shown in no answer.

4.3 names a LUN `lun-` and its number in six digits; the LUN commands take that name (4.3 calls
the parameter `path` in destroyLunOnFiler and dissociateLun, and its answer to createLunOnFiler
puts the name under `path` too).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands import netapp as cmd
from domain.errors import DomainError, InvalidParameter, ResourceInUse
from domain.netapp import NetappStorage, VolumeSpec, lun_name, lun_number
from domain.values import Secret
from stratus import ontapi
from stratus.ontapi import GIB, Filer, FilerError, FilerRefused, SnapshotSchedule

P = ParamType
PKG = "com.cloud.api.commands.netapp"
log = logging.getLogger(__name__)
ROLE = (
    "root administrators only: the filers are the cloud's shared storage, and 4.3, which lets "
    "every account call these, lets any user destroy the volumes and LUNs others use"
)


def _failed(what: str, error: FilerError) -> DomainError:
    return DomainError(f"{what}: {error}")


def _storage(call: Call) -> NetappStorage:
    return cmd.inventory(call.store)


def _filer(spec: VolumeSpec) -> Filer:
    return Filer(spec.address, spec.username, spec.password)


# ---- pools -------------------------------------------------------------------------------


def create_pool(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    command = cmd.CreatePool(uuid4(), args["name"], args["algorithm"])
    call.write(cmd.create_pool, command)
    return {"id": str(command.pool_id), "name": command.name, "algorithm": command.algorithm}


def modify_pool(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    call.write(cmd.modify_pool, cmd.ModifyPool(args["poolname"], args["algorithm"]))
    return {"success": True}


def delete_pool(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    call.write(cmd.delete_pool, args["poolname"])
    return {"success": True}


def list_pools(call: Call, args: dict[str, Any]) -> Listing:
    with call.read() as cursor:
        rows = cursor.execute("SELECT * FROM netapp_pools ORDER BY position").fetchall()
    pools = [{"id": r["id"], "name": r["name"], "algorithm": r["algorithm"]} for r in rows]
    return Listing(pools, len(pools))


# ---- volumes -----------------------------------------------------------------------------


def _volume_spec(args: dict[str, Any]) -> VolumeSpec:
    if args["size"] <= 0:
        raise InvalidParameter("Please specify a valid volume size in Gb")
    return VolumeSpec(
        address=args["ipaddress"],
        aggregate=args["aggregatename"],
        name=args["volumename"],
        pool=args["poolname"],
        size=f"{args['size']}g",
        username=args["username"],
        password=Secret(args["password"]),
        snapshot_policy=args["snapshotpolicy"] or "",
        snapshot_reservation=args["snapshotreservation"] or 0,
    )


def _make_volume(filer: Filer, spec: VolumeSpec, reserve: int | None) -> None:
    """The volume on the filer with its snapshot reserve and schedule; a volume made before a
    later step failed is destroyed again, as 4.3 does."""
    made = False
    try:
        filer.create_volume(spec.name, spec.aggregate, spec.size)
        made = True
        if reserve is not None:
            filer.set_snapshot_reserve(spec.name, reserve)
        if spec.snapshot_policy:
            filer.set_snapshot_schedule(spec.name, SnapshotSchedule.parse(spec.snapshot_policy))
    except FilerError as error:
        if made:
            _destroy_quietly(filer, spec.name)
        raise _failed("Unable to create volume", error) from None


def _destroy_quietly(filer: Filer, name: str) -> None:
    try:
        filer.destroy_volume(name)
    except FilerError as error:
        log.warning("The volume %s left on the filer could not be destroyed: %s", name, error)


def create_volume(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    spec = _volume_spec(args)
    _storage(call).check_new_volume(spec)
    filer = _filer(spec)
    _make_volume(filer, spec, args["snapshotreservation"])
    volume_id = uuid4()
    try:
        call.write(cmd.add_volume, cmd.AddVolume(volume_id, spec))
    except InvalidParameter:
        _destroy_quietly(filer, spec.name)  # another operator recorded it meanwhile
        raise
    return {"success": True}


def destroy_volume(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    storage = _storage(call)
    volume_id = storage.volume_to_destroy(
        args["ipaddress"], args["aggregatename"], args["volumename"]
    )
    spec = storage.volumes[volume_id]
    try:
        _filer(spec).destroy_volume(spec.name)
    except FilerRefused as error:
        if error.errno != ontapi.NO_SUCH_VOLUME:
            raise _failed("Unable to delete volume on filer", error) from None
        log.info("Volume %s was gone from its filer already; forgotten", spec.name)
    except FilerError as error:
        raise _failed("Unable to delete volume on filer", error) from None
    call.write(cmd.remove_volume, volume_id)
    return {"success": True}


def _schedule_now(spec: VolumeSpec) -> str:
    """The volume's snapshot schedule as the filer has it now; as recorded when it cannot say."""
    try:
        return _filer(spec).snapshot_schedule(spec.name).text()
    except FilerError as error:
        log.warning("No snapshot schedule from the filer for %s: %s", spec.name, error)
        return spec.snapshot_policy


def list_volumes(call: Call, args: dict[str, Any]) -> Listing:
    storage = _storage(call)
    if args["poolname"] not in storage.pools:
        return Listing([], 0)
    volumes = [
        {
            "id": str(volume_id),
            "poolname": spec.pool,
            "ipaddress": spec.address,
            "aggregatename": spec.aggregate,
            "volumename": spec.name,
            "snapshotpolicy": _schedule_now(spec),
            "snapshotreservation": spec.snapshot_reservation,
            "size": spec.size,
        }
        for volume_id, spec in storage.pool_volumes(args["poolname"])
    ]
    return Listing(volumes, len(volumes))


# ---- LUNs --------------------------------------------------------------------------------


def _free_bytes(spec: VolumeSpec) -> int:
    """What a volume has free, -1 when it is offline or its filer cannot say (passed over)."""
    try:
        space = _filer(spec).volume_space(spec.name)
    except FilerError as error:
        log.info("Volume %s passed over: %s", spec.name, error)
        return -1
    return space.available if space.online else -1


def _choose_volume(
    storage: NetappStorage, pool: str, size_gb: int, start: int
) -> tuple[UUID, VolumeSpec]:
    """A volume of the pool with room for the LUN: the pool's algorithm decides which."""
    volumes = storage.pool_volumes(pool)
    if storage.pool(pool).algorithm.lower() == "leastfull":
        free = [(_free_bytes(volume[1]), volume) for volume in volumes]
        fitting = [(available, volume) for available, volume in free if available // GIB >= size_gb]
        if fitting:  # the most bytes free; the first such volume when several tie
            return max(fitting, key=lambda pair: pair[0])[1]
    else:
        for step in range(len(volumes)):
            volume_id, spec = volumes[(start + step) % len(volumes)]
            if _free_bytes(spec) // GIB >= size_gb:
                return volume_id, spec
    raise DomainError("Could not find a suitable volume to create lun on")


def _make_lun(filer: Filer, path: str, name: str, number: int, size_gb: int) -> str:
    """The LUN, its initiator group and the map between them; the target's IQN."""
    filer.create_lun(path, size_gb * GIB)
    try:
        try:
            filer.create_igroup(name)
        except FilerRefused as error:
            if error.errno != ontapi.IGROUP_EXISTS:
                raise
        target = filer.target_name()
        try:
            filer.map_lun(path, name, number)
        except FilerRefused as error:
            if error.errno not in (ontapi.LUN_ALREADY_MAPPED, ontapi.LUN_ID_TAKEN):
                raise
    except FilerError:
        try:
            filer.destroy_lun(path)
        except FilerError as error:
            log.warning("The LUN %s left on the filer could not be destroyed: %s", path, error)
        raise
    return target


def create_lun(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    pool, size_gb = args["name"], args["size"]
    with call.acting():
        reservation = cmd.reserve_lun(call.store, pool, size_gb)
    storage = _storage(call)
    volume_id, spec = _choose_volume(storage, pool, size_gb, reservation.start)
    name = lun_name(reservation.number)
    path = f"/vol/{spec.name}/{name}"
    try:
        target = _make_lun(_filer(spec), path, name, reservation.number, size_gb)
    except FilerError as error:
        raise _failed("Unable to create LUN", error) from None
    call.write(cmd.add_lun, cmd.AddLun(reservation.number, volume_id, path, target))
    return {"path": name, "iqn": target, "ipaddress": spec.address}


def destroy_lun(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    storage = _storage(call)
    lun = storage.lun(args["path"])
    filer, name = _filer(storage.volumes[lun.volume_id]), lun_name(lun.number)
    try:
        try:
            filer.unmap_lun(lun.path, name)
        except FilerRefused as error:
            if error.errno != ontapi.NO_SUCH_MAP:
                raise
        filer.destroy_lun(lun.path)
        try:
            filer.destroy_igroup(name)
        except FilerRefused as error:
            if error.errno not in (ontapi.NO_SUCH_IGROUP, ontapi.IGROUP_HAS_MAPS):
                raise
    except FilerError as error:
        raise ResourceInUse(f"Failed to delete lun: {error}") from None
    call.write(cmd.remove_lun, lun.number)
    return {"success": True}


def list_luns(call: Call, args: dict[str, Any]) -> Listing:
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT l.* FROM netapp_luns AS l JOIN netapp_volumes AS v ON v.id = l.volume_id "
            "WHERE v.pool_name = %s ORDER BY v.position, l.number",
            (args["poolname"],),
        ).fetchall()
    luns = [
        {"id": r["number"], "name": r["name"], "iqn": r["target_iqn"], "volumeid": r["volume_id"]}
        for r in rows
    ]
    return Listing(luns, len(luns))


def associate_lun(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    name, initiator = args["name"], args["iqn"]
    number = lun_number(name)
    storage = _storage(call)
    lun = storage.lun(lun_name(number), missing=f"Cannot find LUN {name}")
    spec = storage.volumes[lun.volume_id]
    try:
        _filer(spec).add_initiator(lun_name(number), initiator)
    except FilerRefused as error:
        if error.errno != ontapi.INITIATOR_IN_GROUP:
            raise _failed("Unable to associate LUN", error) from None
    except FilerError as error:
        raise _failed("Unable to associate LUN", error) from None
    return {"id": name.split("-")[1], "ipaddress": spec.address, "targetiqn": lun.target_iqn}


def dissociate_lun(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    name, initiator = args["path"], args["iqn"]
    storage = _storage(call)
    lun = storage.lun(name, missing=f"Cannot find LUN {name}")
    try:
        _filer(storage.volumes[lun.volume_id]).remove_initiator(lun_name(lun.number), initiator)
    except FilerError as error:
        raise _failed("Failed to disassociate lun", error) from None
    return {"success": True}


# ---- declarations ------------------------------------------------------------------------


def _declare(name: str, handler: Any, params: tuple[Param, ...], **rest: Any) -> ApiCommand:
    return ApiCommand(name, handler, params, role=Role.ROOT_ADMIN, role_extension=ROLE, **rest)


POOL_NAME = Param("poolname", P.STRING, required=True)
ALGORITHM = Param("algorithm", P.STRING, required=True)
VOLUME_KEY = (
    Param("ipaddress", P.STRING, required=True),
    Param("aggregatename", P.STRING, required=True),
    Param("volumename", P.STRING, required=True),
)
IQN = Param("iqn", P.STRING, required=True)

COMMANDS = (
    _declare(
        "createPool",
        create_pool,
        (Param("name", P.STRING, required=True), ALGORITHM),
        item_key="pool",
        java_class=f"{PKG}.CreateVolumePoolCmd",
        description="Create a pool of filer volumes (algorithm roundrobin or leastfull)",
    ),
    _declare(
        "modifyPool",
        modify_pool,
        (POOL_NAME, ALGORITHM),
        shape="success",
        java_class=f"{PKG}.ModifyVolumePoolCmd",
        description="Change the algorithm a pool allocates LUNs by",
    ),
    _declare(
        "deletePool",
        delete_pool,
        (POOL_NAME,),
        shape="success",
        java_class=f"{PKG}.DeleteVolumePoolCmd",
        description="Delete a pool that has no volumes",
    ),
    _declare(
        "listPools",
        list_pools,
        (),
        shape="list",
        item_key="pool",
        paged=False,
        response_name="listPool",  # 4.3 names the answer listpoolresponse
        java_class=f"{PKG}.ListVolumePoolsCmd",
        description="List the pools",
    ),
    _declare(
        "createVolumeOnFiler",
        create_volume,
        (
            *VOLUME_KEY,
            POOL_NAME,
            Param("size", P.INTEGER, required=True),
            Param("snapshotpolicy", P.STRING),
            Param("snapshotreservation", P.INTEGER),
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
        ),
        shape="success",
        response_name="createVolume",  # 4.3 names the answer createvolumeresponse
        java_class=f"{PKG}.CreateVolumeOnFilerCmd",
        description="Create a volume (size in GB) on a filer and add it to a pool",
    ),
    _declare(
        "destroyVolumeOnFiler",
        destroy_volume,
        VOLUME_KEY,
        shape="success",
        response_name="destroyVolume",  # 4.3 names the answer destroyvolumeresponse
        java_class=f"{PKG}.DestroyVolumeOnFilerCmd",
        description="Destroy a volume that holds no LUN on its filer",
    ),
    _declare(
        "listVolumesOnFiler",
        list_volumes,
        (POOL_NAME,),
        shape="list",
        item_key="volume",
        paged=False,
        response_name="listVolumes",  # 4.3 names the answer listvolumesresponse
        java_class=f"{PKG}.ListVolumesOnFilerCmd",
        description="List the volumes of a pool, with their snapshot schedule on the filer",
    ),
    _declare(
        "createLunOnFiler",
        create_lun,
        (Param("name", P.STRING, required=True), Param("size", P.LONG, required=True)),
        item_key="lun",
        response_name="createLun",  # 4.3 names the answer createlunresponse
        java_class=f"{PKG}.CreateLunCmd",
        description="Create a LUN (size in GB) on a volume of a pool",
    ),
    _declare(
        "destroyLunOnFiler",
        destroy_lun,
        (Param("path", P.STRING, required=True),),
        shape="success",
        response_name="destroyLun",  # 4.3 names the answer destroylunresponse
        java_class=f"{PKG}.DestroyLunCmd",
        description="Destroy a LUN (named lun-NNNNNN) and its initiator group",
    ),
    _declare(
        "listLunsOnFiler",
        list_luns,
        (POOL_NAME,),
        shape="list",
        item_key="lun",
        paged=False,
        response_name="listLun",  # 4.3 names the answer listlunresponse
        java_class=f"{PKG}.ListLunsCmd",
        description="List the LUNs on the volumes of a pool",
    ),
    _declare(
        "associateLun",
        associate_lun,
        (Param("name", P.STRING, required=True), IQN),
        item_key="lun",
        java_class=f"{PKG}.AssociateLunCmd",
        description="Let an iSCSI initiator (its IQN) reach a LUN",
    ),
    _declare(
        "dissociateLun",
        dissociate_lun,
        (Param("path", P.STRING, required=True), IQN),
        shape="success",
        java_class=f"{PKG}.DissociateLunCmd",
        description="Take an iSCSI initiator (its IQN) from a LUN",
    ),
)
