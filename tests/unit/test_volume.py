"""Volume rules, given-when-then on the aggregate, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.volume import Volume, VolumeType, next_device_id


def _disk(size: int = 10) -> Volume:
    return Volume(
        uuid4(), "d", VolumeType.DATADISK, uuid4(), uuid4(), uuid4(), size, uuid4(), None, None
    )


def _vm(disk: Volume, state: str = "Running", **changes) -> dict:
    return {"zone_id": disk.zone_id, "account_id": disk.account_id, "state": state, **changes}


def test_attach_is_refused_for_a_vm_in_another_zone_or_state() -> None:
    disk = _disk()
    with pytest.raises(InvalidParameter):
        disk.attach(uuid4(), _vm(disk, zone_id=uuid4()), 1)
    with pytest.raises(InvalidState):
        disk.attach(uuid4(), _vm(disk, "Destroyed"), 1)


def test_an_attached_disk_cannot_be_attached_again_or_deleted() -> None:
    disk = _disk()
    disk.attach(uuid4(), _vm(disk, "Stopped"), 1)
    with pytest.raises(InvalidState):
        disk.attach(uuid4(), _vm(disk), 2)
    with pytest.raises(ResourceInUse):
        disk.delete()
    disk.detach()
    disk.delete()
    assert disk.removed


def test_shrinking_needs_sign_off_and_events_carry_the_size() -> None:
    disk = _disk(10)
    with pytest.raises(InvalidParameter, match="shrinkok"):
        disk.resize(5, disk.disk_offering_id, shrink_ok=False)
    disk.resize(5, disk.disk_offering_id, shrink_ok=True)
    (resized,) = [e for e in disk.collect_events() if type(e).__name__ == "Resized"]
    assert (resized.size_gb, resized.previous["size_gb"]) == (5, 10)


def test_device_slots_skip_the_root_disk_and_the_cdrom() -> None:
    assert next_device_id(set()) == 1
    assert next_device_id({1, 2}) == 4
