"""Primary storage pools (root admin): create, update, delete, list, maintenance, the storage
providers, and the pools a volume could move to.

A pool's URL is checked against the hypervisor of its scope; credentials in the URL or its
details are sealed before anything is saved and are never answered.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import names_by_id, select_page
from api.cloudstack.configuration import current_value, pool_overrides, pool_value
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType
from commands import storage as cmd
from commands.volume_placement import PoolNeeds
from domain.errors import InvalidParameter, NotFound
from domain.infrastructure import check_hypervisor
from domain.storage import PoolState, Scope, parse_tags
from domain.storage_url import POOL_SCHEMES, ZONE_WIDE_HYPERVISORS, parse_pool_url
from projections.storage import (
    POOLS_NAMED,
    hosts_of_scope,
    pool_by_id,
    pool_capacity,
    pool_hosts,
    pool_sizes,
)
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
PKG = "org.apache.cloudstack.api.command.admin.storage"
PRIMARY_PROVIDERS = ("DefaultPrimary",)
IMAGE_PROVIDERS = ("NFS", "SMB", "S3", "Swift")
OVERPROVISIONING = "storage.overprovisioning.factor"
# Detail keys whose values are credentials: sealed, never shown.
SECRET_DETAIL_WORDS = ("password", "secret", "key")
MANAGED = "managed storage (a volume per storage LUN, as SolidFire offers) is not built yet"


def _factor(call: Call, zone_id: str) -> float:
    return float(current_value(call, OVERPROVISIONING, "zone", zone_id))


def _pool_factor(call: Call, row: dict[str, Any]) -> float:
    """A pool's over-provisioning factor: its own, else its zone's, else the global one."""
    return float(pool_value(call, OVERPROVISIONING, str(row["id"]), str(row["zone_id"])))


def pool_needs(call: Call, zone_id: str, tags: tuple[str, ...]) -> PoolNeeds:
    """What a new disk of the zone needs of its primary storage pool: its offering's storage
    tags, and room under the over-provisioning factor (the zone's, and the pools' own)."""
    own = pool_overrides(call, OVERPROVISIONING)
    pools = tuple(sorted((UUID(pool_id), float(value)) for pool_id, value in own.items()))
    return PoolNeeds(tags, _factor(call, zone_id), pools)


STORAGE = 2  # listCapacity's type of primary storage (bytes used of the pools' capacity)
STORAGE_ALLOCATED = 3  # and of the bytes allocated, against capacity x over-provisioning


def storage_capacity(call: Call, args: dict[str, Any]) -> list[dict[str, Any]]:
    """listCapacity's primary storage items, per zone, from the pools (the allocated limit under
    each pool's own over-provisioning factor)."""
    place = {"zone_id": args["zoneid"], "pod_id": args["podid"], "cluster_id": args["clusterid"]}
    with call.read() as cursor:
        rows = pool_capacity(cursor, place)
        sizes = pool_sizes(cursor, place)
    zones = names_by_id(call, "zones", {r["zone_id"] for r in rows})
    own = {k: float(v) for k, v in pool_overrides(call, OVERPROVISIONING).items()}
    items = []
    for row in rows:
        total, allocated = int(row["total"] or 0), int(row["allocated"] or 0)
        factor = _factor(call, row["zone_id"])  # a pool's own factor counts for that pool
        limit = int(
            sum(
                int(p["total"] or 0) * own.get(str(p["id"]), factor)
                for p in sizes
                if p["zone_id"] == row["zone_id"]
            )
        )
        used_now = int(row["used"] or 0)
        for kind, used, of in ((STORAGE, used_now, total), (STORAGE_ALLOCATED, allocated, limit)):
            if args["type"] is None or args["type"] == kind:
                items.append(_capacity_item(kind, row["zone_id"], zones, used, of))
    return items


def _capacity_item(
    kind: int, zone_id: str, zones: dict[str, str], used: int, total: int
) -> dict[str, Any]:
    percent = f"{100 * used / total:.2f}" if total else "0"
    return {
        "type": kind,
        "zoneid": zone_id,
        "zonename": zones.get(zone_id, ""),
        "capacityused": used,
        "capacitytotal": total,
        "percentused": percent,
    }


def render_pool(call: Call, row: dict[str, Any], factor: float | None = None) -> dict[str, Any]:
    """A pool as 4.3 answers it; `factor`, the pool's over-provisioning, is read if not given."""
    factor = _pool_factor(call, row) if factor is None else factor
    body = {
        "id": row["id"],
        "name": row["name"],
        "zoneid": row["zone_id"],
        "zonename": row["zone_name"],
        "podid": row["pod_id"],
        "podname": row["pod_name"],
        "clusterid": row["cluster_id"],
        "clustername": row["cluster_name"],
        "scope": row["scope"],
        "hypervisor": row["hypervisor"],
        "type": row["pool_type"],
        "ipaddress": row["host"],
        "path": row["path"],
        "state": row["state"],
        "created": format_stored_date(row["created"]),
        "disksizetotal": int(row["capacity_bytes"] or row["reported_bytes"]),
        "disksizeallocated": int(row["allocated_bytes"]),
        "disksizeused": int(row["used_bytes"]),
        "capacityiops": row["capacity_iops"],
        "overprovisionfactor": f"{factor}",
        "tags": row["tags"] or None,
    }
    return {k: v for k, v in body.items() if v is not None}


def _pool(call: Call, pool_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = pool_by_id(cursor, pool_id)
    if row is None:
        raise NotFound(f"Unable to find storage pool by id {pool_id}", resource_ids=(pool_id,))
    return row


def pool_answer(call: Call, pool_id: str) -> dict[str, Any]:
    return render_pool(call, _pool(call, pool_id))


def _live(call: Call, table: str, row_id: str, what: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT * FROM {table} WHERE id = %s AND removed = 0", (row_id,)
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find {what} by id {row_id}", resource_ids=(row_id,))
    return dict(row)


def _place(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """Where the pool is (zone, pod, cluster, scope) and the hypervisor that uses it."""
    scope = (args["scope"] or "cluster").upper()
    zone = _live(call, "zones", args["zoneid"], "zone")
    if scope == Scope.ZONE:
        if args["podid"] or args["clusterid"]:
            raise InvalidParameter("A zone-wide storage pool takes no podid or clusterid")
        if not args["hypervisor"]:
            raise InvalidParameter("A zone-wide storage pool needs the hypervisor of its hosts")
        hypervisor = check_hypervisor(args["hypervisor"])
        if hypervisor not in ZONE_WIDE_HYPERVISORS:
            raise InvalidParameter(
                f"Zone-wide storage is not supported for {hypervisor}: it is for "
                + ", ".join(sorted(ZONE_WIDE_HYPERVISORS - {"Simulator"}))
            )
        return _place_of(zone["id"], None, None, Scope.ZONE, hypervisor)
    if scope != Scope.CLUSTER:
        raise InvalidParameter(f"Invalid scope {args['scope']}: use cluster or zone")
    if not args["clusterid"] or not args["podid"]:
        raise InvalidParameter("A cluster-wide storage pool needs both podid and clusterid")
    cluster = _live(call, "clusters", args["clusterid"], "cluster")
    if cluster["pod_id"] != args["podid"] or cluster["zone_id"] != zone["id"]:
        raise InvalidParameter(f"Cluster {cluster['name']} is not in that pod and zone")
    hypervisor = cluster["hypervisor"]
    if args["hypervisor"] and check_hypervisor(args["hypervisor"]) != hypervisor:
        raise InvalidParameter(f"Cluster {cluster['name']} is a {hypervisor} cluster")
    return _place_of(zone["id"], cluster["pod_id"], cluster["id"], Scope.CLUSTER, hypervisor)


def _place_of(
    zone: str, pod: str | None, cluster: str | None, scope: str, hypervisor: str
) -> dict[str, Any]:
    return {
        "zone_id": UUID(zone),
        "pod_id": UUID(pod) if pod else None,
        "cluster_id": UUID(cluster) if cluster else None,
        "scope": scope,
        "hypervisor": hypervisor,
    }


def pool_details(groups: list[dict[str, str]] | None) -> tuple[dict[str, str], dict[str, str]]:
    """4.3's `details[i].<name>=<value>` as (details shown, credentials to seal)."""
    shown: dict[str, str] = {}
    secret: dict[str, str] = {}
    for group in groups or []:
        for key, value in group.items():
            is_secret = any(word in key.lower() for word in SECRET_DETAIL_WORDS)
            (secret if is_secret else shown)[key] = value
    return shown, secret


def _provider(name: str | None, known: tuple[str, ...], kind: str) -> str:
    for provider in known:
        if provider.lower() == (name or known[0]).lower():
            return provider
    raise InvalidParameter(f"can't find {kind} storage provider: {name}")


def create_pool(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    place = _place(call, args)
    provider = _provider(args["provider"], PRIMARY_PROVIDERS, "primary")
    url = parse_pool_url(args["url"], place["hypervisor"])
    details, secret = pool_details(args["details"])
    with call.read() as cursor:
        host_ids = tuple(UUID(h) for h in hosts_of_scope(cursor, place))
    location = {
        "url": url.shown,
        "host": url.host,
        "port": url.port,
        "path": url.path,
        "user": url.user,
        "provider": provider,
        "managed": False,
    }
    outcome = call.write(
        cmd.create_storage_pool,
        cmd.CreateStoragePool(
            args["name"],
            place,
            _pool_type(url.scheme),
            location,
            {**url.secrets, **secret},
            args["capacitybytes"],
            args["capacityiops"],
            parse_tags(args["tags"]),
            details,
            host_ids,
        ),
    )
    return pool_answer(call, str(outcome.id))


def _pool_type(scheme: str) -> str:
    return POOL_SCHEMES[scheme][0]


def update_pool(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    _pool(call, args["id"])
    tags = None if args["tags"] is None else parse_tags(args["tags"])
    call.write(
        cmd.update_storage_pool,
        cmd.UpdateStoragePool(UUID(args["id"]), args["capacitybytes"], args["capacityiops"], tags),
    )
    return pool_answer(call, args["id"])


def delete_pool(call: Call, args: dict[str, Any]) -> None:
    _pool(call, args["id"])
    call.write(lambda store, _: cmd.delete_storage_pool(store, UUID(args["id"])), None)


def _filters(args: dict[str, Any]) -> tuple[list[str], list[Any]]:
    where, params = ["p.removed = 0"], []
    for key, column in (
        ("id", "p.id"),
        ("name", "p.name"),
        ("zoneid", "p.zone_id"),
        ("podid", "p.pod_id"),
        ("clusterid", "p.cluster_id"),
        ("ipaddress", "p.host"),
        ("path", "p.path"),
    ):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("scope"):
        where.append("p.scope = %s")
        params.append(args["scope"].upper())
    if args.get("keyword"):
        clause, values = contains(("p.name",), args["keyword"])
        where.append(clause)
        params += values
    return where, params


def list_pools(call: Call, args: dict[str, Any]) -> Listing:
    where, params = _filters(args)
    return select_page(
        call, POOLS_NAMED, where, params, "p.created, p.id", args,
        lambda rows: _render_page(call, rows), whole_page=True,
    )  # fmt: skip


def _render_page(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of pools, the over-provisioning factor read once per zone, a pool's own winning."""
    factors = {zone: _factor(call, zone) for zone in {r["zone_id"] for r in rows}}
    own = {k: float(v) for k, v in pool_overrides(call, OVERPROVISIONING).items()}
    return [render_pool(call, r, own.get(str(r["id"]), factors[r["zone_id"]])) for r in rows]


def _pool_job(call: Call, args: dict[str, Any], event: str, work: Any, verb: str) -> Submitted:
    row = _pool(call, args["id"])
    pool_id = UUID(row["id"])
    return run_async(
        call,
        instance_type="StoragePool",
        instance_id=pool_id,
        event_type=event,
        description=f"{verb} primary storage {row['name']}",
        work=lambda: {"object": "storagepool", "id": str(work(call.store, pool_id).id)},
    )


def enable_maintenance(call: Call, args: dict[str, Any]) -> Submitted:
    return _pool_job(call, args, "MAINT.PREPARE.PS", cmd.enable_maintenance, "Preparing")


def cancel_maintenance(call: Call, args: dict[str, Any]) -> Submitted:
    return _pool_job(call, args, "MAINT.CANCEL.PS", cmd.cancel_maintenance, "Enabling")


def list_providers(call: Call, args: dict[str, Any]) -> Listing:
    kind = (args["type"] or "").lower()
    if kind not in ("primary", "image"):
        raise InvalidParameter(f"Invalid storage provider type {args['type']}: primary or image")
    names = PRIMARY_PROVIDERS if kind == "primary" else IMAGE_PROVIDERS
    keyword = (args["keyword"] or "").lower()
    items = [{"name": n, "type": kind} for n in names if keyword in n.lower()]
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


def volume_on_host(call: Call, volume_id: str) -> dict[str, Any]:
    """The volume with its VM's state and host (the one it runs on, else its last: cluster,
    hypervisor and version) and its offering's storage tags; 431 when there is none."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT v.*, h.id AS host_id, h.cluster_id AS cluster_id, h.hypervisor AS hypervisor, "
            "h.hypervisor_version AS hypervisor_version, vm.state AS vm_state, "
            "COALESCE(d.tags, so.tags, '') AS offering_tags "
            "FROM volumes AS v LEFT JOIN virtual_machines AS vm ON vm.id = v.vm_id "
            "LEFT JOIN disk_offerings AS d ON d.id = v.disk_offering_id "
            "LEFT JOIN service_offerings AS so ON so.id = v.disk_offering_id "
            "LEFT JOIN hosts AS h ON h.id = COALESCE(vm.host_id, vm.last_host_id) "
            "WHERE v.id = %s AND v.removed = 0",
            (volume_id,),
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find volume by id {volume_id}")
    return dict(row)


def find_for_migration(call: Call, args: dict[str, Any]) -> Listing:
    """The zone's Up pools the volume could move to; `suitableformigration` says whether the
    pool has room for it under the zone's over-provisioning factor, carries every storage tag
    of the volume's offering and, for a disk of a VM on a host, whether that host has the pool
    connected."""
    volume = volume_on_host(call, args["id"])
    size = int(volume["size_gb"]) * 1024**3
    wanted = parse_tags(volume["offering_tags"])
    where = ["p.removed = 0", "p.zone_id = %s", "p.state = %s"]
    params: list[Any] = [volume["zone_id"], PoolState.UP]
    if volume["cluster_id"]:  # a disk of a VM on a host: pools that host reaches
        where.append("(p.cluster_id = %s OR (p.scope = %s AND p.hypervisor = %s))")
        params += [volume["cluster_id"], Scope.ZONE, volume["hypervisor"]]
    if args["keyword"]:
        clause, values = contains(("p.name",), args["keyword"])
        where.append(clause)
        params += values

    def render(row: dict[str, Any]) -> dict[str, Any]:
        body = render_pool(call, row)
        room = body["disksizetotal"] * float(body["overprovisionfactor"])
        reached = True
        if volume["host_id"]:  # the VM's host must have the pool connected
            with call.read() as cursor:
                connection = pool_hosts(cursor, row["id"]).get(volume["host_id"], {})
            reached = connection.get("state") == "Connected"
        tagged = set(wanted) <= set(parse_tags(row["tags"]))
        fits = room - int(row["allocated_bytes"]) >= size
        body["suitableformigration"] = reached and tagged and fits
        return body

    return select_page(call, POOLS_NAMED, where, params, "p.created, p.id", args, render)


ID = (Param("id", P.UUID, required=True),)

COMMANDS = (
    ApiCommand(
        "createStoragePool",
        create_pool,
        (
            Param("name", P.STRING, required=True),
            Param("url", P.STRING, required=True, max_length=2048),
            Param("zoneid", P.UUID, required=True),
            Param("podid", P.UUID),
            Param("clusterid", P.UUID),
            Param("scope", P.STRING),
            Param("hypervisor", P.STRING),
            Param("provider", P.STRING),
            Param("tags", P.STRING),
            Param("capacitybytes", P.LONG, min_value=0),
            Param("capacityiops", P.LONG, min_value=0),
            Param("details", P.MAP),
            Param("managed", P.BOOLEAN, unsupported=MANAGED),
        ),
        java_class=f"{PKG}.CreateStoragePoolCmd",
        description="Creates a storage pool.",
        role=RA,
        item_key="storagepool",
    ),
    ApiCommand(
        "updateStoragePool",
        update_pool,
        (
            *ID,
            Param("tags", P.STRING),
            Param("capacitybytes", P.LONG, min_value=0),
            Param("capacityiops", P.LONG, min_value=0),
        ),
        java_class=f"{PKG}.UpdateStoragePoolCmd",
        description="Updates a storage pool.",
        role=RA,
        item_key="storagepool",
    ),
    ApiCommand(
        "deleteStoragePool",
        delete_pool,
        (*ID, Param("forced", P.BOOLEAN)),
        role=RA,
        shape="success",
        java_class=f"{PKG}.DeleteStoragePoolCmd",
        description="Deletes a storage pool.",
    ),
    ApiCommand(
        "listStoragePools",
        list_pools,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("zoneid", P.UUID),
            Param("podid", P.UUID),
            Param("clusterid", P.UUID),
            Param("ipaddress", P.STRING),
            Param("path", P.STRING),
            Param("scope", P.STRING),
        ),
        shape="list",
        java_class=f"{PKG}.ListStoragePoolsCmd",
        description="Lists storage pools.",
        role=RA,
        item_key="storagepool",
    ),
    ApiCommand(
        "listStorageProviders",
        list_providers,
        (Param("type", P.STRING, required=True),),
        role=RA,
        shape="list",
        item_key="dataStoreProvider",
        java_class=f"{PKG}.ListStorageProvidersCmd",
        description="Lists storage providers.",
    ),
    ApiCommand(
        "enableStorageMaintenance",
        enable_maintenance,
        ID,
        shape="async",
        is_async=True,
        render=pool_answer,
        java_class=f"{PKG}.PreparePrimaryStorageForMaintenanceCmd",
        description="Puts storage pool into maintenance state",
        role=RA,
        item_key="storagepool",
    ),
    ApiCommand(
        "cancelStorageMaintenance",
        cancel_maintenance,
        ID,
        shape="async",
        is_async=True,
        render=pool_answer,
        java_class=f"{PKG}.CancelPrimaryStorageMaintenanceCmd",
        description="Cancels maintenance for primary storage",
        role=RA,
        item_key="storagepool",
    ),
    ApiCommand(
        "findStoragePoolsForMigration",
        find_for_migration,
        ID,
        shape="list",
        java_class=f"{PKG}.FindStoragePoolsForMigrationCmd",
        description="Lists storage pools available for migration of a volume.",
        role=RA,
        item_key="storagepool",
    ),
)
