"""Hosts (listHosts and the host lifecycle), capacity and the infrastructure summary."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any
from uuid import UUID

import orjson

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.capacity import capacity_items
from api.cloudstack.common import limit_sql, names_in
from api.cloudstack.jobs import await_job, hypervisor_job, run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.fragments import Kept, marker, quoted, template
from api.params import Param, ParamType
from commands import hosts as cmd
from commands import migration
from commands.jobs import SubmitJob, submit_job
from commands.migration import Evacuee, PrepareMaintenance
from commands.placement import Candidate
from commands.vms import destroy_vm
from domain.errors import InvalidParameter, InvalidState
from domain.guest_os import OS_CATEGORIES
from domain.infrastructure import check_hypervisor
from domain.vm import VmState
from projections.configuration import overprovisioning
from projections.listed import fill_listed
from projections.migration import cluster_hosts, machines_on_host
from projections.storage import store_counts
from projections.vms import allocated, vm_count_on_host, vms_on_host_storage
from stratus.db import in_list

P = ParamType
RA = Role.ROOT_ADMIN
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"
ADD_HOST_WAIT = 30.0
MIB = 1024 * 1024
DESTROYABLE = (VmState.RUNNING, VmState.STOPPED, VmState.ERROR)


def render_host(
    call: Call,
    row: dict[str, Any],
    names: dict[str, dict[str, str]],
    held: tuple[int, int] = (0, 0),
    cpu_factor: float = 1.0,
) -> dict:
    """A host as listHosts shows it: `held` is the room reservations hold on it (MHz, MiB),
    `cpu_factor` its cluster's CPU over-provisioning factor."""
    speed, cores = int(row["cpu_speed"]), int(row["cpu_number"])
    body = {
        "id": row["id"],
        "name": row["name"],
        "state": row["state"],
        "type": "Routing",
        "ipaddress": places_address(row["url"]),
        "zoneid": row["zone_id"],
        "zonename": names["zones"].get(row["zone_id"], ""),
        "podid": row["pod_id"],
        "podname": names["pods"].get(row["pod_id"], ""),
        "clusterid": row["cluster_id"],
        "clustername": names["clusters"].get(row["cluster_id"], ""),
        "clustertype": "CloudManaged",
        "hypervisor": row["hypervisor"],
        "hypervisorversion": row["hypervisor_version"],
        "version": "4.3.0",
        "cpusockets": int(row["cpu_sockets"]),
        "cpunumber": cores,
        "cpuspeed": speed,
        "cpuallocated": _percent(held[0], cores * speed * cpu_factor),
        "cpuused": "0%",
        "cpuwithoverprovisioning": _provisioned(cores * speed, cpu_factor),
        "memorytotal": int(row["memory_total"]),
        "memoryallocated": held[1] * 1024 * 1024,
        "memoryused": 0,
        "disksizetotal": int(row["local_storage_total"]),
        "disksizeallocated": 0,
        "islocalstorageactive": int(row["local_storage_total"]) > 0,
        "capabilities": row["capabilities"],
        "hosttags": row["host_tags"],
        "resourcestate": row["resource_state"],
        "hahost": False,
        "events": _EVENTS.get(row["state"], "Remove"),
        "created": format_stored_date(row["created"]),
    }
    if not body["hosttags"]:
        del body["hosttags"]
    if row.get("os_category_id"):
        body["oscategoryid"] = row["os_category_id"]
        body["oscategoryname"] = CATEGORY_NAMES.get(row["os_category_id"], "")
    if row["disconnected"]:
        body["disconnected"] = format_stored_date(row["disconnected"])
    if row["state_reason"]:
        body["details"] = {"reason": row["state_reason"]}
    return body


def _percent(part: int, whole: float) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole and part else "0%"


def _provisioned(mhz: int, factor: float) -> str:
    return f"{mhz * factor:.1f}"


@lru_cache(maxsize=65536)
def places_address(url: str) -> str:
    return cmd.host_name(url).rsplit(":", 1)[0] if "://" in url else url


CATEGORY_NAMES = {str(category): name for category, name in OS_CATEGORIES}
NO_CATEGORY = "None"  # 4.3's category that stands for no preference

# The host state machine's next events, as CloudStack lists them per state.
_EVENTS = {
    "Up": "ShutdownRequested; AgentDisconnected; Ping; PingTimeout; Remove",
    "Connecting": "Ready; AgentDisconnected; Remove",
}


def render_hosts(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hosts as listHosts shows them, with the room reservations hold of each."""
    wanted = {
        table: {r[column] for r in rows}
        for table, column in (("zones", "zone_id"), ("pods", "pod_id"), ("clusters", "cluster_id"))
    }
    with call.read() as cursor:  # one connection for all
        names = names_in(cursor, wanted)
        held = allocated(cursor, [r["id"] for r in rows])
        factors = overprovisioning(cursor)
    return [
        render_host(call, row, names, held.get(row["id"], (0, 0)), factors.of(row["cluster_id"])[0])
        for row in rows
    ]


def _host(call: Call, host_id: str) -> dict[str, Any]:
    row = places._row(call, "hosts", host_id, "host")
    return render_hosts(call, [row])[0]


def list_hosts(call: Call, args: dict[str, Any]) -> Listing:
    if args["hypervisor"]:
        args["hypervisor"] = check_hypervisor(args["hypervisor"])
    if args["type"] not in (None, "Routing", "routing"):
        return Listing([], 0)
    where, params = places._filters(
        args,
        {
            "id": "id",
            "name": "name",
            "zoneid": "zone_id",
            "podid": "pod_id",
            "clusterid": "cluster_id",
            "state": "state",
            "resourcestate": "resource_state",
            "hypervisor": "hypervisor",
        },
        name_part=True,
    )
    if args["virtualmachineid"]:  # the host the VM runs on
        where.append("id = (SELECT host_id FROM virtual_machines WHERE id = %s)")
        params.append(args["virtualmachineid"])
    rows, count = _page(call, where, params, args)
    return Listing(spliced_hosts(call, rows), count)


# ---- kept JSON ---------------------------------------------------------------------------

# What a page of kept hosts reads: each one's kept JSON and the values of its slots.
_SPLICED = (
    "SELECT t.id, t.listed, t.cpu_number, t.cpu_speed, t.cluster_id, z.name AS zone_name, "
    "p.name AS pod_name, c.name AS cluster_name FROM ({keys}) AS page "
    "JOIN hosts AS t ON t.id = page.id LEFT JOIN zones AS z ON z.id = t.zone_id "
    "LEFT JOIN pods AS p ON p.id = t.pod_id LEFT JOIN clusters AS c ON c.id = t.cluster_id "
    "ORDER BY t.created, t.id"
)


def _page(
    call: Call, where: list[str], params: list[Any], args: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """Count, then find the page's ids on the ordering index and read only those hosts, with
    the names they show joined in."""
    sql = " FROM hosts WHERE " + " AND ".join(["removed = 0", *where])
    keys = f"SELECT id{sql} ORDER BY created, id{limit_sql(args['paging'])}"
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(_SPLICED.format(keys=keys), params).fetchall()
    return rows, int(count)


_KEPT = Kept(__name__, partial(fill_listed, table="hosts"))


def spliced_hosts(call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    """A page's hosts from their kept JSON; hosts with none (new, or changed since) are
    rendered in full and their JSON kept for the revision they were read at."""
    ids = [row["id"] for row in rows]
    missing = [row["id"] for row in rows if _KEPT.text(row["listed"]) is None]
    with call.read() as cursor:  # one connection for all
        held = allocated(cursor, ids)
        factors = overprovisioning(cursor)
        full = _full_rows(cursor, missing) if missing else {}
    kept = {}
    if full:
        kept = _KEPT.keep(call.runtime.db, full.values(), lambda row: keepable(call, row))
    items: list[Any] = []
    for row in rows:
        listed = _KEPT.text(row["listed"]) or kept.get(row["id"])
        room = held.get(row["id"], (0, 0))
        if listed is None:  # nothing to keep (see keepable): rendered as before
            items.append(render_hosts(call, [full[row["id"]]])[0])
        else:
            cpu_factor = factors.of(row["cluster_id"])[0]
            items.append(orjson.Fragment(listed % _values(row, room, cpu_factor)))
    return items


def _full_rows(cursor: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    among, params = in_list(cursor, "id", ids)
    rows = cursor.execute(f"SELECT * FROM hosts WHERE {among}", params).fetchall()
    return {row["id"]: row for row in rows}


_SLOTS = ("zone_name", "pod_name", "cluster_name", "cpu", "cpu_total", "memory")
_SLOTTED = (
    "zonename",
    "podname",
    "clustername",
    "cpuallocated",
    "cpuwithoverprovisioning",
    "memoryallocated",
)


def _values(row: dict[str, Any], room: tuple[int, int], cpu_factor: float) -> tuple[str, ...]:
    whole = int(row["cpu_number"]) * int(row["cpu_speed"])
    return (
        quoted(row["zone_name"] or ""),
        quoted(row["pod_name"] or ""),
        quoted(row["cluster_name"] or ""),
        quoted(_percent(room[0], whole * cpu_factor)),
        quoted(_provisioned(whole, cpu_factor)),
        str(room[1] * MIB),
    )


def keepable(call: Call, row: dict[str, Any]) -> str | None:
    """A host's JSON as render_host writes it, with slots; None when the slots do not come
    out in their order (a marker inside a host's own text): it is then rendered in full."""
    body = render_host(call, row, {"zones": {}, "pods": {}, "clusters": {}})
    for key, slot in zip(_SLOTTED, _SLOTS, strict=True):
        body[key] = marker(slot)
    text, slots = template(body)
    return text if slots == _SLOTS else None


def add_host(call: Call, args: dict[str, Any]) -> Listing:
    return record_host(call, args)


def record_host(
    call: Call, args: dict[str, Any], inventory: dict[str, Any] | None = None, name: str = ""
) -> Listing:
    """Record the host, let its adapter connect, and answer once it did (or could not); a
    bare-metal host has no adapter and is answered at once, with `inventory`. Its `name` is
    the address of its URL unless given (a vCenter's host is named as the vCenter names it)."""
    cluster_id = args["clusterid"] or _cluster_by_name(call, args)
    hypervisor = check_hypervisor(args["hypervisor"])
    job_id = None
    if hypervisor != "BareMetal":
        with call.acting():
            job_id = submit_job(
                call.store,
                SubmitJob(
                    f"{ADMIN_PKG}.host.AddHostCmd",
                    UUID(call.caller.account_id),
                    UUID(call.caller.user_id),
                    "Host",
                    None,
                    "HOST.ADD",
                    f"Adding host {name or cmd.host_name(args['url'])}",
                    executor="hypervisor",
                ),
            ).id
    outcome = call.write(
        cmd.add_host,
        cmd.AddHost(
            UUID(args["zoneid"]),
            UUID(args["podid"]),
            UUID(cluster_id),
            hypervisor,
            args["url"],
            args["username"],
            args["password"],
            name=name,
            allocation_state=args["allocationstate"] or "Enabled",
            host_tags=tuple(args["hosttags"] or ()),
            job_id=job_id,
            inventory=inventory,
        ),
    )
    if job_id is not None:
        await_job(call, str(job_id), str(outcome.id), ADD_HOST_WAIT)
    return Listing([_host(call, str(outcome.id))], 1)


def _cluster_by_name(call: Call, args: dict[str, Any]) -> str:
    if not args["clustername"]:
        raise InvalidParameter("Either clusterid or clustername must be specified")
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM clusters WHERE name = %s AND pod_id = %s AND removed = 0",
            (args["clustername"], args["podid"]),
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find cluster {args['clustername']} in the pod")
    return row["id"]


def update_host(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    places._row(call, "hosts", args["id"], "host")
    if args["url"] is not None:
        # 4.3 changes the URL of a secondary storage host only (its image stores of old); the
        # hosts here run VMs (image stores are not hosts), so as 4.3 it refuses, changing nothing
        raise InvalidParameter(f"host: {args['id']} is not a secondary storage")
    changes: dict[str, Any] = {}
    if args["allocationstate"]:
        state = {"enable": "Enabled", "disable": "Disabled"}.get(args["allocationstate"].lower())
        if state is None:
            raise InvalidParameter("Invalid allocation state: use Enable or Disable")
        changes["resource_state"] = state
    if args["hosttags"] is not None:
        changes["host_tags"] = tuple(args["hosttags"])
    if args["name"]:
        changes["name"] = args["name"]
    if args["oscategoryid"] is not None:
        changes["os_category_id"] = _preferred_category(args["oscategoryid"])
    call.write(cmd.update_host, cmd.UpdateHost(UUID(args["id"]), changes))
    return _host(call, args["id"])


def _preferred_category(given: str) -> str | None:
    """The OS category a host is to prefer (431 for an unknown one); 4.3's `None` category
    clears the preference."""
    names = {str(category): name for category, name in OS_CATEGORIES}
    if given not in names:
        raise InvalidParameter("Please specify a valid guest OS category.")
    return None if names[given] == NO_CATEGORY else given


def _vm_count(call: Call, host_id: str) -> int:
    with call.read() as cursor:
        return vm_count_on_host(cursor, host_id)


def prepare_for_maintenance(call: Call, args: dict[str, Any]) -> Submitted:
    """The host's guest and system VMs move live to other hosts of its cluster (each under a
    job of its own), then the host is in Maintenance; at once when it runs none."""
    row = places._row(call, "hosts", args["id"], "host")
    host_id = UUID(row["id"])
    with call.read() as cursor:
        placed = machines_on_host(cursor, row["id"])
        factors = overprovisioning(cursor).of(row["cluster_id"])
        destinations = [
            Candidate(UUID(h["id"]), int(h["cpu"]), int(h["memory"]) // MIB, None, factors)
            for h in cluster_hosts(cursor, row["cluster_id"], row["hypervisor"])
            if h["id"] != row["id"]
        ]
    evacuees = [Evacuee(UUID(m["id"]), m["name"], m["role"]) for m in placed]
    command = PrepareMaintenance(host_id, evacuees, destinations, _migration_job(call))
    return run_async(
        call,
        instance_type="Host",
        instance_id=host_id,
        event_type="MAINT.PREPARE",
        description=f"Preparing host {row['name']}",
        work=lambda: _host_result(migration.prepare_for_maintenance(call.store, command)),
    )


# The job of a machine's move, by its role: its instance type and its event type's prefix.
MIGRATION_JOBS = {
    "": ("VirtualMachine", "VM"),
    "VIRTUAL_ROUTER": ("DomainRouter", "ROUTER"),
    "secondarystoragevm": ("SystemVm", "SSVM"),
    "consoleproxy": ("SystemVm", "PROXY"),
}


def _migration_job(call: Call) -> Callable[[Evacuee], SubmitJob]:
    """The job of one machine's move off a host going into maintenance, as the caller's."""

    def job_for(evacuee: Evacuee) -> SubmitJob:
        kind, prefix = MIGRATION_JOBS.get(evacuee.role, ("SystemVm", "SSVM"))
        return SubmitJob(
            f"{ADMIN_PKG}.host.PrepareForMaintenanceCmd",
            UUID(call.caller.account_id),
            UUID(call.caller.user_id),
            kind,
            evacuee.machine_id,
            f"{prefix}.MIGRATE",
            f"Migrating {evacuee.name} off a host going into maintenance",
            "hypervisor",
        )

    return job_for


def _host_result(outcome: Any) -> dict[str, Any]:
    return {"object": "host", "id": str(outcome.id)}


def cancel_maintenance(call: Call, args: dict[str, Any]) -> Submitted:
    row = places._row(call, "hosts", args["id"], "host")
    host_id = UUID(row["id"])
    return run_async(
        call,
        instance_type="Host",
        instance_id=host_id,
        event_type="MAINT.CANCEL",
        description=f"Enabling host {row['name']}",
        work=lambda: _host_result(cmd.cancel_maintenance(call.store, host_id)),
    )


def reconnect_host(call: Call, args: dict[str, Any]) -> Submitted:
    row = places._row(call, "hosts", args["id"], "host")
    if row["hypervisor"] == "BareMetal":
        raise InvalidParameter("Bare-metal hosts have no hypervisor to reconnect to")
    job_id = hypervisor_job(
        call,
        "Host",
        UUID(row["id"]),
        "HOST.RECONNECT",
        f"Reconnecting host {row['name']}",
        lambda job_id: cmd.reconnect_host(call.store, UUID(row["id"]), job_id),
    )
    return Submitted(str(job_id))


def delete_host(call: Call, args: dict[str, Any]) -> None:
    """Remove a host; removed by force, as in 4.3 it takes with it (unless
    `forcedestroylocalstorage` is false) the VMs whose disks are on its own storage: each is
    destroyed under a job of its own before the host goes."""
    row = places._row(call, "hosts", args["id"], "host")
    forced = bool(args["forced"])
    if forced and args["forcedestroylocalstorage"]:
        _destroy_local_vms(call, row)
    call.write(
        lambda store, _: cmd.delete_host(
            store, UUID(row["id"]), forced=bool(args["forced"]), vm_count=_vm_count(call, row["id"])
        ),
        None,
    )


def _destroy_local_vms(call: Call, host: dict[str, Any]) -> None:
    with call.read() as cursor:
        local = vms_on_host_storage(cursor, host["id"])
    busy = [vm["name"] for vm in local if vm["state"] not in DESTROYABLE]
    if busy:
        raise InvalidState(
            f"VMs on the local storage of host {host['name']} are busy ({', '.join(busy)}); "
            "delete the host again once they are done"
        )
    for vm in local:
        text = f"Destroying VM {vm['name']} with the local storage of host {host['name']}"
        hypervisor_job(
            call,
            "VirtualMachine",
            UUID(vm["id"]),
            "VM.DESTROY",
            text,
            partial(destroy_vm, call.store, UUID(vm["id"]), expunge=False),
        )


def update_host_password(call: Call, args: dict[str, Any]) -> None:
    """The login Stratus keeps for a host, or for every host of a cluster (a XenServer pool
    shares one, so its hosts change only together, as 4.3 has it)."""
    if args["clusterid"]:
        places._row(call, "clusters", args["clusterid"], "cluster")
        with call.read() as cursor:
            rows = cursor.execute(
                "SELECT id FROM hosts WHERE cluster_id = %s AND removed = 0 ORDER BY id",
                (args["clusterid"],),
            ).fetchall()
        if not rows:
            raise InvalidParameter(f"Cluster {args['clusterid']} has no host")
        host_ids = tuple(UUID(row["id"]) for row in rows)
    elif args["hostid"]:
        row = places._row(call, "hosts", args["hostid"], "host")
        if row["hypervisor"] == "XenServer":
            raise InvalidParameter("You should provide cluster id for Xenserver cluster.")
        host_ids = (UUID(row["id"]),)
    else:
        raise InvalidParameter("You should provide one of cluster id or a host id.")
    command = cmd.ChangeCredentials(host_ids, args["username"], args["password"])
    call.write(cmd.change_credentials, command)


# ---- capacity, summary, alerts -----------------------------------------------------


def list_capacity(call: Call, args: dict[str, Any]) -> Listing:
    items = capacity_items(call, args["zoneid"], args["podid"], args["clusterid"], args["type"])
    return Listing(items, len(items))


def list_infrastructure(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    with call.read() as cursor:
        for key, table in (
            ("zones", "zones"),
            ("pods", "pods"),
            ("clusters", "clusters"),
            ("hosts", "hosts"),
        ):
            counts[key] = cursor.execute(
                f"SELECT count(*) AS n FROM {table} WHERE removed = 0"
            ).fetchone()["n"]
        counts["alerts"] = cursor.execute(
            "SELECT count(*) AS n FROM alerts WHERE archived = 0 AND deleted = 0"
        ).fetchone()["n"]
        stores = store_counts(cursor)
        sockets = cursor.execute(
            "SELECT hypervisor, count(*) AS hosts, sum(cpu_sockets) AS sockets FROM hosts "
            "WHERE removed = 0 GROUP BY hypervisor ORDER BY hypervisor"
        ).fetchall()
    counts.update(
        {
            "storagepools": stores["pools"],
            "imagestores": stores["images"],
            "routers": 0,
            "systemvms": 0,
            "cpusockets": sum(int(r["sockets"] or 0) for r in sockets),
            "sockets": [
                {
                    "hypervisor": r["hypervisor"],
                    "hosts": int(r["hosts"]),
                    "cpusockets": int(r["sockets"] or 0),
                }
                for r in sockets
            ],
        }
    )
    return counts


HOST_FILTERS = (
    Param("id", P.UUID),
    Param("name", P.STRING),
    Param("zoneid", P.UUID),
    Param("podid", P.UUID),
    Param("clusterid", P.UUID),
    Param("state", P.STRING),
    Param("type", P.STRING),
    Param("resourcestate", P.STRING),
    Param("hypervisor", P.STRING),
    Param("details", P.LIST, element=P.STRING),
    Param("hahost", P.BOOLEAN),
    Param("virtualmachineid", P.UUID),
)
ID = (Param("id", P.UUID, required=True),)
# What addHost takes; addBaremetalHost takes it too.
ADD_HOST = (
    Param("zoneid", P.UUID, required=True),
    Param("podid", P.UUID, required=True),
    Param("url", P.STRING, required=True, max_length=2048),
    Param("username", P.STRING, required=True),
    Param("password", P.STRING, required=True),
    Param("hypervisor", P.STRING, required=True),
    Param("clusterid", P.UUID),
    Param("clustername", P.STRING),
    Param("allocationstate", P.STRING),
    Param("hosttags", P.LIST, element=P.STRING),
)

COMMANDS = (
    ApiCommand(
        "listHosts",
        list_hosts,
        HOST_FILTERS,
        role=RA,
        shape="list",
        item_key="host",
        description="Lists hosts",
    ),
    ApiCommand(
        "addHost",
        add_host,
        ADD_HOST,
        role=RA,
        shape="list",
        paged=False,
        item_key="host",
        description="Adds a new host",
    ),
    ApiCommand(
        "updateHost",
        update_host,
        (
            *ID,
            Param("allocationstate", P.STRING),
            Param("hosttags", P.LIST, element=P.STRING),
            Param("name", P.STRING, extension="renames a host, as later CloudStack versions allow"),
            Param("oscategoryid", P.UUID),
            Param("url", P.STRING),
        ),
        role=RA,
        item_key="host",
        description="Updates a host",
    ),
    ApiCommand(
        "prepareHostForMaintenance",
        prepare_for_maintenance,
        ID,
        role=RA,
        shape="async",
        is_async=True,
        item_key="host",
        render=_host,
        java_class=f"{ADMIN_PKG}.host.PrepareForMaintenanceCmd",
        description="Prepares a host for maintenance",
    ),
    ApiCommand(
        "cancelHostMaintenance",
        cancel_maintenance,
        ID,
        role=RA,
        shape="async",
        is_async=True,
        item_key="host",
        render=_host,
        java_class=f"{ADMIN_PKG}.host.CancelMaintenanceCmd",
        description="Cancels host maintenance",
    ),
    ApiCommand(
        "reconnectHost",
        reconnect_host,
        ID,
        role=RA,
        shape="async",
        is_async=True,
        item_key="host",
        render=_host,
        java_class=f"{ADMIN_PKG}.host.ReconnectHostCmd",
        description="Reconnects a host",
    ),
    ApiCommand(
        "deleteHost",
        delete_host,
        (
            *ID,
            Param("forced", P.BOOLEAN),
            Param("forcedestroylocalstorage", P.BOOLEAN, default=True),
        ),
        role=RA,
        shape="success",
        description="Deletes a host",
    ),
    ApiCommand(
        "updateHostPassword",
        update_host_password,
        (
            Param("hostid", P.UUID),
            Param("clusterid", P.UUID),
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
        ),
        role=RA,
        shape="success",
        description="Updates the login Stratus uses for a host or a cluster's hosts",
    ),
    ApiCommand(
        "listCapacity",
        list_capacity,
        (
            Param("zoneid", P.UUID),
            Param("podid", P.UUID),
            Param("clusterid", P.UUID),
            Param("type", P.INTEGER),
            Param("fetchlatest", P.BOOLEAN),
            Param("sortby", P.STRING),
        ),
        role=RA,
        shape="list",
        item_key="capacity",
        description="Lists capacity",
    ),
    ApiCommand(
        "listInfrastructure",
        list_infrastructure,
        role=RA,
        extension="the infrastructure summary of later CloudStack versions",
        item_key="infrastructure",
        description="Counts the infrastructure and its CPU sockets per hypervisor",
    ),
)
