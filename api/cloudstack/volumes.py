"""Volumes: createVolume, attach/detach/resize as jobs, deleteVolume, listVolumes.

Attach, detach and resize of a disk whose VM has a host are hypervisor jobs: the adapter of the
VM's host does the work and its result finishes the job (`commands.volume_work`). Otherwise they
change the record alone and the job is done at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import orjson

from api.access import Role, check_reach, list_scope
from api.cloudstack import catalog
from api.cloudstack import infrastructure as places
from api.cloudstack.common import LIST_PROJECT_AND_TAGS, OWNER_PARAMS, resolve_owner_filters
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.jobs import run_async
from api.cloudstack.offerings import IO_PARAMS
from api.cloudstack.pages import needs_accounts, ordered
from api.cloudstack.storage_pools import pool_needs
from api.cloudstack.vms import _owner, hypervisor_job, vm_row
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import condition, root_only
from api.envelope import format_stored_date
from api.fragments import Kept, dumped, marker, quoted, template
from api.params import Param, ParamType, not_found
from api.tagging import narrow, rendered_tags
from commands import volume_work
from commands import volumes as cmd
from commands.volume_placement import PoolNeeds
from domain.errors import InvalidParameter, PermissionDenied
from domain.project import PROJECT_ACCOUNT_PREFIX
from domain.storage import parse_tags
from domain.volume import RESERVED_DEVICE_ID, STATES, VolumeChanges, VolumeState
from projections.hypervisor_capabilities import limits_of
from projections.listed import fill_listed
from projections.storage import pool_by_id
from projections.volumes import device_ids_on_vm, hidden_volumes, volume_count
from stratus.db import contains, in_list

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.volume"
GIB = 1024**3

# What a volume is rendered from: its owner's names, its VM's, its zone's, its offering's
# (a ROOT volume names its compute offering; a data disk its disk offering) and its template's
# or ISO's, joined in.
_NAMES = (
    "a.name AS account_name, a.domain_name AS domain_name, "
    "m.name AS vm_name, m.display_name AS vm_display_name, m.state AS vm_state, "
    "z.name AS zone_name, so.id AS so_id, so.name AS so_name, so.display_text AS so_text, "
    "so.storage_type AS so_storage, d.id AS do_id, d.name AS do_name, "
    "d.display_text AS do_text, d.storage_type AS do_storage, "
    "t.name AS template_name, t.display_text AS template_text, t.format AS template_format, "
    "COALESCE(m.hypervisor, sp.hypervisor) AS hypervisor_name FROM volumes AS v "
    "JOIN accounts AS a ON a.id = v.account_id "
    "LEFT JOIN virtual_machines AS m ON m.id = v.vm_id LEFT JOIN zones AS z ON z.id = v.zone_id "
    "LEFT JOIN service_offerings AS so ON so.id = v.disk_offering_id "
    "LEFT JOIN disk_offerings AS d ON d.id = v.disk_offering_id "
    "LEFT JOIN storage_pools AS sp ON sp.id = v.storage_id "
    "LEFT JOIN templates AS t ON t.id = v.template_id"
)
_SELECT = "SELECT v.*, a.domain_path AS domain_path, " + _NAMES
_LISTED = "SELECT v.*, " + _NAMES
# What a page of kept volumes reads: each one's kept JSON and the values of its slots.
_SPLICED = "SELECT v.id, v.listed, v.disk_offering_id, v.vm_id, v.kind, v.template_id, " + _NAMES


# ---- reading ---------------------------------------------------------------------------


def volume_row(call: Call, volume_id: str, *, removed: bool = False) -> dict[str, Any]:
    """A volume the caller may act on: 431 when there is none, 531 when it is someone else's."""
    gone = "" if removed else " AND v.removed = 0"
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE v.id = %s" + gone, (volume_id,)).fetchone()
    if row is None:
        raise not_found("id", volume_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the volume",
    )
    return dict(row)


def render_volumes(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_render(row) for row in rows]


_NO_OFFERING = ("", "", "shared")


def _offering(row: dict[str, Any]) -> tuple[str, str, str]:
    """(name, display text, storage type) of the volume's offering; a disk offering first."""
    if row["do_id"] is not None:
        return row["do_name"], row["do_text"], row["do_storage"]
    if row["so_id"] is not None:
        return row["so_name"], row["so_text"], row["so_storage"]
    return _NO_OFFERING


def _render(row: dict[str, Any]) -> dict[str, Any]:
    offering = _offering(row) if row["disk_offering_id"] else _NO_OFFERING
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "zoneid": row["zone_id"],
        "zonename": row["zone_name"] or "",
        "type": row["kind"],
        "size": int(row["size_gb"]) * GIB,
        "created": format_stored_date(row["created"]),
        "state": row["state"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "storagetype": offering[2],
        "destroyed": bool(row["removed"]),
        "isextractable": row["kind"] == "DATADISK",
        "displayvolume": bool(row["display"]),
        "tags": row.get("tags", []),  # a kept volume's slot; the dispatcher fills the others
    }
    _storage(body, row)
    _qos(body, row)
    if row.get("hypervisor_name") and row["hypervisor_name"] != "Any":
        body["hypervisor"] = row["hypervisor_name"]  # its VM's, else its pool's (as 4.3)
    if row["disk_offering_id"]:
        body.update(
            diskofferingid=row["disk_offering_id"],
            diskofferingname=offering[0],
            diskofferingdisplaytext=offering[1],
        )
        if row["kind"] == "ROOT":  # 4.3 names a ROOT disk's compute offering as such
            body.update(
                serviceofferingid=row["disk_offering_id"],
                serviceofferingname=offering[0],
                serviceofferingdisplaytext=offering[1],
            )
    _image(body, row)
    if row.get("snapshot_id"):
        body["snapshotid"] = row["snapshot_id"]
    if row["vm_id"]:
        body.update(
            virtualmachineid=row["vm_id"],
            vmname=row["vm_name"] or "",
            vmdisplayname=row["vm_display_name"] or "",
            vmstate=row["vm_state"] or "",
            deviceid=int(row["device_id"]),
            attached=format_stored_date(row["attached"]),
        )
    return body


def _image(body: dict[str, Any], row: dict[str, Any]) -> None:
    """What a ROOT disk was made from: its template, or (installed from one) its ISO, which 4.3
    names as the ISO only."""
    if not row["template_id"]:
        return
    if row["template_format"] is None:  # a template no read model knows: its id alone
        body["templateid"] = row["template_id"]
        return
    kind = "iso" if row["template_format"] == "ISO" else "template"
    body[f"{kind}id"] = row["template_id"]
    body[f"{kind}name"] = row["template_name"]
    body[f"{kind}displaytext"] = row["template_text"]


# A volume's storage QoS (`domain.storage_qos.disk_qos`) and 4.3's names for it.
_QOS_FIELDS = (("min_iops", "miniops"), ("max_iops", "maxiops"), *IO_PARAMS.values())


def _qos(body: dict[str, Any], row: dict[str, Any]) -> None:
    """The IOPS and I/O throttling rates the volume carries, those it has (4.3 omits unset)."""
    qos = orjson.loads(row["qos"] or "{}")
    body.update({label: qos[key] for key, label in _QOS_FIELDS if qos.get(key) is not None})


def _storage(body: dict[str, Any], row: dict[str, Any]) -> None:
    """Where the volume lives: its pool, its path there, and an upload's progress (4.3 shows
    `status` while the image is being fetched)."""
    if row["storage_id"]:
        body.update(storageid=row["storage_id"], storage=row["storage_name"] or "")
    if row["path"]:
        body["path"] = row["path"]
    if row["chain_info"]:
        body["chaininfo"] = row["chain_info"]
    if row["upload_status"] and row["state"] in (VolumeState.UPLOAD_OP, VolumeState.UPLOAD_ERROR):
        body["status"] = row["upload_status"]


def volume_answer(call: Call, volume_id: str) -> dict[str, Any]:
    return render_volumes(call, [volume_row(call, volume_id, removed=True)])[0]


def _result(volume_id: str) -> dict[str, Any]:
    return {"object": "volume", "id": volume_id}


_FILTERS = (
    ("id", "v.id = %s"),
    ("virtualmachineid", "v.vm_id = %s"),
    ("type", "v.kind = %s"),
    ("zoneid", "v.zone_id = %s"),
    ("diskofferingid", "v.disk_offering_id = %s"),
    ("storageid", "v.storage_id = %s"),
    ("hostid", "v.vm_id IN (SELECT id FROM virtual_machines WHERE host_id = %s)"),
    (
        "podid",
        "v.vm_id IN (SELECT v2.id FROM virtual_machines AS v2 JOIN hosts AS h "
        "ON h.id = COALESCE(v2.host_id, v2.last_host_id) WHERE h.pod_id = %s)",
    ),
)
_ADMIN_FILTERS = frozenset({"hostid", "podid", "storageid"})


def list_volumes(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["v.removed = 0", scope.clause], list(scope.params)
    for key, clause in _FILTERS:
        if args[key]:
            if key in _ADMIN_FILTERS and call.caller.role != Role.ROOT_ADMIN:
                raise PermissionDenied(
                    "Only root administrators may list volumes by host, pod or storage pool"
                )
            where.append(clause)
            params.append(args[key].upper() if key == "type" else args[key])
    for key in ("name", "keyword"):
        if args.get(key):
            clause, values = contains(("v.name",), args[key])
            where.append(clause)
            params += values
    narrow(args, "Volume", "v.id", where, params)
    unfiltered = len(where) == 2
    _displayed(call, args, where)
    # With no filter but the caller's scope (and nothing hidden), the per-account counters answer.
    only_scope = scope if unfiltered and not _any_hidden(call) else None
    rows, count = _page(call, " WHERE " + " AND ".join(where), params, args, only_scope)
    return Listing(spliced_volumes(call, rows), count)


def _displayed(call: Call, args: dict[str, Any], where: list[str]) -> None:
    """4.3: volumes hidden by updateVolume (`displayvolume=false`) are listed to root
    administrators only, who may also filter on the flag."""
    clause = condition(
        call, args["displayvolume"], "displayvolume", "v.display = 1", "v.display = 0"
    )
    if clause:
        where.append(clause)


def _any_hidden(call: Call) -> bool:
    with call.read() as cursor:
        return hidden_volumes(cursor)


def _page(
    call: Call, where: str, params: list[Any], args: dict[str, Any], only_scope: Any = None
) -> tuple[list[dict[str, Any]], int]:
    """Count (from the per-account counters when only the owner scope filters) and page on the
    narrow (removed, seq) index alone, then read and join only the page's rows: counting and
    sorting every joined volume for each page cost over a second with 100,000 volumes."""
    source = " FROM volumes AS v"
    if needs_accounts(where):
        source += " JOIN accounts AS a ON a.id = v.account_id"
    with call.read() as cursor:
        if only_scope is not None:
            count = volume_count(cursor, only_scope.clause, list(only_scope.params))
        else:
            count = cursor.execute(f"SELECT count(*) AS n{source}{where}", params).fetchone()["n"]
        keys = f"SELECT v.seq{source}{where}" + ordered(("v.seq",), args["paging"], int(count))
        page = f"{_SPLICED} JOIN ({keys}) AS p ON p.seq = v.seq"
        rows = cursor.execute(page + " ORDER BY p.seq", params).fetchall()
    return rows, int(count)


# ---- kept JSON ---------------------------------------------------------------------------


_KEPT = Kept(__name__, partial(fill_listed, table="volumes"))


def spliced_volumes(call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    """A page's volumes from their kept JSON; volumes with none (new, or changed since) are
    rendered in full and their JSON kept for the revision they were read at."""
    missing = [row["id"] for row in rows if _KEPT.text(row["listed"]) is None]
    full: dict[str, dict[str, Any]] = {}
    if missing:
        with call.read() as cursor:
            among, params = in_list(cursor, "v.id", missing)
            found = cursor.execute(f"{_LISTED} WHERE {among}", params).fetchall()
        full = {row["id"]: row for row in found}
    kept = _KEPT.keep(call.runtime.db, full.values(), keepable) if full else {}
    with call.read() as cursor:
        tags = rendered_tags(cursor, [row["id"] for row in rows])
    items: list[Any] = []
    for row in rows:
        listed = _KEPT.text(row["listed"]) or kept.get(row["id"])
        if listed is None:  # nothing to keep (see keepable): rendered as before
            items.append(_render(full[row["id"]]))
        else:
            items.append(orjson.Fragment(listed % _values(row, tags.get(row["id"], []))))
    return items


def _slots(row: dict[str, Any]) -> tuple[str, ...]:
    """The slots of a volume's kept JSON, in the order _render writes them."""
    slots: tuple[str, ...] = ("zone_name", "account_name", "domain_name")
    if row["disk_offering_id"]:  # its storage type comes before the tags, its names after
        slots += ("storage", "tags", "offering_name", "offering_text")
        if row["kind"] == "ROOT":  # named again as the compute offering
            slots += ("offering_name", "offering_text")
    else:
        slots += ("tags",)
    if row["template_id"] and row["template_format"] is not None:
        slots += ("template_name", "template_text")
    if row["vm_id"]:
        slots += ("vm_name", "vm_display_name", "vm_state")
    return slots


def _values(row: dict[str, Any], tags: list[dict[str, Any]]) -> tuple[str, ...]:
    values = [quoted(row["zone_name"] or ""), quoted(row["account_name"])]
    values.append(quoted(row["domain_name"]))
    if row["disk_offering_id"]:
        name, text, storage = _offering(row)
        values += [quoted(storage), dumped(tags), quoted(name), quoted(text)]
        if row["kind"] == "ROOT":
            values += [quoted(name), quoted(text)]
    else:
        values.append(dumped(tags))
    if row["template_id"] and row["template_format"] is not None:
        values += [quoted(row["template_name"]), quoted(row["template_text"])]
    if row["vm_id"]:
        values += [quoted(row[key] or "") for key in ("vm_name", "vm_display_name", "vm_state")]
    return tuple(values)


def keepable(row: dict[str, Any]) -> str | None:
    """A volume's JSON as _render writes it, with slots; None when the slots do not come out
    in their order (a marker inside a volume's own text), or for a project's volume, which
    the dispatcher names its project (`api.owners.with_projects`): those are rendered in full."""
    if str(row["account_name"]).startswith(PROJECT_ACCOUNT_PREFIX):
        return None
    marked = dict(row, **{name: marker(name) for name in _slots(row)})
    marked.update(do_id="", do_name=marked.pop("offering_name", None))
    marked.update(do_text=marked.pop("offering_text", None), do_storage=marked.pop("storage", None))
    text, names = template(_render(marked))
    return text if names == _slots(row) else None


# ---- commands ----------------------------------------------------------------------------


def _size(offering: catalog.DiskOffering, size: int | None) -> int:
    """A resize to a custom offering takes the size asked for; to a fixed one its own."""
    if not offering.customized:
        return offering.size_gb
    if size is None:
        raise InvalidParameter(
            f"Disk offering {offering.name} is customized: specify the size in GB"
        )
    return size


@dataclass(frozen=True)
class _Shape:
    """What a new data disk is made of: its zone, size, offering and the offering's tags."""

    zone_id: str
    size_gb: int
    offering_id: str
    storage_tags: tuple[str, ...]
    qos: catalog.DiskQosTerms | None = None  # the offering's storage QoS terms, if any


def _shape(call: Call, args: dict[str, Any], domain_path: str) -> _Shape:
    """A disk offering's disk in `zoneid`; or, from `snapshotid`, as 4.3: the snapshot's
    size, its volume's offering unless one is named, its zone unless `zoneid` names one."""
    if args["snapshotid"]:
        return _snapshot_shape(call, args, domain_path)
    if args["diskofferingid"] is None:
        raise InvalidParameter(
            "Either disk Offering Id or snapshot Id must be passed whilst creating volume"
        )
    if args["zoneid"] is None:
        raise InvalidParameter("Specify zoneid: the zone to create the volume in")
    zone = places._row(call, "zones", args["zoneid"], "zone")
    offering = catalog.disk_offering(call, args["diskofferingid"], domain_path)
    size = catalog.disk_size(offering, args["size"])
    return _Shape(zone["id"], size, offering.id, offering.storage_tags, offering.qos)


def _snapshot_shape(call: Call, args: dict[str, Any], domain_path: str) -> _Shape:
    from api.cloudstack.snapshots import snapshot_row  # that module reads volumes from this one

    snapshot = snapshot_row(call, args["snapshotid"])  # 431 unknown, 531 someone else's
    if snapshot["state"] != "BackedUp":
        raise InvalidParameter(
            f"Snapshot id={snapshot['id']} is not in BackedUp state yet and can't be used for "
            "volume creation"
        )
    zone_id = (
        places._row(call, "zones", args["zoneid"], "zone")["id"]
        if args["zoneid"]
        else snapshot["zone_id"]
    )
    size = -(-int(snapshot["size_bytes"]) // GIB)
    if args["diskofferingid"]:
        offering = catalog.disk_offering(call, args["diskofferingid"], domain_path)
        return _Shape(zone_id, size, offering.id, offering.storage_tags, offering.qos)
    with call.read() as cursor:
        found = cursor.execute(
            "SELECT v.disk_offering_id AS offering_id, d.* FROM volumes AS v "
            "LEFT JOIN disk_offerings AS d ON d.id = v.disk_offering_id WHERE v.id = %s",
            (snapshot["volume_id"],),
        ).fetchone()
    if found is None or not found["offering_id"]:
        raise InvalidParameter(
            f"The volume of snapshot {snapshot['name']} had no disk offering: name diskofferingid"
        )
    # A ROOT disk's offering is its compute offering, which names no disk's tags or QoS.
    offering = dict(found) if found["id"] else None
    return _Shape(
        zone_id,
        size,
        found["offering_id"],
        parse_tags(offering["tags"]) if offering else (),
        catalog.qos_terms(offering) if offering else None,
    )


def create(call: Call, args: dict[str, Any]) -> Submitted:
    if args["displayvolume"] is False:  # hiding a volume from its users is a root admin's
        root_only(call, "displayvolume")
    account_id, domain_id, domain_path = _owner(call, args)
    shape = _shape(call, args, domain_path)
    volume_id = uuid4()
    command = cmd.CreateVolume(
        volume_id,
        args["name"] or f"DATA-{volume_id.hex[:12]}",
        UUID(account_id),
        UUID(domain_id),
        UUID(shape.zone_id),
        shape.size_gb,
        UUID(shape.offering_id),
        args["displayvolume"] is not False,
        UUID(args["snapshotid"]) if args["snapshotid"] else None,
        catalog.qos_of_disk(shape.qos, (args["miniops"], args["maxiops"])),
    )

    if args["virtualmachineid"]:
        vm = vm_row(call, args["virtualmachineid"])
        attach = _attach_on_create(call, vm, command, shape.storage_tags)
        text = f"Creating volume {command.name} and attaching it to VM {vm['name']}"

        def both(job_id: UUID) -> Any:
            cmd.create_volume(call.store, command)
            return volume_work.attach_volume(call.store, attach, job_id)

        return hypervisor_job(
            call, str(volume_id), "VOLUME.CREATE", text, both, creates=True, instance_type="Volume"
        )

    def work() -> dict[str, Any]:
        cmd.create_volume(call.store, command)
        return _result(str(volume_id))

    return _job(call, volume_id, "VOLUME.CREATE", f"Creating volume {command.name}", work, True)


def _attach_on_create(
    call: Call, vm: dict[str, Any], command: cmd.CreateVolume, tags: tuple[str, ...]
) -> cmd.AttachVolume:
    """createVolume `virtualmachineid`: the new disk is attached to the VM in the same job,
    as 4.3 does; what would refuse the attach is refused before the disk is made (the VM of
    another account or zone, a VM neither Running nor Stopped)."""
    if vm["account_id"] != str(command.account_id):
        raise InvalidParameter(
            f"The volume and VM {vm['name']} must belong to the same account to be attached"
        )
    if vm["zone_id"] != str(command.zone_id):
        raise InvalidParameter(
            f"The VM {vm['name']} is in another zone: a volume is attached in its own zone"
        )
    if vm["state"] not in ("Running", "Stopped"):
        raise InvalidParameter(
            f"Please specify a VM that is either running or stopped: {vm['name']} is {vm['state']}"
        )
    with call.read() as cursor:
        used = device_ids_on_vm(cursor, vm["id"])
        limits = limits_of(cursor, vm["hypervisor"], _host_version(cursor, vm))
    maximum = limits["max_data_volumes"] if limits else None
    if maximum is not None and len(used - {0, RESERVED_DEVICE_ID}) >= maximum:
        raise InvalidParameter(
            f"The specified VM already has the maximum number of data disks ({maximum}). "
            "Please specify another VM."
        )
    needs = pool_needs(call, str(command.zone_id), tags)
    return cmd.AttachVolume(command.volume_id, UUID(vm["id"]), used, None, maximum, pool=needs)


def _job(
    call: Call, volume_id: UUID, event: str, text: str, work: Any, creates: bool = False
) -> Submitted:
    return run_async(
        call,
        instance_type="Volume",
        instance_id=volume_id,
        event_type=event,
        description=text,
        work=work,
        creates=creates,
    )


def _host_job(call: Call, row: dict[str, Any], event: str, text: str, work: Any) -> Submitted:
    """A job the adapter of the VM's host may finish (see the module docstring)."""
    return hypervisor_job(call, row["id"], event, text, work, instance_type="Volume")


def attach(call: Call, args: dict[str, Any]) -> Submitted:
    row = volume_row(call, args["id"])
    vm = vm_row(call, args["virtualmachineid"])
    with call.read() as cursor:
        used = device_ids_on_vm(cursor, vm["id"])
        limits = limits_of(cursor, vm["hypervisor"], _host_version(cursor, vm))
    attach = cmd.AttachVolume(
        UUID(row["id"]),
        UUID(vm["id"]),
        used,
        args["deviceid"],
        limits["max_data_volumes"] if limits else None,
        pool=_pool_needs(call, row),
    )
    return _host_job(
        call,
        row,
        "VOLUME.ATTACH",
        f"Attaching volume {row['name']}",
        lambda job_id: volume_work.attach_volume(call.store, attach, job_id),
    )


def _host_version(cursor: Any, vm: dict[str, Any]) -> str:
    """The hypervisor version of the host the VM runs (or last ran) on: '' when none."""
    host_id = vm.get("host_id") or vm.get("last_host_id")
    if not host_id:
        return ""
    row = cursor.execute(
        "SELECT hypervisor_version FROM hosts WHERE id = %s", (host_id,)
    ).fetchone()
    return row["hypervisor_version"] if row else ""


def _pool_needs(call: Call, row: dict[str, Any]) -> PoolNeeds:
    """What the disk needs of the pool it is made on: its disk offering's storage tags."""
    tags: tuple[str, ...] = ()
    if row["do_id"] is not None:
        with call.read() as cursor:
            found = cursor.execute(
                "SELECT tags FROM disk_offerings WHERE id = %s", (row["do_id"],)
            ).fetchone()
        tags = parse_tags(found["tags"]) if found else ()
    return pool_needs(call, row["zone_id"], tags)


def detach(call: Call, args: dict[str, Any]) -> Submitted:
    row = volume_row(call, args["id"] or _volume_at(call, args))
    return _host_job(
        call,
        row,
        "VOLUME.DETACH",
        f"Detaching volume {row['name']}",
        lambda job_id: volume_work.detach_volume(call.store, UUID(row["id"]), job_id),
    )


def _volume_at(call: Call, args: dict[str, Any]) -> str:
    """The id of the volume at `deviceid` of VM `virtualmachineid`, 4.3's other way to name it."""
    if args["virtualmachineid"] is None or args["deviceid"] is None:
        raise InvalidParameter(
            "Specify either the volume id, or the virtualmachineid and deviceid it is attached at"
        )
    vm = vm_row(call, args["virtualmachineid"])
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM volumes WHERE vm_id = %s AND device_id = %s AND removed = 0",
            (vm["id"], args["deviceid"]),
        ).fetchone()
    if row is None:
        raise InvalidParameter(
            f"No volume is attached to VM {vm['name']} at device id {args['deviceid']}"
        )
    return str(row["id"])


def resize(call: Call, args: dict[str, Any]) -> Submitted:
    row = volume_row(call, args["id"])
    offering_id = args["diskofferingid"] or row["disk_offering_id"]
    if offering_id is None:
        raise InvalidParameter("Specify a disk offering or a size to resize to")
    offering = catalog.disk_offering(call, offering_id, row["domain_path"])
    size = _size(offering, args["size"])
    shrink_ok = bool(args["shrinkok"])
    return _host_job(
        call,
        row,
        "VOLUME.RESIZE",
        f"Resizing volume {row['name']}",
        lambda job_id: volume_work.resize_volume(
            call.store,
            volume_work.ResizeAttached(
                UUID(row["id"]), size, UUID(offering.id), shrink_ok, job_id, _new_rates(offering)
            ),
        ),
    )


def _new_rates(offering: catalog.DiskOffering) -> dict[str, int] | None:
    """The I/O throttling rates a disk resized to `offering` takes (4.3 shows a volume's rates
    from its offering, so they follow it; its IOPS stay)."""
    return dict(offering.qos.io_limits) if offering.qos is not None else None


def update(call: Call, args: dict[str, Any]) -> Submitted:
    """updateVolume (root administrators): path, state, pool, display and chain info of the
    record, checked before the job so bad input changes nothing."""
    if args["id"] is None:
        raise InvalidParameter("Specify id: the volume to update")
    row = volume_row(call, args["id"])
    state = args["state"]
    if state is not None and state not in STATES:
        raise InvalidParameter("Invalid volume state specified")
    pool_id = None
    if args["storageid"] is not None:
        with call.read() as cursor:
            pool = pool_by_id(cursor, args["storageid"])
        if pool is None or pool["removed"]:
            raise not_found("storageid", args["storageid"])
        if pool["zone_id"] != row["zone_id"]:
            raise InvalidParameter(
                "Invalid storageId specified; refers to the pool outside of the volume's zone"
            )
        pool_id = UUID(pool["id"])
    changes = VolumeChanges(
        path=args["path"],
        state=state,
        display=args["displayvolume"],
        chain_info=args["chaininfo"],
    )
    command = cmd.UpdateVolume(UUID(row["id"]), changes, pool_id)

    def work() -> dict[str, Any]:
        cmd.update_volume(call.store, command)
        return _result(row["id"])

    return _job(call, UUID(row["id"]), "VOLUME.UPDATE", f"Updating volume {row['name']}", work)


def delete(call: Call, args: dict[str, Any]) -> None:
    row = volume_row(call, args["id"])
    call.write(cmd.delete_volume, UUID(row["id"]))


# ---- the table ---------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)


def _async(
    name: str, handler: Any, params: tuple, java: str, text: str, role: Role = Role.USER
) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        shape="async",
        is_async=True,
        item_key="volume",
        render=volume_answer,
        java_class=f"{PKG}.{java}",
        description=text,
        role=role,
    )


COMMANDS = (
    _async(
        "createVolume",
        create,
        (
            Param(
                "name",
                P.STRING,
                extension="an unnamed volume is named DATA-<id>, as later CloudStack versions do",
            ),
            Param("zoneid", P.UUID),
            Param("diskofferingid", P.UUID),
            Param("size", P.LONG),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("snapshotid", P.UUID),
            Param("virtualmachineid", P.UUID),
            CUSTOM_ID,
            Param("displayvolume", P.BOOLEAN),
            Param("miniops", P.LONG),
            Param("maxiops", P.LONG),
            OWNER_PROJECT_ID,
        ),
        "CreateVolumeCmd",
        "Creates a disk volume from a disk offering",
    ),
    _async(
        "attachVolume",
        attach,
        (ID, Param("virtualmachineid", P.UUID, required=True), Param("deviceid", P.LONG)),
        "AttachVolumeCmd",
        "Attaches a disk volume to a virtual machine",
    ),
    _async(
        "detachVolume",
        detach,
        (Param("id", P.UUID), Param("virtualmachineid", P.UUID), Param("deviceid", P.LONG)),
        "DetachVolumeCmd",
        "Detaches a disk volume from a virtual machine",
    ),
    _async(
        "resizeVolume",
        resize,
        (
            ID,
            Param("diskofferingid", P.UUID),
            Param("size", P.LONG),
            Param("shrinkok", P.BOOLEAN, default=False),
        ),
        "ResizeVolumeCmd",
        "Resizes a volume",
    ),
    _async(
        "updateVolume",
        update,
        (
            Param("id", P.UUID),
            Param("path", P.STRING, max_length=255),
            Param("state", P.STRING),
            Param("storageid", P.UUID),
            Param("displayvolume", P.BOOLEAN),
            Param("chaininfo", P.STRING, max_length=4096),
            CUSTOM_ID,
        ),
        "UpdateVolumeCmd",
        "Updates the record of a volume: its path, state, storage pool or display flag",
        role=Role.ROOT_ADMIN,
    ),
    ApiCommand(
        "deleteVolume",
        delete,
        (ID,),
        shape="success",
        java_class=f"{PKG}.DeleteVolumeCmd",
        description="Deletes a detached disk volume",
    ),
    ApiCommand(
        "listVolumes",
        list_volumes,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("virtualmachineid", P.UUID),
            Param("type", P.STRING),
            Param("zoneid", P.UUID),
            Param("diskofferingid", P.UUID),
            Param("hostid", P.UUID),
            Param("podid", P.UUID),
            Param("storageid", P.UUID),
            Param("displayvolume", P.BOOLEAN),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="volume",
        java_class=f"{PKG}.ListVolumesCmd",
        description="Lists all volumes",
    ),
)
