"""Settings of one primary storage pool through the `cs` client: `updateConfiguration storageid=`
keeps a value for that pool only, `listConfigurations storageid=` lists the settings 4.3 scopes to
a pool with the pool's values, and a pool's own over-provisioning factor decides whether a disk
fits on it, over its zone's and the global one."""

from __future__ import annotations

import uuid

from tests.e2e.factories import make_tenant
from tests.e2e.test_isos_and_sharing import _refused
from tests.e2e.test_snapshots import _failed_job
from tests.e2e.test_vms import _deploy, _host, _place
from tests.e2e.test_volume_migration import _pool, _volume

FACTOR = "storage.overprovisioning.factor"
GIB = 1024**3


def _factor_of(admin, pool_id: str) -> str:
    return admin.listStoragePools(id=pool_id)["storagepool"][0]["overprovisionfactor"]


def test_a_pools_own_overprovisioning_factor_decides_whether_a_disk_fits(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    user = make_tenant(sandbox, admin).client
    vm = _deploy(user, place, place.small)
    pool = _pool(admin, place, 4)
    other = _pool(admin, place, 4)
    assert _factor_of(admin, pool["id"]) == "2.0"

    set_ = admin.updateConfiguration(name=FACTOR, value="1", storageid=pool["id"])
    assert set_["configuration"] == {
        "name": FACTOR,
        "value": "1.0",
        "category": "Storage",
        "description": set_["configuration"]["description"],
        "scope": "storagepool",
        "id": pool["id"],
    }
    listed = admin.listConfigurations(storageid=pool["id"])["configuration"]
    assert [(s["name"], s["value"], s["scope"], s["id"]) for s in listed] == [
        (FACTOR, "1.0", "storagepool", pool["id"])
    ]
    assert admin.listConfigurations(storageid=other["id"])["configuration"][0]["value"] == "2.0"
    assert (_factor_of(admin, pool["id"]), _factor_of(admin, other["id"])) == ("1.0", "2.0")
    # the global value is untouched
    (global_,) = [
        s for s in admin.listConfigurations(name=FACTOR)["configuration"] if s["name"] == FACTOR
    ]
    assert "scope" not in global_

    # Both pools are full under 1.0 for a 5 GiB disk: the other pool is taken out of the way.
    admin.enableStorageMaintenance(id=other["id"], fetch_result=True)
    offering = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    disk = user.createVolume(
        name="data", zoneid=place.zone, diskofferingid=offering["id"], size=5, fetch_result=True
    )["volume"]
    refused = _failed_job(user, user.attachVolume(id=disk["id"], virtualmachineid=vm["id"]))
    assert refused["errorcode"] == 533, refused
    assert "storageid" not in _volume(admin, disk["id"])

    # The pool's own 2.0 wins over its zone's 1.0: the disk now fits.
    admin.updateConfiguration(name=FACTOR, value="1.0", zoneid=place.zone)
    admin.updateConfiguration(name=FACTOR, value="2", storageid=pool["id"])
    assert _factor_of(admin, pool["id"]) == "2.0"
    user.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert _volume(admin, disk["id"])["storageid"] == pool["id"]
    # listCapacity's allocated limit counts each pool under its own factor: 4 x 2 + 4 x 1
    capacity = {c["type"]: c for c in admin.listCapacity(zoneid=place.zone)["capacity"]}
    assert capacity[3]["capacitytotal"] == 12 * GIB


def test_bad_pool_settings_are_refused_and_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    pool = _pool(admin, place, 4)
    nowhere = str(uuid.uuid4())
    _refused(admin.updateConfiguration, 431, name=FACTOR, value="3", storageid=nowhere)
    _refused(admin.listConfigurations, 431, storageid=nowhere)
    _refused(
        admin.updateConfiguration,
        431,
        name=FACTOR,
        value="3",
        storageid=pool["id"],
        zoneid=place.zone,
    )
    # a setting 4.3 does not scope to a pool, and a value of the wrong form
    _refused(
        admin.updateConfiguration, 431, name="snapshot.max.daily", value="4", storageid=pool["id"]
    )
    _refused(admin.updateConfiguration, 431, name=FACTOR, value="lots", storageid=pool["id"])
    assert _factor_of(admin, pool["id"]) == "2.0"
    tenant = make_tenant(sandbox, admin)
    _refused(tenant.client.updateConfiguration, 432, name=FACTOR, value="3", storageid=pool["id"])
    assert _factor_of(admin, pool["id"]) == "2.0"
