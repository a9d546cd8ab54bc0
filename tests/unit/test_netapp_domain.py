"""The NetApp inventory's rules: pools, volumes in pools, LUN numbers and where round robin
starts, and what may not be removed while something depends on it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, ResourceInUse
from domain.netapp import NetappStorage, VolumeSpec, lun_name, lun_number
from domain.values import Secret


def _spec(name: str, pool: str = "gold", **rest: object) -> VolumeSpec:
    return VolumeSpec("10.0.0.5", "aggr0", name, pool, "10g", "root", Secret("pw"), **rest)  # type: ignore[arg-type]


def _storage(*volumes: str) -> NetappStorage:
    storage = NetappStorage()
    storage.create_pool(uuid4(), "gold", "roundrobin")
    for name in volumes:
        storage.add_volume(uuid4(), _spec(name))
    return storage


def test_a_pool_takes_either_algorithm_in_any_case_and_a_name_once() -> None:
    storage = _storage()
    storage.create_pool(uuid4(), "silver", "LeastFull")
    with pytest.raises(InvalidParameter, match="Unknown algorithm fastest"):
        storage.create_pool(uuid4(), "bronze", "fastest")
    with pytest.raises(InvalidParameter, match="Duplicate Pool Name"):
        storage.create_pool(uuid4(), "gold", "leastfull")
    storage.modify_pool("gold", "leastfull")
    assert storage.pool("gold").algorithm == "leastfull"
    with pytest.raises(InvalidParameter, match="Cannot find pool nowhere"):
        storage.modify_pool("nowhere", "leastfull")


def test_a_pool_with_volumes_is_not_deleted_until_they_are_gone() -> None:
    storage = _storage("vol1")
    with pytest.raises(ResourceInUse, match="Cannot delete non-empty pool"):
        storage.delete_pool("gold")
    [(volume_id, _)] = storage.pool_volumes("gold")
    storage.remove_volume(volume_id)
    storage.delete_pool("gold")
    assert storage.pools == {}


def test_a_volume_is_recorded_once_in_an_existing_pool_with_a_valid_reserve() -> None:
    storage = _storage("vol1")
    with pytest.raises(InvalidParameter, match="tuple already exists"):
        storage.add_volume(uuid4(), _spec("vol1"))
    with pytest.raises(InvalidParameter, match="Cannot find pool tin"):
        storage.add_volume(uuid4(), _spec("vol2", pool="tin"))
    with pytest.raises(InvalidParameter, match="Invalid snapshot reservation"):
        storage.add_volume(uuid4(), _spec("vol2", snapshot_reservation=101))


def test_lun_numbers_grow_and_round_robin_starts_one_volume_further_each_time() -> None:
    storage = _storage("vol1", "vol2")
    assert [storage.reserve_lun("gold", 1) for _ in range(3)] == [(1, 0), (2, 1), (3, 0)]
    with pytest.raises(InvalidParameter, match="valid lun size"):
        storage.reserve_lun("gold", 0)
    storage.create_pool(uuid4(), "empty", "roundrobin")
    with pytest.raises(InvalidParameter, match="No volumes exist"):
        storage.reserve_lun("empty", 1)


def test_a_volume_with_luns_is_not_destroyed() -> None:
    storage = _storage("vol1")
    [(volume_id, _)] = storage.pool_volumes("gold")
    number, _ = storage.reserve_lun("gold", 1)
    storage.add_lun(number, volume_id, "/vol/vol1/lun-000001", "iqn.t")
    with pytest.raises(ResourceInUse, match="There are luns on the volume"):
        storage.volume_to_destroy("10.0.0.5", "aggr0", "vol1")
    assert storage.lun("lun-000001").volume_id == volume_id
    storage.remove_lun(number)
    storage.remove_volume(volume_id)


def test_a_lun_is_named_by_its_number_in_six_digits() -> None:
    assert lun_name(45) == "lun-000045" and lun_number("lun-000045") == 45
    with pytest.raises(InvalidParameter, match="malformed"):
        lun_number("lun-4-5")
    with pytest.raises(InvalidParameter, match="Cannot find lun"):
        _storage().lun("vol1")
