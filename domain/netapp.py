"""NetApp storage as 4.3's NetApp plugin keeps it: pools of filer volumes, and iSCSI LUNs carved
from them. A pool allocates a new LUN to one of its volumes, round robin or the least full one.

One aggregate holds the whole inventory, so its rules hold however many operators act at once:
pool names are unique, a volume (filer address, aggregate, name) is recorded once, a pool with
volumes is not deleted, a volume with LUNs is not destroyed, and LUN numbers are never reused
(a LUN is named `lun-` and its number in six digits, the name of its initiator group too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, ResourceInUse
from domain.values import Secret

ALGORITHMS = ("roundrobin", "leastfull")
_NAMESPACE = UUID("0e6f3d1a-7a4b-4c55-9f0e-2b8d6c1a9e47")


def check_algorithm(algorithm: str) -> str:
    """4.3 takes either algorithm in any case, and keeps it as given."""
    if algorithm.lower() not in ALGORITHMS:
        raise InvalidParameter(f"Unknown algorithm {algorithm}")
    return algorithm


def lun_name(number: int) -> str:
    return f"lun-{number:06d}"


def lun_number(name: str) -> int:
    """The number in a LUN's name (`lun-000045` is 45); 431 when it is not such a name."""
    parts = name.split("-")
    if len(parts) != 2 or not parts[1].isdigit():
        raise InvalidParameter("The lun id is malformed")
    return int(parts[1])


@dataclass(frozen=True)
class VolumeSpec:
    """A filer volume as createVolumeOnFiler describes it (size as the filer takes it: `10g`)."""

    address: str
    aggregate: str
    name: str
    pool: str
    size: str
    username: str
    password: Secret
    snapshot_policy: str = ""
    snapshot_reservation: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.address, self.aggregate, self.name)

    def fields(self) -> dict[str, Any]:
        """The spec as an event's plain attributes."""
        return {
            "address": self.address,
            "aggregate": self.aggregate,
            "name": self.name,
            "pool": self.pool,
            "size": self.size,
            "username": self.username,
            "password": self.password,
            "snapshot_policy": self.snapshot_policy,
            "snapshot_reservation": self.snapshot_reservation,
        }


@dataclass
class Pool:
    id: UUID
    name: str
    algorithm: str
    volumes: list[UUID] = field(default_factory=list)
    allocations: int = 0  # LUNs allocated so far: where round robin starts next


@dataclass
class Lun:
    number: int
    volume_id: UUID
    path: str  # on the filer: /vol/<volume>/lun-000045
    target_iqn: str


class NetappStorage(Aggregate):
    """Every NetApp pool, volume and LUN the cloud keeps (one per cloud)."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(_NAMESPACE, "netapp-storage")

    @event("Started")
    def __init__(self) -> None:
        self.pools: dict[str, Pool] = {}
        self.volumes: dict[UUID, VolumeSpec] = {}
        self.luns: dict[int, Lun] = {}
        self.last_number = 0

    # ---- pools ----

    def pool(self, name: str) -> Pool:
        if name not in self.pools:
            raise InvalidParameter(f"Cannot find pool {name}")
        return self.pools[name]

    def create_pool(self, pool_id: UUID, name: str, algorithm: str) -> None:
        check_algorithm(algorithm)
        if not name.strip():
            raise InvalidParameter("A pool needs a name")
        if name in self.pools:
            raise InvalidParameter("Duplicate Pool Name")
        self._pool_created(pool_id=pool_id, name=name, algorithm=algorithm)

    @event("PoolCreated")
    def _pool_created(self, pool_id: UUID, name: str, algorithm: str) -> None:
        self.pools[name] = Pool(pool_id, name, algorithm)

    def modify_pool(self, name: str, algorithm: str) -> None:
        check_algorithm(algorithm)
        self._pool_modified(pool_id=self.pool(name).id, name=name, algorithm=algorithm)

    @event("PoolModified")
    def _pool_modified(self, pool_id: UUID, name: str, algorithm: str) -> None:
        self.pools[name].algorithm = algorithm

    def delete_pool(self, name: str) -> None:
        pool = self.pool(name)
        if pool.volumes:
            raise ResourceInUse("Cannot delete non-empty pool")
        self._pool_deleted(pool_id=pool.id, name=name)

    @event("PoolDeleted")
    def _pool_deleted(self, pool_id: UUID, name: str) -> None:
        del self.pools[name]

    # ---- volumes ----

    def volume_id(self, address: str, aggregate: str, name: str) -> UUID | None:
        return next(
            (i for i, v in self.volumes.items() if v.key == (address, aggregate, name)), None
        )

    def check_new_volume(self, spec: VolumeSpec) -> Pool:
        """The pool a new volume joins; 431 when the volume is recorded already or no pool."""
        if self.volume_id(*spec.key) is not None:
            raise InvalidParameter(
                "The volume for the given ipAddress/aggregateName/volumeName tuple already exists"
            )
        if not 0 <= spec.snapshot_reservation <= 100:
            raise InvalidParameter("Invalid snapshot reservation")
        return self.pool(spec.pool)

    def add_volume(self, volume_id: UUID, spec: VolumeSpec) -> None:
        pool = self.check_new_volume(spec)
        self._volume_added(volume_id=volume_id, pool_id=pool.id, **spec.fields())

    @event("VolumeAdded")
    def _volume_added(
        self,
        volume_id: UUID,
        pool_id: UUID,
        address: str,
        aggregate: str,
        name: str,
        pool: str,
        size: str,
        username: str,
        password: Secret,
        snapshot_policy: str,
        snapshot_reservation: int,
    ) -> None:
        spec = VolumeSpec(
            address,
            aggregate,
            name,
            pool,
            size,
            username,
            password,
            snapshot_policy,
            snapshot_reservation,
        )
        self.volumes[volume_id] = spec
        self.pools[spec.pool].volumes.append(volume_id)

    def volume_to_destroy(self, address: str, aggregate: str, name: str) -> UUID:
        """The recorded volume, free of LUNs: 431 when unknown, 536 when LUNs are on it."""
        volume_id = self.volume_id(address, aggregate, name)
        if volume_id is None:
            raise InvalidParameter(
                f"The given tuple:{address},{aggregate},{name} doesn't exist in our system"
            )
        if any(lun.volume_id == volume_id for lun in self.luns.values()):
            raise ResourceInUse("There are luns on the volume")
        return volume_id

    def remove_volume(self, volume_id: UUID) -> None:
        spec = self.volumes[volume_id]
        self.volume_to_destroy(*spec.key)
        self._volume_removed(volume_id=volume_id, pool_id=self.pools[spec.pool].id)

    @event("VolumeRemoved")
    def _volume_removed(self, volume_id: UUID, pool_id: UUID) -> None:
        spec = self.volumes.pop(volume_id)
        self.pools[spec.pool].volumes.remove(volume_id)

    def pool_volumes(self, pool_name: str) -> list[tuple[UUID, VolumeSpec]]:
        """The pool's volumes in the order they were added."""
        return [(i, self.volumes[i]) for i in self.pool(pool_name).volumes]

    # ---- LUNs ----

    def reserve_lun(self, pool_name: str, size_gb: int) -> tuple[int, int]:
        """A new LUN number, and where round robin starts in the pool's volumes this time."""
        pool = self.pool(pool_name)
        if size_gb <= 0:
            raise InvalidParameter("Please specify a valid lun size in Gb")
        if not pool.volumes:
            raise InvalidParameter("No volumes exist in the given pool")
        start = pool.allocations % len(pool.volumes)
        self._lun_reserved(number=self.last_number + 1, pool_id=pool.id, pool_name=pool_name)
        return self.last_number, start

    @event("LunReserved")
    def _lun_reserved(self, number: int, pool_id: UUID, pool_name: str) -> None:
        self.last_number = number
        self.pools[pool_name].allocations += 1

    def add_lun(self, number: int, volume_id: UUID, path: str, target_iqn: str) -> None:
        if volume_id not in self.volumes:
            raise InvalidParameter("The volume the LUN was made on is no longer recorded")
        self._lun_added(number=number, volume_id=volume_id, path=path, target_iqn=target_iqn)

    @event("LunAdded")
    def _lun_added(self, number: int, volume_id: UUID, path: str, target_iqn: str) -> None:
        self.luns[number] = Lun(number, volume_id, path, target_iqn)

    def lun(self, name: str, *, missing: str = "Cannot find lun") -> Lun:
        number = lun_number(name) if name.startswith("lun-") else -1
        if number not in self.luns:
            raise InvalidParameter(missing)
        return self.luns[number]

    def remove_lun(self, number: int) -> None:
        if number not in self.luns:
            raise InvalidParameter("Cannot find lun")
        self._lun_removed(number=number)

    @event("LunRemoved")
    def _lun_removed(self, number: int) -> None:
        del self.luns[number]
