"""A data disk made from a volume snapshot gets the snapshot's bytes (PostgreSQL and NATS, the
simulator's adapter in its own process): the snapshot's copy is written to the zone's NFS image
store, and the host that first plugs the new disk writes that copy into it, as the adapter's
results on the cloud's stream say."""

from __future__ import annotations

import pytest

from tests.e2e.test_hosts_distributed import add_host, distributed_cloud, make_place
from tests.e2e.test_volumes_on_distributed_hosts import (
    _disk_results,
    _simulator_template,
    _vm_with_disk,
)

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


def test_the_first_host_to_plug_a_disk_made_from_a_snapshot_writes_the_snapshots_bytes(
    tmp_path,
) -> None:
    with distributed_cloud(tmp_path) as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        place = make_place(admin, "Simulator")
        url = "simulator://copies-1?sockets=1&cores=4&mhz=1000&memory_gb=8"
        assert add_host(admin, place, "Simulator", url, "root", "pw")["state"] == "Up"
        vm, disk = _vm_with_disk(admin, place.zone_id, _simulator_template(admin, place.zone_id))
        export = tmp_path / "data" / "nfs-mounts" / "10.0.0.9" / "secondary"
        export.mkdir(parents=True)  # the NFS export, mounted where the adapter looks for it
        admin.addImageStore(provider="NFS", url="nfs://10.0.0.9/secondary", zoneid=place.zone_id)
        admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
        snapshot = admin.createSnapshot(volumeid=disk["id"], fetch_result=True)["snapshot"]
        copy = export / "snapshots" / snapshot["id"] / f"stratus-{snapshot['id']}"
        kept = copy.read_bytes()

        made = admin.createVolume(snapshotid=snapshot["id"], fetch_result=True)["volume"]
        admin.attachVolume(id=made["id"], virtualmachineid=vm["id"], fetch_result=True)
        admin.detachVolume(id=made["id"], fetch_result=True)
        admin.attachVolume(id=made["id"], virtualmachineid=vm["id"], fetch_result=True)
        results = _disk_results(cloud, "simulator", made["id"])

    attaches = [r["data"] for r in results if r["action"] == "attach_volume"]
    assert [r["ok"] for r in results] == [True, True, True]
    first, again = attaches
    assert (first["filled_from"], first["filled_bytes"]) == (
        f"snapshots/{snapshot['id']}/stratus-{snapshot['id']}", len(kept),
    )  # fmt: skip
    assert "filled_from" not in again  # made once: a later attach plugs the disk as it is
