"""StoragePool (primary storage) and ImageStore (secondary, staging and object stores).

A pool or store keeps its URL without credentials; the credentials are `Secret`s, sealed in
every stored event and never shown. A pool's maintenance follows 4.3's states: Up, then
PrepareForMaintenance while its volumes' VMs are dealt with, then Maintenance, and back Up.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InsufficientCapacity, InvalidParameter, InvalidState, ResourceInUse
from domain.values import Secret
from domain.vm import HostAccess


class PoolState:
    UP = "Up"
    PREPARE_FOR_MAINTENANCE = "PrepareForMaintenance"
    MAINTENANCE = "Maintenance"
    ERROR_IN_MAINTENANCE = "ErrorInMaintenance"


class Scope:
    CLUSTER = "CLUSTER"
    ZONE = "ZONE"
    REGION = "REGION"


def parse_tags(text: str | None) -> tuple[str, ...]:
    """Storage tags as 4.3 takes them: comma-separated, blanks dropped, each kept once."""
    tags: list[str] = []
    for tag in (text or "").split(","):
        tag = tag.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _check_capacity(capacity_bytes: int | None, capacity_iops: int | None) -> None:
    if capacity_bytes is not None and capacity_bytes < 0:
        raise InvalidParameter("capacitybytes must not be negative")
    if capacity_iops is not None and capacity_iops < 0:
        raise InvalidParameter("capacityiops must not be negative")


class StoragePool(Aggregate):
    """A primary storage pool of a cluster or a whole zone; volumes live on it."""

    @event("Created")
    def __init__(
        self,
        name: str,
        place: dict[str, Any],
        pool_type: str,
        location: dict[str, Any],
        credentials: dict[str, Secret],
        capacity_bytes: int | None,
        capacity_iops: int | None,
        tags: tuple[str, ...],
        details: dict[str, str],
    ) -> None:
        if not name.strip():
            raise InvalidParameter("A storage pool needs a name")
        _check_capacity(capacity_bytes, capacity_iops)
        self.name = name
        # place: zone_id, pod_id, cluster_id (UUID or None), scope, hypervisor
        self.place = dict(place)
        self.pool_type = pool_type
        # location: url (no credentials), host, port, path, user, provider, managed
        self.location = dict(location)
        self.credentials = dict(credentials)
        self.capacity_bytes, self.capacity_iops = capacity_bytes, capacity_iops
        self.tags = tuple(tags)
        self.details = dict(details)
        self.state = PoolState.UP
        self.volume_ids: list[UUID] = []
        self.allocations: dict[str, int] = {}  # bytes each volume on the pool takes
        self.iops_allocations: dict[str, int] = {}  # IOPS each volume is guaranteed (QoS)
        self.reported_bytes = 0  # the capacity its hosts see, when no capacity was given
        # Per host of its scope (by host id): the connection request in flight or answered.
        self.connections: dict[str, dict[str, Any]] = {}
        self.removed = False

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidParameter(f"Storage pool {self.name} has been removed")

    def update(
        self, capacity_bytes: int | None, capacity_iops: int | None, tags: tuple[str, ...] | None
    ) -> None:
        """New capacity or tags; nothing given changes nothing."""
        self._check_live()
        _check_capacity(capacity_bytes, capacity_iops)
        if capacity_bytes is None and capacity_iops is None and tags is None:
            return
        self._updated(capacity_bytes=capacity_bytes, capacity_iops=capacity_iops, tags=tags)

    @event("Updated")
    def _updated(
        self, capacity_bytes: int | None, capacity_iops: int | None, tags: tuple[str, ...] | None
    ) -> None:
        if capacity_bytes is not None:
            self.capacity_bytes = capacity_bytes
        if capacity_iops is not None:
            self.capacity_iops = capacity_iops
        if tags is not None:
            self.tags = tuple(tags)

    def prepare_for_maintenance(self) -> None:
        """Up -> PrepareForMaintenance; refused (431) from any other state, as in 4.3."""
        self._check_live()
        if self.state != PoolState.UP:
            raise InvalidState(
                f"Primary storage with id {self.id} is not ready for migration, as the status "
                f"is: {self.state}"
            )
        self._maintenance_requested()

    @event("MaintenanceRequested")
    def _maintenance_requested(self) -> None:
        self.state = PoolState.PREPARE_FOR_MAINTENANCE

    @event("MaintenanceEntered")
    def enter_maintenance(self) -> None:
        """Its volumes dealt with: the pool is in maintenance."""
        self.state = PoolState.MAINTENANCE

    def cancel_maintenance(self) -> None:
        """Back Up from maintenance (or a maintenance that did not finish)."""
        self._check_live()
        if self.state == PoolState.UP:
            raise InvalidState(
                f"Primary storage with id {self.id} is not ready to complete migration, as the "
                f"status is: {self.state}"
            )
        self._maintenance_cancelled()

    @event("MaintenanceCancelled")
    def _maintenance_cancelled(self) -> None:
        self.state = PoolState.UP

    @property
    def scope_key(self) -> str:
        place = self.place
        cluster = place.get("cluster_id")
        return scope_keys(place["zone_id"], cluster, place["hypervisor"])[0]

    def spec(self) -> dict[str, Any]:
        """What a host needs to know to use the pool (no credential: those stay sealed)."""
        where = self.location
        return {
            "pool_id": str(self.id),
            "pool_type": self.pool_type,
            "host": where.get("host", ""),
            "path": where.get("path", ""),
            "port": where.get("port") or 0,
            "user": where.get("user", ""),
        }

    def request_connection(self, request_id: str, access: HostAccess) -> None:
        """Ask the host (one of the pool's scope) to connect the pool."""
        self._check_live()
        self._connect_requested(
            request_id=request_id,
            host_id=access.host_id,
            url=access.url,
            username=access.username,
            password=access.password,
            hypervisor=access.hypervisor,
            pool=self.spec(),
        )

    @event("ConnectRequested")
    def _connect_requested(
        self,
        request_id: str,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        pool: dict[str, Any],
    ) -> None:
        self.connections[str(host_id)] = {"state": "Connecting", "request_id": request_id}

    def host_of_request(self, request_id: str) -> str | None:
        """The host whose connection request in flight this is (None: stale or unknown)."""
        for host_id, connection in self.connections.items():
            if connection["request_id"] == request_id and connection["state"] == "Connecting":
                return host_id
        return None

    def report_connection(
        self, request_id: str, capacity_bytes: int, available_bytes: int, error: str | None
    ) -> bool:
        """The host's answer to the request in flight; False (nothing recorded) for any other."""
        host_id = self.host_of_request(request_id)
        if host_id is None or self.removed:
            return False
        if error is None:
            self._host_connected(
                host_id=host_id,
                request_id=request_id,
                capacity_bytes=capacity_bytes,
                available_bytes=available_bytes,
            )
        else:
            self._host_connection_failed(host_id=host_id, request_id=request_id, reason=error)
        return True

    @event("HostConnected")
    def _host_connected(
        self, host_id: str, request_id: str, capacity_bytes: int, available_bytes: int
    ) -> None:
        self.connections[host_id] = {"state": "Connected", "request_id": request_id}
        self.reported_bytes = capacity_bytes

    @event("HostConnectionFailed")
    def _host_connection_failed(self, host_id: str, request_id: str, reason: str) -> None:
        self.connections[host_id] = {"state": "Failed", "request_id": request_id}

    @property
    def total_bytes(self) -> int:
        """Its capacity: the bytes given when it was made, else what its hosts report."""
        return self.capacity_bytes or self.reported_bytes

    @property
    def allocated_bytes(self) -> int:
        return sum(self.allocations.values())

    @property
    def allocated_iops(self) -> int:
        """The minimum IOPS its volumes are guaranteed (storage QoS), together."""
        return sum(getattr(self, "iops_allocations", {}).values())

    def has_iops_for(self, min_iops: int) -> bool:
        """Whether the pool can guarantee `min_iops` more: always, unless it has a
        `capacity_iops`, which the guaranteed IOPS of its volumes may not exceed (as 4.3)."""
        if self.capacity_iops is None or not min_iops:
            return True
        return self.allocated_iops + min_iops <= self.capacity_iops

    def takes(
        self, size_bytes: int, tags: tuple[str, ...], factor: float, *, min_iops: int = 0
    ) -> bool:
        """Whether a new volume of `size_bytes` needing storage `tags` (and guaranteed
        `min_iops`) may go here: the pool is Up, carries every tag, and has room under the
        over-provisioning `factor` and its IOPS capacity."""
        if self.removed or self.state != PoolState.UP or not set(tags) <= set(self.tags):
            return False
        if not self.has_iops_for(min_iops):
            return False
        return self.total_bytes * factor - self.allocated_bytes >= size_bytes

    def check_takes(
        self, size_bytes: int, tags: tuple[str, ...], factor: float, *, min_iops: int = 0
    ) -> None:
        """`takes`, refusing with the reason: not Up or missing a tag (431), no room (533)."""
        self._check_live()
        if self.state != PoolState.UP:
            raise InvalidParameter(f"Storage pool {self.name} is not Up (it is {self.state})")
        missing = sorted(set(tags) - set(self.tags))
        if missing:
            raise InvalidParameter(
                f"Storage pool {self.name} does not have the storage tags the volume's offering "
                f"needs: {','.join(missing)}"
            )
        if not self.has_iops_for(min_iops):
            raise InsufficientCapacity(
                f"Storage pool {self.name} cannot guarantee {min_iops} IOPS more: its volumes "
                f"have {self.allocated_iops} of its {self.capacity_iops}"
            )
        if not self.takes(size_bytes, tags, factor):
            raise InsufficientCapacity(
                f"Storage pool {self.name} has no room for {size_bytes // 1024**3} GB more"
            )

    def connected_hosts(self) -> set[str]:
        """The hosts (ids) that have the pool connected."""
        return {h for h, c in self.connections.items() if c["state"] == "Connected"}

    def place_volume(self, volume_id: UUID, size_bytes: int, *, min_iops: int = 0) -> None:
        """A volume now lives on this pool, taking `size_bytes` of it (and `min_iops` of its
        IOPS capacity, the IOPS the volume is guaranteed)."""
        self._check_live()
        if str(volume_id) not in self.allocations:
            self._volume_placed(volume_id=volume_id, size_bytes=size_bytes, min_iops=min_iops)

    @event("VolumePlaced")
    def _volume_placed(self, volume_id: UUID, size_bytes: int, min_iops: int = 0) -> None:
        if volume_id not in self.volume_ids:
            self.volume_ids.append(volume_id)
        self.allocations[str(volume_id)] = size_bytes
        if min_iops:  # events from before storage QoS have none
            self.iops_allocations = dict(getattr(self, "iops_allocations", {}))
            self.iops_allocations[str(volume_id)] = min_iops

    def resize_volume(self, volume_id: UUID, size_bytes: int) -> None:
        """A volume on the pool now takes `size_bytes`."""
        before = self.allocations.get(str(volume_id))
        if before is not None and before != size_bytes:
            self._volume_resized(volume_id=volume_id, size_bytes=size_bytes, previous=before)

    @event("VolumeResized")
    def _volume_resized(self, volume_id: UUID, size_bytes: int, previous: int) -> None:
        self.allocations[str(volume_id)] = size_bytes

    def release_volume(self, volume_id: UUID) -> None:
        """The volume is gone from the pool (deleted, or recorded elsewhere)."""
        if str(volume_id) in self.allocations:
            self._volume_left(volume_id=volume_id, size_bytes=self.allocations[str(volume_id)])

    @event("VolumeLeft")
    def _volume_left(self, volume_id: UUID, size_bytes: int) -> None:
        if volume_id in self.volume_ids:
            self.volume_ids.remove(volume_id)
        self.allocations.pop(str(volume_id), None)
        getattr(self, "iops_allocations", {}).pop(str(volume_id), None)

    def delete(self) -> None:
        """Forget the pool; refused (536) while volumes live on it."""
        self._check_live()
        if self.volume_ids:
            raise ResourceInUse(
                f"Cannot delete pool {self.name} as there are associated volumes for this pool",
                resource_ids=tuple(str(v) for v in self.volume_ids),
            )
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True


_INDEX_NAMESPACE = UUID("5b0f6a1e-3c2d-4e8f-9a7b-1d2c3e4f5a6b")


def scope_keys(zone_id: UUID, cluster_id: UUID | None, hypervisor: str) -> tuple[str, ...]:
    """The scopes a host of this place belongs to (its cluster's, and its zone's for its
    hypervisor); a pool's scope is one of them."""
    zone_key = f"zone:{zone_id}:{hypervisor}"
    return (f"cluster:{cluster_id}", zone_key) if cluster_id is not None else (zone_key,)


class PoolIndex(Aggregate):
    """The pools of one scope (a cluster, or a zone's hosts of one hypervisor), so a host that
    connects later finds the pools it must use."""

    @staticmethod
    def create_id(scope_key: str) -> UUID:
        return uuid5(_INDEX_NAMESPACE, scope_key)

    @event("Created")
    def __init__(self, scope_key: str) -> None:
        self.scope_key = scope_key
        self.pool_ids: list[UUID] = []

    @event("PoolAdded")
    def add(self, pool_id: UUID) -> None:
        if pool_id not in self.pool_ids:
            self.pool_ids.append(pool_id)

    @event("PoolRemoved")
    def remove(self, pool_id: UUID) -> None:
        if pool_id in self.pool_ids:
            self.pool_ids.remove(pool_id)


class StoreRole:
    IMAGE = "Image"
    STAGING = "ImageCache"


class ImageStore(Aggregate):
    """Where templates, ISOs and snapshots are kept: an NFS or SMB share of a zone, or an S3 or
    Swift object store of the region; a staging store is an NFS share in front of an object
    store."""

    @event("Added")
    def __init__(
        self,
        name: str,
        role: str,
        provider: str,
        protocol: str,
        url: str,
        zone_id: UUID | None,
        details: dict[str, str],
        credentials: dict[str, Secret],
    ) -> None:
        if not name.strip():
            raise InvalidParameter("An image store needs a name")
        self.name, self.role, self.provider, self.protocol = name, role, provider, protocol
        self.url, self.zone_id = url, zone_id
        self.scope = Scope.ZONE if zone_id is not None else Scope.REGION
        self.details = dict(details)
        self.credentials = dict(credentials)
        self.held_ids: list[UUID] = []
        self.removed = False

    @event("ObjectStored")
    def hold(self, object_id: UUID) -> None:
        """A template, ISO or snapshot is now kept on this store (recorded by whoever puts it
        there)."""
        if object_id not in self.held_ids:
            self.held_ids.append(object_id)

    @event("ObjectRemoved")
    def let_go(self, object_id: UUID) -> None:
        if object_id in self.held_ids:
            self.held_ids.remove(object_id)

    def convert_to_staging(self) -> None:
        """prepareSecondaryStorageForMigration (4.3): an NFS image store becomes the staging
        cache in front of the region's object store; what it keeps stays there as cached
        copies, and new images no longer go to it."""
        if self.removed:
            raise InvalidParameter(f"Image store {self.name} has been removed")
        if self.provider != "NFS" or self.role not in (StoreRole.IMAGE, StoreRole.STAGING):
            raise InvalidParameter(
                "We only support migrate NFS secondary storage to use object store!"
            )
        if self.role != StoreRole.STAGING:
            self._converted_to_staging(previous_role=self.role)

    @event("ConvertedToStaging")
    def _converted_to_staging(self, previous_role: str) -> None:
        self.role = StoreRole.STAGING

    def remove(self) -> None:
        """Forget the store; refused (536) while it holds templates, ISOs or snapshots."""
        if self.removed:
            raise InvalidParameter(f"Image store {self.name} has been removed")
        if self.held_ids:
            raise ResourceInUse(
                f"Cannot delete image store {self.name} as it still holds templates, ISOs or "
                "snapshots",
                resource_ids=tuple(str(i) for i in self.held_ids),
            )
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
