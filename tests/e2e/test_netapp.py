"""NetApp through the `cs` client against a filer stand-in speaking ONTAPI: pools of filer
volumes, LUNs allocated round robin or to the least full volume, an initiator let in and out,
4.3's refusals (a pool with volumes, a volume with LUNs), a filer that refuses the login or
fails half way leaving nothing behind, and the filer password shown nowhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.legs import Deployment, deployed
from tests.e2e.sandbox import Sandbox
from tests.support.ontapi_filer import GIB, NODE_NAME, FilerServer

PASSWORD = "filer-Pass-7c1e"
INITIATOR = "iqn.1998-01.com.vmware:esx-host-1"


@pytest.fixture(scope="module")
def filer() -> Iterator[FilerServer]:
    with FilerServer(password=PASSWORD) as server:
        yield server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def netapp_leg(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with deployed(request.param, tmp_path_factory.mktemp(request.param)) as deployment:
        yield deployment


@pytest.fixture
def admin(netapp_leg: Deployment) -> CloudStack:
    return Sandbox.open(netapp_leg).client()


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _token() -> str:
    return uuid.uuid4().hex[:8]


def _volume(admin: CloudStack, filer: FilerServer, pool: str, name: str, **more: Any) -> None:
    params = {
        "ipaddress": filer.address,
        "aggregatename": "aggr0",
        "poolname": pool,
        "volumename": name,
        "size": 10,
        "username": "root",
        "password": PASSWORD,
        **more,
    }
    assert admin.createVolumeOnFiler(**params)["success"] is True


def _luns(admin: CloudStack, pool: str) -> list[dict]:
    return admin.listLunsOnFiler(poolname=pool).get("lun", [])


def test_a_pool_of_volumes_gives_luns_round_robin_that_initiators_reach(
    admin: CloudStack, filer: FilerServer
) -> None:
    pool, vols = f"gold-{_token()}", [f"v{_token()}", f"v{_token()}"]
    made = admin.createPool(name=pool, algorithm="roundrobin")["pool"]
    assert (made["name"], made["algorithm"]) == (pool, "roundrobin")
    _volume(admin, filer, pool, vols[0], snapshotpolicy="0 2 6@8,12 0@", snapshotreservation=20)
    _volume(admin, filer, pool, vols[1])
    listed = admin.listVolumesOnFiler(poolname=pool)["volume"]
    assert [v["volumename"] for v in listed] == vols
    first = listed[0]
    assert (first["poolname"], first["ipaddress"], first["aggregatename"]) == (
        pool, filer.address, "aggr0",
    )  # fmt: skip
    assert (first["size"], first["snapshotreservation"]) == ("10g", 20)
    assert first["snapshotpolicy"] == "0 2 6@8,12 0@"  # as the filer has it
    assert filer.filer.volumes[vols[0]].reserve == 20
    assert PASSWORD not in json.dumps(listed)

    luns = [admin.createLunOnFiler(name=pool, size=2)["lun"] for _ in range(3)]
    assert {lun["iqn"] for lun in luns} == {NODE_NAME}
    assert {lun["ipaddress"] for lun in luns} == {filer.address}
    names = [lun["path"] for lun in luns]
    on_filer = [p for n in names for p in filer.filer.luns if p.endswith("/" + n)]
    assert [p.split("/")[2] for p in on_filer] == [vols[0], vols[1], vols[0]]  # round robin
    assert all(filer.filer.maps[p] == {p.split("/")[3]: int(p[-6:])} for p in on_filer)
    listed_luns = _luns(admin, pool)
    assert sorted(lun["name"] for lun in listed_luns) == sorted(names)
    by_volume = {v["id"]: v["volumename"] for v in listed}
    assert {by_volume[lun["volumeid"]] for lun in listed_luns} == set(vols)

    answer = admin.associateLun(name=names[1], iqn=INITIATOR)["lun"]
    assert answer == {"id": names[1][4:], "ipaddress": filer.address, "targetiqn": NODE_NAME}
    assert filer.filer.igroups[names[1]] == {INITIATOR}
    admin.associateLun(name=names[1], iqn=INITIATOR)  # the filer has it already: fine
    assert admin.dissociateLun(path=names[1], iqn=INITIATOR)["success"] is True
    assert filer.filer.igroups[names[1]] == set()

    key = {"ipaddress": filer.address, "aggregatename": "aggr0", "volumename": vols[0]}
    assert "luns on the volume" in _refused(admin.destroyVolumeOnFiler, 536, **key)
    assert "non-empty pool" in _refused(admin.deletePool, 536, poolname=pool)
    for name in names:
        assert admin.destroyLunOnFiler(path=name)["success"] is True
    assert _luns(admin, pool) == [] and not any(n in filer.filer.igroups for n in names)
    for vol in vols:
        admin.destroyVolumeOnFiler(ipaddress=filer.address, aggregatename="aggr0", volumename=vol)
    assert not set(vols) & set(filer.filer.volumes)
    assert admin.deletePool(poolname=pool)["success"] is True
    assert pool not in [p["name"] for p in admin.listPools().get("pool", [])]


def test_a_least_full_pool_puts_a_lun_on_the_volume_with_most_room(
    admin: CloudStack, filer: FilerServer
) -> None:
    pool, small, large = f"lf-{_token()}", f"s{_token()}", f"l{_token()}"
    admin.createPool(name=pool, algorithm="leastfull")
    _volume(admin, filer, pool, small, size=3)
    _volume(admin, filer, pool, large, size=6)
    first = admin.createLunOnFiler(name=pool, size=2)["lun"]["path"]
    second = admin.createLunOnFiler(name=pool, size=2)["lun"]["path"]
    placed = {p.split("/")[3]: p.split("/")[2] for p in filer.filer.luns}
    assert (placed[first], placed[second]) == (large, large)  # 6 free, then 4 against 3
    third = admin.createLunOnFiler(name=pool, size=3)["lun"]["path"]
    assert {p.split("/")[3]: p.split("/")[2] for p in filer.filer.luns}[third] == small
    text = _refused(admin.createLunOnFiler, 530, name=pool, size=5)
    assert "Could not find a suitable volume" in text
    admin.modifyPool(poolname=pool, algorithm="roundrobin")
    assert [p["algorithm"] for p in admin.listPools()["pool"] if p["name"] == pool] == [
        "roundrobin"
    ]
    assert "Unknown algorithm" in _refused(admin.modifyPool, 431, poolname=pool, algorithm="x")


def test_bad_requests_and_filer_failures_leave_nothing_recorded_or_on_the_filer(
    admin: CloudStack, filer: FilerServer
) -> None:
    pool, vol = f"r-{_token()}", f"v{_token()}"
    assert "Unknown algorithm fast" in _refused(admin.createPool, 431, name=pool, algorithm="fast")
    admin.createPool(name=pool, algorithm="RoundRobin")
    assert "Duplicate Pool Name" in _refused(
        admin.createPool, 431, name=pool, algorithm="leastfull"
    )
    base = {"ipaddress": filer.address, "aggregatename": "aggr0", "volumename": vol, "size": 1}
    base |= {"username": "root", "password": PASSWORD}
    assert "Cannot find pool" in _refused(admin.createVolumeOnFiler, 431, poolname="no", **base)
    _refused(admin.createVolumeOnFiler, 431, poolname=pool, snapshotreservation=101, **base)
    wrong = {**base, "password": "wrong-Pass-3"}
    text = _refused(admin.createVolumeOnFiler, 530, poolname=pool, **wrong)
    assert "Unable to create volume" in text and "wrong-Pass-3" not in text
    filer.filer.fail_next("snapshot-set-reserve", 13001, "reserve refused")
    text = _refused(admin.createVolumeOnFiler, 530, poolname=pool, snapshotreservation=10, **base)
    assert "reserve refused" in text
    assert vol not in filer.filer.volumes  # the half-made volume was destroyed again
    assert admin.listVolumesOnFiler(poolname=pool).get("volume", []) == []
    assert "No volumes exist" in _refused(admin.createLunOnFiler, 431, name=pool, size=1)
    _volume(admin, filer, pool, vol, size=1)
    assert "already exists" in _refused(admin.createVolumeOnFiler, 431, poolname=pool, **base)
    assert "malformed" in _refused(admin.associateLun, 431, name="lun-1-2", iqn=INITIATOR)
    assert "Cannot find LUN" in _refused(admin.associateLun, 431, name="lun-999999", iqn=INITIATOR)
    assert "Cannot find lun" in _refused(admin.destroyLunOnFiler, 431, path="lun-999999")
    key = {"ipaddress": filer.address, "aggregatename": "aggr1", "volumename": vol}
    assert "doesn't exist in our system" in _refused(admin.destroyVolumeOnFiler, 431, **key)


def test_a_volume_gone_from_its_filer_is_forgotten_when_destroyed(
    admin: CloudStack, filer: FilerServer
) -> None:
    pool, vol = f"g-{_token()}", f"v{_token()}"
    admin.createPool(name=pool, algorithm="roundrobin")
    _volume(admin, filer, pool, vol, size=1)
    del filer.filer.volumes[vol]  # an operator destroyed it on the filer itself
    admin.destroyVolumeOnFiler(ipaddress=filer.address, aggregatename="aggr0", volumename=vol)
    assert admin.listVolumesOnFiler(poolname=pool).get("volume", []) == []


def test_only_root_administrators_reach_the_filers(
    netapp_leg: Deployment, admin: CloudStack
) -> None:
    sandbox = Sandbox.open(netapp_leg)
    user = make_tenant(sandbox, sandbox.client())
    with pytest.raises(CloudStackApiException):
        user.client.listPools()
    with pytest.raises(CloudStackApiException):
        user.client.createPool(name=f"u-{_token()}", algorithm="roundrobin")


def test_lun_sizes_are_whole_gigabytes_on_the_filer(admin: CloudStack, filer: FilerServer) -> None:
    pool, vol = f"z-{_token()}", f"v{_token()}"
    admin.createPool(name=pool, algorithm="roundrobin")
    _volume(admin, filer, pool, vol, size=4)
    name = admin.createLunOnFiler(name=pool, size=3)["lun"]["path"]
    assert filer.filer.luns[f"/vol/{vol}/{name}"] == 3 * GIB
    assert "valid lun size" in _refused(admin.createLunOnFiler, 431, name=pool, size=0)
