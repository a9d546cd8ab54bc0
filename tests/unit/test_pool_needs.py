"""What a disk needs of a primary storage pool: the over-provisioning factor each pool allows."""

from __future__ import annotations

from uuid import uuid4

from commands.volume_placement import PoolNeeds


def test_a_disks_pool_takes_its_own_overprovisioning_factor_before_the_zones() -> None:
    own, other = uuid4(), uuid4()
    needs = PoolNeeds(("ssd",), 1.5, ((own, 3.0),))
    assert (needs.factor_of(own), needs.factor_of(other)) == (3.0, 1.5)
