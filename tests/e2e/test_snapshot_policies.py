"""Snapshot policies through the `cs` client: defined, replaced, listed and deleted; the
scheduler, driven by `stratus snapshots take-due --at`, takes each due snapshot once through the
VM's host (two processes racing for the same due time take one) and prunes beyond `maxsnaps`;
accounts touch only their own volumes' policies."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place
from tests.support.waiting import wait_until


def _error(call, **params) -> int:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    return int(refused.value.error["errorcode"])


def _policies(client: CloudStack, **filters) -> list[dict]:
    return client.listSnapshotPolicies(**filters).get("snapshotpolicy", [])


def _root_of_running_vm(admin: CloudStack, name: str) -> dict:
    place = _place(admin)
    _host(admin, place, f"{name}-h")
    vm = _deploy(admin, place, place.small, name=name)
    return admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]


def _take_due(sandbox, at: datetime, processes: int = 1) -> list[str]:
    """Run the scheduler's pass as of `at` in `processes` processes at once; their outputs."""
    from tests.conftest import TEST_KEY

    env = dict(
        os.environ, STRATUS_DATA=str(sandbox.data_dir), STRATUS_SECRET_KEY=TEST_KEY, **sandbox.env
    )
    command = [sys.executable, "-m", "entrypoint.cli", "snapshots", "take-due"]
    running = [
        subprocess.Popen(
            [*command, "--at", at.isoformat()], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in running]
    assert [p.returncode for p in running] == [0] * processes, outputs
    return outputs


def _scheduled(admin: CloudStack, volume_id: str) -> list[dict]:
    found = admin.listSnapshots(volumeid=volume_id, intervaltype="HOURLY").get("snapshot", [])
    return sorted(found, key=lambda s: s["name"])


def _settled(admin: CloudStack, volume_id: str, count: int) -> list[dict]:
    def done() -> list[dict] | None:
        found = _scheduled(admin, volume_id)
        finished = len(found) == count and all(s["state"] == "BackedUp" for s in found)
        return found if finished else None

    return wait_until(done, what=f"{count} scheduled snapshots backed up")


def test_a_policy_is_defined_replaced_listed_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    root = _root_of_running_vm(admin, "pol")
    daily = admin.createSnapshotPolicy(
        volumeid=root["id"], intervaltype="daily", schedule="30:02", timezone="Europe/Berlin",
        maxsnaps=3,
    )["snapshotpolicy"]  # fmt: skip
    assert {k: daily[k] for k in ("volumeid", "schedule", "timezone", "maxsnaps")} == {
        "volumeid": root["id"],
        "schedule": "30:02",
        "timezone": "Europe/Berlin",
        "maxsnaps": 3,
    }
    assert daily["intervaltype"] == 1  # 4.3 answers the interval type's ordinal
    again = admin.createSnapshotPolicy(
        volumeid=root["id"], intervaltype="DAILY", schedule="00:04", timezone="UTC", maxsnaps=2
    )["snapshotpolicy"]
    assert (again["id"], again["schedule"], again["maxsnaps"]) == (daily["id"], "00:04", 2)
    weekly = admin.createSnapshotPolicy(
        volumeid=root["id"], intervaltype="WEEKLY", schedule="00:04:1", timezone="UTC", maxsnaps=1
    )["snapshotpolicy"]
    assert [(p["id"], p["schedule"]) for p in _policies(admin, volumeid=root["id"])] == [
        (daily["id"], "00:04"),
        (weekly["id"], "00:04:1"),
    ]
    assert [p["intervaltype"] for p in _policies(admin, id=weekly["id"])] == [2]
    assert admin.deleteSnapshotPolicies(ids=f"{daily['id']},{weekly['id']}")["success"] is True
    assert _policies(admin, volumeid=root["id"]) == []
    assert _error(admin.deleteSnapshotPolicies, id=daily["id"]) == 431


def test_bad_policies_are_refused_and_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    root = _root_of_running_vm(admin, "bad")
    good = dict(volumeid=root["id"], intervaltype="DAILY", schedule="00:04", timezone="UTC")
    for wrong in (
        {"intervaltype": "YEARLY"},
        {"schedule": "00:24"},
        {"schedule": "4"},
        {"timezone": "Nowhere/Atlantis"},
        {"maxsnaps": 0},
        {"maxsnaps": 9},
    ):
        assert _error(admin.createSnapshotPolicy, **({"maxsnaps": 2} | good | wrong)) == 431
    place = _place(admin)
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    loose = admin.createVolume(
        name="loose", zoneid=place.zone, diskofferingid=custom["id"], size=1, fetch_result=True
    )["volume"]
    unattached = good | {"volumeid": loose["id"], "maxsnaps": 1}
    assert _error(admin.createSnapshotPolicy, **unattached) == 431  # not Ready
    assert _error(admin.deleteSnapshotPolicies) == 431
    assert _policies(admin, volumeid=root["id"]) == []


def test_a_user_touches_only_the_policies_of_their_own_volumes(sandbox) -> None:
    admin = sandbox.client()
    root = _root_of_running_vm(admin, "own")
    policy = admin.createSnapshotPolicy(
        volumeid=root["id"], intervaltype="HOURLY", schedule="5", timezone="UTC", maxsnaps=1
    )["snapshotpolicy"]
    other = make_tenant(sandbox, admin).client
    theirs = dict(volumeid=root["id"], intervaltype="DAILY", schedule="0:1", timezone="UTC")
    assert _error(other.createSnapshotPolicy, maxsnaps=1, **theirs) == 531
    assert _error(other.listSnapshotPolicies, volumeid=root["id"]) == 531
    assert _error(other.listSnapshotPolicies, id=policy["id"]) == 531
    assert _error(other.deleteSnapshotPolicies, ids=policy["id"]) == 531
    assert [p["id"] for p in _policies(admin, volumeid=root["id"])] == [policy["id"]]
    assert _policies(other) == []
    assert policy["id"] in [p["id"] for p in _policies(admin)]


def test_the_scheduler_takes_each_due_snapshot_once_and_prunes_beyond_maxsnaps(sandbox) -> None:
    admin = sandbox.client()
    root = _root_of_running_vm(admin, "sched")
    now = datetime.now(UTC)
    minute = (now.minute + 30) % 60  # the server's own scheduler has nothing due for a while
    policy = admin.createSnapshotPolicy(
        volumeid=root["id"], intervaltype="HOURLY", schedule=str(minute), timezone="UTC",
        maxsnaps=2,
    )["snapshotpolicy"]  # fmt: skip
    ours = f"for policy {policy['id']}"
    first = (now + timedelta(days=1)).replace(minute=minute, second=0, microsecond=0)

    raced = _take_due(sandbox, first + timedelta(minutes=5), processes=2)  # one due time
    assert sum(out.count(ours) for out in raced) == 1, raced
    (taken,) = _settled(admin, root["id"], 1)
    assert taken["name"] == f"sched_{root['name']}_{first:%Y%m%d%H%M%S}"
    assert (taken["snapshottype"], taken["intervaltype"]) == ("HOURLY", "HOURLY")
    _take_due(sandbox, first + timedelta(minutes=50))  # nothing new is due
    _settled(admin, root["id"], 1)

    _take_due(sandbox, first + timedelta(hours=1))
    _settled(admin, root["id"], 2)
    raced = _take_due(sandbox, first + timedelta(hours=2, minutes=1), processes=2)
    assert sum(out.count(ours) for out in raced) == 1, raced
    wait_until(
        lambda: (
            [s["name"][-14:] for s in _settled(admin, root["id"], 2)]
            == [f"{first + timedelta(hours=h):%Y%m%d%H%M%S}" for h in (1, 2)]
        ),
        what="the oldest scheduled snapshot pruned",
    )
    assert admin.listSnapshots(volumeid=root["id"], snapshottype="MANUAL").get("snapshot") is None


def test_a_scheduled_snapshot_is_written_to_the_zones_image_store(sandbox) -> None:
    admin = sandbox.client()
    root = _root_of_running_vm(admin, "stored")
    export = sandbox.data_dir / "nfs-mounts" / "10.0.0.9" / f"scheduled-{root['id'][:8]}"
    export.mkdir(parents=True)  # the NFS export, mounted where the adapters look for it
    admin.addImageStore(provider="NFS", url=f"nfs://10.0.0.9/{export.name}", zoneid=root["zoneid"])
    now = datetime.now(UTC)
    minute = (now.minute + 30) % 60  # the server's own scheduler has nothing due for a while
    admin.createSnapshotPolicy(
        volumeid=root["id"], intervaltype="HOURLY", schedule=str(minute), timezone="UTC",
        maxsnaps=1,
    )  # fmt: skip
    first = (now + timedelta(days=1)).replace(minute=minute, second=0, microsecond=0)

    _take_due(sandbox, first + timedelta(minutes=5))
    (taken,) = _settled(admin, root["id"], 1)
    copy = export / "snapshots" / taken["id"] / f"stratus-{taken['id']}"
    assert copy.is_file()  # as a manual snapshot's copy is
    _take_due(sandbox, first + timedelta(hours=1, minutes=5))
    (kept,) = wait_until(
        lambda: [s for s in _settled(admin, root["id"], 1) if s["id"] != taken["id"]] or None,
        what="the next scheduled snapshot, and the first pruned",
    )
    wait_until(lambda: not copy.exists(), what="the pruned snapshot's copy removed")
    assert (export / "snapshots" / kept["id"] / f"stratus-{kept['id']}").is_file()
