"""Commands on the NetApp inventory (pools, filer volumes, LUNs): each loads the one
`NetappStorage` aggregate, changes it and saves it. The filer work itself is done by the caller
before (a volume made, a LUN made) or after (nothing) the change it records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome, change_singleton
from domain.errors import NotFound
from domain.netapp import NetappStorage, VolumeSpec


def inventory(store: Any) -> NetappStorage:
    """The inventory as recorded now (an empty one before anything was recorded)."""
    try:
        found: NetappStorage = store.get(NetappStorage, NetappStorage.create_id())
    except NotFound:
        return NetappStorage()
    return found


def _change(store: Any, mutate: Callable[[NetappStorage], Any]) -> Outcome:
    return change_singleton(store, NetappStorage, mutate, what="NetApp storage")


@dataclass(frozen=True)
class CreatePool:
    pool_id: UUID
    name: str
    algorithm: str


def create_pool(store: Any, command: CreatePool) -> Outcome:
    return _change(store, lambda s: s.create_pool(command.pool_id, command.name, command.algorithm))


@dataclass(frozen=True)
class ModifyPool:
    name: str
    algorithm: str


def modify_pool(store: Any, command: ModifyPool) -> Outcome:
    return _change(store, lambda s: s.modify_pool(command.name, command.algorithm))


def delete_pool(store: Any, name: str) -> Outcome:
    return _change(store, lambda s: s.delete_pool(name))


@dataclass(frozen=True)
class AddVolume:
    volume_id: UUID
    spec: VolumeSpec


def add_volume(store: Any, command: AddVolume) -> Outcome:
    return _change(store, lambda s: s.add_volume(command.volume_id, command.spec))


def remove_volume(store: Any, volume_id: UUID) -> Outcome:
    return _change(store, lambda s: s.remove_volume(volume_id))


@dataclass(frozen=True)
class Reservation:
    """A LUN number taken, and where round robin starts among the pool's volumes."""

    number: int
    start: int


def reserve_lun(store: Any, pool: str, size_gb: int) -> Reservation:
    taken: list[tuple[int, int]] = []

    def reserve(storage: NetappStorage) -> None:
        taken[:] = [storage.reserve_lun(pool, size_gb)]  # a retried attempt replaces it

    _change(store, reserve)
    return Reservation(*taken[0])


@dataclass(frozen=True)
class AddLun:
    number: int
    volume_id: UUID
    path: str
    target_iqn: str


def add_lun(store: Any, command: AddLun) -> Outcome:
    return _change(
        store,
        lambda s: s.add_lun(command.number, command.volume_id, command.path, command.target_iqn),
    )


def remove_lun(store: Any, number: int) -> Outcome:
    return _change(store, lambda s: s.remove_lun(number))
