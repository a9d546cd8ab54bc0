"""Primary storage pools and image stores through the `cs` client, as an installation sets up a
zone's storage: pools of a cluster or a whole zone checked against their hypervisor, their
maintenance, image stores of every 4.3 provider, and credentials that no answer or stored byte
shows in clear. (No export is mounted: pools and stores are records the API keeps.)"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from cs import CloudStack, CloudStackApiException

from adapters.simulator.driver import SHARE_BYTES
from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.test_audit_trail import _stratus
from tests.e2e.test_infrastructure import _place, _sim_host
from tests.e2e.test_vms import _deploy as vm_deploy
from tests.e2e.test_vms import _host as vm_host
from tests.e2e.test_vms import _place as vm_place
from tests.support.waiting import wait_until

GIB = 1024**3


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _job_refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as failed:
        call(fetch_result=True, **params)
    assert failed.value.error["errorcode"] == code, failed.value.error
    return str(failed.value.error["errortext"])


def _stored_text(sandbox: Any) -> str:
    """Every byte the server keeps on disk (store, read models, logs), as text."""
    server = sandbox.server
    files = [p for p in Path(server.data_dir).rglob("*") if p.is_file()]
    return "".join(p.read_bytes().decode("latin-1") for p in [*files, Path(server.log)])


def _pool(admin: CloudStack, place: tuple[str, str, str], url: str, **extra: Any) -> dict:
    zone, pod, cluster = place
    return admin.createStoragePool(
        name=extra.pop("name", "primary-1"),
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        url=url,
        **extra,
    )["storagepool"]


def _pools(admin: CloudStack, **filters: Any) -> list[dict]:
    return admin.listStoragePools(**filters).get("storagepool", [])


def _missing_fields(command: str, items: list[dict]) -> list[str]:
    expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
    return sorted(expected - set().union(*(set(item) for item in items)))


def test_a_cluster_pool_is_listed_where_it_is_with_its_capacity_and_tags(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "KVM")
    zone, pod, cluster = place
    made = _pool(
        admin,
        place,
        "nfs://10.0.0.5/export/primary",
        tags="ssd, fast,ssd",
        capacitybytes=100 * GIB,
        capacityiops=5000,
    )
    assert (made["scope"], made["type"], made["hypervisor"]) == (
        "CLUSTER",
        "NetworkFilesystem",
        "KVM",
    )
    assert (made["ipaddress"], made["path"], made["state"]) == ("10.0.0.5", "/export/primary", "Up")
    assert (made["clusterid"], made["podid"], made["zoneid"]) == (cluster, pod, zone)
    assert (made["clustername"], made["podname"], made["zonename"]) == ("c-KVM", "p1", "z1")
    assert (made["tags"], made["disksizetotal"], made["capacityiops"]) == (
        "ssd,fast",
        100 * GIB,
        5000,
    )
    assert (made["disksizeallocated"], made["overprovisionfactor"]) == (0, "2.0")
    assert _missing_fields("listStoragePools", [made]) == []
    other = _pool(admin, place, "sharedmountpoint:///mnt/shared", name="shared-2")
    for filters in (
        {"id": made["id"]},
        {"name": "primary-1", "zoneid": zone},
        {"ipaddress": "10.0.0.5"},
        {"path": "/export/primary", "clusterid": cluster},
        {"keyword": "primary", "podid": pod},
    ):
        assert [p["id"] for p in _pools(admin, **filters)] == [made["id"]], filters
    assert {p["id"] for p in _pools(admin, zoneid=zone, scope="cluster")} == {
        made["id"],
        other["id"],
    }
    assert _pools(admin, zoneid=zone, scope="zone") == []


def test_a_zone_wide_pool_names_its_hypervisor_and_no_cluster(sandbox) -> None:
    admin = sandbox.client()
    zone, _pod, _cluster = _place(admin, "KVM")
    made = admin.createStoragePool(
        name="zone-rbd",
        zoneid=zone,
        scope="zone",
        hypervisor="kvm",
        url="rbd://cloudstack:Ceph-Secret-9@ceph-mon.example.org:6789/rbd-pool",
    )["storagepool"]
    assert (made["scope"], made["hypervisor"], made["type"]) == ("ZONE", "KVM", "RBD")
    assert "clusterid" not in made and "podid" not in made
    assert [p["id"] for p in _pools(admin, zoneid=zone, scope="zone")] == [made["id"]]
    listed = str(admin.listStoragePools(id=made["id"]))
    assert "Ceph-Secret-9" not in listed and "Ceph-Secret-9" not in str(made)
    assert "Ceph-Secret-9" not in _stored_text(sandbox)


def test_bad_pool_requests_are_refused_and_make_nothing(sandbox) -> None:
    admin = sandbox.client()
    kvm = _place(admin, "KVM")
    zone, pod, cluster = kvm
    smb = "smb://10.0.0.9/share?user=admin&password=Smb-Pass-7&domain=corp"
    cases = (
        ({"url": "file:///var/lib/images"}, "file://"),
        ({"url": "ftp://10.0.0.5/export"}, "Unsupported storage scheme"),
        ({"url": smb}, "cannot be used by KVM"),
        ({"url": "vmfs://vcenter/dc/datastore1"}, "cannot be used by KVM"),
        ({"url": "nfs:///export/primary"}, "needs a host"),
        ({"url": "nfs://10.0.0.5"}, "needs a path"),
        ({"url": "nfs://10.0.0.5/x", "clusterid": None}, "needs both podid and clusterid"),
        ({"url": "nfs://10.0.0.5/x", "provider": "SolidFire"}, "can't find"),
        ({"url": "nfs://10.0.0.5/x", "hypervisor": "XenServer"}, "is a KVM cluster"),
        ({"url": "nfs://10.0.0.5/x", "scope": "region"}, "Invalid scope"),
        ({"url": "nfs://10.0.0.5/x", "capacitybytes": -1}, "capacitybytes"),
        ({"url": "nfs://10.0.0.5/x", "managed": "true"}, "managed storage"),
    )
    for extra, words in cases:
        params = {"name": "bad", "zoneid": zone, "podid": pod, "clusterid": cluster, **extra}
        params = {k: v for k, v in params.items() if v is not None}
        text = _refused(admin.createStoragePool, 431, **params)
        assert words in text, (extra, text)
        assert "Smb-Pass-7" not in text
    zone_wide = {"name": "bad", "zoneid": zone, "scope": "zone", "url": "nfs://10.0.0.5/x"}
    assert "needs the hypervisor" in _refused(admin.createStoragePool, 431, **zone_wide)
    xen_zone = _refused(admin.createStoragePool, 431, hypervisor="XenServer", **zone_wide)
    assert "not supported for XenServer" in xen_zone
    assert _pools(admin, zoneid=zone) == []
    assert "Smb-Pass-7" not in _stored_text(sandbox)


def test_an_smb_pool_for_hyper_v_keeps_its_password_sealed(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "Hyperv")
    made = _pool(admin, place, "cifs://10.0.0.9/share?user=admin&password=Smb-Pass-8&domain=corp")
    assert (made["type"], made["hypervisor"], made["path"]) == ("SMB", "Hyperv", "/share")
    assert "Smb-Pass-8" not in str(admin.listStoragePools(id=made["id"]))
    assert "Smb-Pass-8" not in _stored_text(sandbox)
    text = _refused(
        admin.createStoragePool,
        431,
        name="x",
        zoneid=place[0],
        podid=place[1],
        clusterid=place[2],
        url="cifs://10.0.0.9/share?user=admin",
    )
    assert "needs user= and password=" in text


def test_maintenance_goes_up_to_maintenance_and_back_as_jobs(sandbox) -> None:
    admin = sandbox.client()
    made = _pool(admin, _place(admin, "Simulator"), "nfs://10.0.0.5/export/m")
    done = admin.enableStorageMaintenance(id=made["id"], fetch_result=True)["storagepool"]
    assert (done["id"], done["state"]) == (made["id"], "Maintenance")
    assert _pools(admin, id=made["id"])[0]["state"] == "Maintenance"
    text = _job_refused(admin.enableStorageMaintenance, 431, id=made["id"])
    assert "not ready for migration" in text
    back = admin.cancelStorageMaintenance(id=made["id"], fetch_result=True)["storagepool"]
    assert back["state"] == "Up"
    assert "not ready to complete" in _job_refused(
        admin.cancelStorageMaintenance, 431, id=made["id"]
    )
    assert _pools(admin, id=made["id"])[0]["state"] == "Up"


def test_a_pool_is_updated_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    made = _pool(admin, _place(admin, "XenServer"), "presetup://localhost/sr-one")
    assert made["type"] == "PreSetup"
    updated = admin.updateStoragePool(id=made["id"], tags="gold", capacitybytes=7 * GIB)
    assert (updated["storagepool"]["tags"], updated["storagepool"]["disksizetotal"]) == (
        "gold",
        7 * GIB,
    )
    _refused(admin.updateStoragePool, 431, id=made["id"], capacityiops=-5)
    assert _pools(admin, id=made["id"])[0]["disksizetotal"] == 7 * GIB
    assert admin.deleteStoragePool(id=made["id"])["success"] is True
    assert _pools(admin, id=made["id"]) == []
    _refused(admin.deleteStoragePool, 431, id=made["id"])


def test_pools_for_a_volume_are_those_of_its_zone_that_are_up_with_room_and_its_tags(
    sandbox,
) -> None:
    admin = sandbox.client()
    place = _place(admin, "Simulator")
    roomy = _pool(
        admin, place, "nfs://10.0.0.5/roomy", name="roomy", capacitybytes=10 * GIB, tags="ssd,a"
    )
    small = _pool(
        admin, place, "nfs://10.0.0.5/small", name="small", capacitybytes=1 * GIB, tags="ssd"
    )
    untagged = _pool(admin, place, "nfs://10.0.0.5/plain", name="plain", capacitybytes=50 * GIB)
    resting = _pool(
        admin, place, "nfs://10.0.0.5/rest", name="rest", capacitybytes=50 * GIB, tags="ssd"
    )
    admin.enableStorageMaintenance(id=resting["id"], fetch_result=True)
    fast = admin.createDiskOffering(
        name=f"fast-{uuid.uuid4().hex[:6]}", displaytext="fast", customized="true", tags="ssd"
    )["diskoffering"]
    disk = admin.createVolume(
        name="data-1", zoneid=place[0], diskofferingid=fast["id"], size=3, fetch_result=True
    )["volume"]
    found = admin.findStoragePoolsForMigration(id=disk["id"])["storagepool"]
    suitable = {p["id"]: p["suitableformigration"] for p in found}
    assert suitable == {roomy["id"]: True, small["id"]: False, untagged["id"]: False}


def test_storage_providers_are_listed_by_type(sandbox) -> None:
    admin = sandbox.client()
    primary = admin.listStorageProviders(type="primary")["dataStoreProvider"]
    assert primary == [{"name": "DefaultPrimary", "type": "primary"}]
    image = admin.listStorageProviders(type="image")["dataStoreProvider"]
    assert {p["name"] for p in image} == {"NFS", "SMB", "S3", "Swift"}
    assert "primary or image" in _refused(admin.listStorageProviders, 431, type="cache")


def _detail_params(**pairs: str) -> dict[str, str]:
    params = {}
    for n, (key, value) in enumerate(pairs.items()):
        params[f"details[{n}].key"] = key
        params[f"details[{n}].value"] = value
    return params


def _stores(admin: CloudStack, command: str = "listImageStores", **filters: Any) -> list[dict]:
    return getattr(admin, command)(**filters).get("imagestore", [])


def test_image_stores_of_every_provider_are_added_listed_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    zone, _pod, _cluster = _place(admin, "Simulator")
    nfs = admin.addImageStore(
        provider="NFS", name="sec-1", zoneid=zone, url="nfs://10.0.0.6/export/secondary"
    )["imagestore"]
    assert (nfs["providername"], nfs["protocol"], nfs["scope"]) == ("NFS", "nfs", "ZONE")
    assert (nfs["url"], nfs["zoneid"], nfs["zonename"]) == (
        "nfs://10.0.0.6/export/secondary",
        zone,
        "z1",
    )
    smb = admin.addImageStore(
        provider="SMB",
        zoneid=zone,
        url="cifs://10.0.0.9/sec?user=admin&password=Store-Pass-1&domain=corp",
    )["imagestore"]
    assert (smb["protocol"], {d["name"]: d["value"] for d in smb["details"]}) == (
        "cifs",
        {"user": "admin"},
    )
    assert _missing_fields("listImageStores", [smb]) == []
    s3 = admin.addImageStore(
        provider="S3",
        name="objects",
        **_detail_params(
            accesskey="AKIAEXAMPLE",
            secretkey="S3-Secret-2",
            bucket="templates",
            endpoint="s3.lan:9000",
            usehttps="false",
        ),
    )["imagestore"]
    assert (s3["scope"], s3["url"], s3["protocol"]) == (
        "REGION",
        "http://s3.lan:9000/templates",
        "http",
    )
    assert "zoneid" not in s3
    legacy = admin.addSecondaryStorage(url="nfs://10.0.0.7/export/old", zoneid=zone)
    assert legacy["secondarystorage"]["providername"] == "NFS"
    swift = admin.addSwift(
        url="https://swift.lan:8080/auth/v1.0", account="cloud", username="ops", key="Swift-Key-3"
    )["secondarystorage"]
    assert swift["providername"] == "Swift"
    by_s3 = admin.addS3(accesskey="AKIA2", secretkey="S3-Secret-4", bucket="more-templates")
    assert by_s3["secondarystorage"]["url"] == "https://s3.amazonaws.com/more-templates"
    in_zone = {s["id"] for s in _stores(admin, zoneid=zone)}
    assert in_zone == {nfs["id"], smb["id"], legacy["secondarystorage"]["id"]}
    assert [s["id"] for s in _stores(admin, provider="swift")] == [swift["id"]]
    assert {s["id"] for s in _stores(admin, "listS3s")} >= {
        s3["id"],
        by_s3["secondarystorage"]["id"],
    }
    assert [s["id"] for s in _stores(admin, "listSwifts", id=swift["id"])] == [swift["id"]]
    assert [s["id"] for s in _stores(admin, name="sec-1", protocol="nfs")] == [nfs["id"]]
    answers = str(admin.listImageStores()) + str(admin.listS3s()) + str(admin.listSwifts())
    stored = _stored_text(sandbox)
    for secret in ("Store-Pass-1", "S3-Secret-2", "Swift-Key-3", "S3-Secret-4"):
        assert secret not in answers and secret not in stored
    assert admin.deleteImageStore(id=nfs["id"])["success"] is True
    assert _stores(admin, id=nfs["id"]) == []
    _refused(admin.deleteImageStore, 431, id=nfs["id"])


def test_bad_image_stores_are_refused_and_make_nothing(sandbox) -> None:
    admin = sandbox.client()
    zone, _pod, _cluster = _place(admin, "Simulator")
    cases = (
        ({"provider": "NFS", "zoneid": zone, "url": "file:///srv/templates"}, "Unsupported scheme"),
        ({"provider": "NFS", "url": "nfs://10.0.0.6/export"}, "needs the zoneid"),
        ({"provider": "NFS", "zoneid": zone, "url": "nfs://10.0.0.6/"}, "needs a path"),
        ({"provider": "Ceph", "zoneid": zone, "url": "nfs://10.0.0.6/x"}, "can't find"),
        ({"provider": "SMB", "zoneid": zone, "url": "cifs://10.0.0.9/s?user=a"}, "password="),
        (
            {"provider": "S3", **_detail_params(accesskey="AK", secretkey="S3-Secret-5")},
            "needs bucket",
        ),
        (
            {
                "provider": "S3",
                **_detail_params(accesskey="AK", secretkey="S3-Secret-5", bucket="Bad_Bucket"),
            },
            "not a valid S3 bucket",
        ),
        (
            {
                "provider": "S3",
                "zoneid": zone,
                **_detail_params(accesskey="AK", secretkey="S3-Secret-5", bucket="ok-bucket"),
            },
            "whole region",
        ),
        ({"provider": "Swift", "url": "ftp://swift.lan/auth"}, "needs account"),
    )
    for params, words in cases:
        text = _refused(admin.addImageStore, 431, **params)
        assert words in text and "S3-Secret-5" not in text, (params, text)
    assert "file" in _refused(admin.addSecondaryStorage, 431, url="file:///x", zoneid=zone)
    assert _stores(admin, zoneid=zone) == []
    assert "S3-Secret-5" not in _stored_text(sandbox)


def test_staging_stores_are_nfs_shares_of_a_zone(sandbox) -> None:
    admin = sandbox.client()
    zone, _pod, _cluster = _place(admin, "Simulator")
    made = admin.createSecondaryStagingStore(url="nfs://10.0.0.8/staging", zoneid=zone)
    staging = made["secondarystorage"]
    assert (staging["providername"], staging["scope"], staging["zoneid"]) == ("NFS", "ZONE", zone)
    listed = admin.listSecondaryStagingStores(zoneid=zone)["imagestore"]
    assert [s["id"] for s in listed] == [staging["id"]]
    assert staging["id"] not in {s["id"] for s in _stores(admin)}
    _refused(admin.deleteImageStore, 431, id=staging["id"])
    _refused(
        admin.createSecondaryStagingStore, 431, url="nfs://10.0.0.8/s", zoneid=zone, provider="S3"
    )
    _refused(admin.createSecondaryStagingStore, 431, url="nfs://10.0.0.8/s", scope="region")
    assert admin.deleteSecondaryStagingStore(id=staging["id"])["success"] is True
    assert admin.listSecondaryStagingStores(zoneid=zone).get("imagestore", []) == []


def test_storage_is_for_root_admins_only(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "Simulator")
    pool = _pool(admin, place, "nfs://10.0.0.5/export/t")
    tenant = make_tenant(sandbox, admin)
    for command, params in (
        ("listStoragePools", {}),
        ("createStoragePool", {"name": "x", "zoneid": place[0], "url": "nfs://h/p"}),
        ("deleteStoragePool", {"id": pool["id"]}),
        ("enableStorageMaintenance", {"id": pool["id"]}),
        ("listImageStores", {}),
        ("addImageStore", {"provider": "NFS", "zoneid": place[0], "url": "nfs://h/p"}),
        ("addS3", {"accesskey": "a", "secretkey": "b", "bucket": "c-bucket"}),
        ("listStorageProviders", {"type": "primary"}),
    ):
        with pytest.raises(CloudStackApiException) as refused:
            getattr(tenant.client, command)(**params)
        assert refused.value.error["errorcode"] == 432, command
    assert _pools(admin, id=pool["id"])[0]["state"] == "Up"


def test_capacity_and_the_summary_count_the_pools_under_the_zones_factor(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "Simulator")
    before = admin.listInfrastructure()["infrastructure"]
    _pool(admin, place, "nfs://10.0.0.5/a", name="a", capacitybytes=10 * GIB)
    _pool(admin, place, "nfs://10.0.0.5/b", name="b", capacitybytes=30 * GIB)
    admin.addImageStore(provider="NFS", zoneid=place[0], url="nfs://10.0.0.6/s")
    after = admin.listInfrastructure()["infrastructure"]
    assert after["storagepools"] == before["storagepools"] + 2
    assert after["imagestores"] == before["imagestores"] + 1
    admin.updateConfiguration(name="storage.overprovisioning.factor", value="1.5", zoneid=place[0])
    capacity = {c["type"]: c for c in admin.listCapacity(zoneid=place[0])["capacity"]}
    assert (capacity[2]["capacitytotal"], capacity[3]["capacitytotal"]) == (40 * GIB, 60 * GIB)
    assert capacity[3]["capacityused"] == 0
    assert [c["type"] for c in admin.listCapacity(zoneid=place[0], type=3)["capacity"]] == [3]
    assert {p["overprovisionfactor"] for p in _pools(admin, zoneid=place[0])} == {"1.5"}
    _refused(admin.updateConfiguration, 431, name="storage.overprovisioning.factor", value="lots")


def _history(sandbox: Any, resource_id: str) -> list[dict]:
    done = _stratus(sandbox, "history", resource_id, "--json")
    assert done.returncode == 0, done.stderr
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def _answers(sandbox: Any, pool_id: str) -> dict[str, str]:
    """Each host's answer to connecting the pool, as the pool recorded it."""
    answers = ("HostConnected", "HostConnectionFailed")
    return {
        e["data"]["host_id"]: e["event"]
        for e in _history(sandbox, pool_id)
        if e["event"] in answers
    }


def test_the_hosts_of_a_pools_cluster_connect_it_and_report_its_size(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "Simulator")
    token = uuid.uuid4().hex[:8]
    zone, pod, cluster = place
    good = _sim_host(admin, place, f"pool-ok-{token}")
    bad = admin.addHost(
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        hypervisor="Simulator",
        url=f"simulator://pool-bad-{token}?fail=connect_pool",
        username="root",
        password="sim-password",
    )["host"][0]
    made = _pool(admin, place, "nfs://10.0.0.5/export/shared")
    assert made["disksizetotal"] in (0, SHARE_BYTES)  # until its first host answers
    listed = wait_until(
        lambda: [p for p in _pools(admin, id=made["id"]) if p["disksizetotal"] == SHARE_BYTES],
        what="the host's report of the pool",
    )
    assert listed[0]["disksizeused"] == 0
    answered = wait_until(
        lambda: (lambda got: got if len(got) == 2 else None)(_answers(sandbox, made["id"])),
        what="both hosts' answers",
    )
    assert answered == {good["id"]: "HostConnected", bad["id"]: "HostConnectionFailed"}
    requests = [e for e in _history(sandbox, made["id"]) if e["event"] == "ConnectRequested"]
    assert "sim-password" not in str(requests)


def test_a_vms_disk_may_move_only_to_pools_its_host_has_connected(sandbox) -> None:
    admin = sandbox.client()
    place = vm_place(admin)
    token = uuid.uuid4().hex[:8]
    pool_args = {"zoneid": place.zone, "podid": place.pod, "clusterid": place.cluster}
    # Made before any host: the hosts connect it when they come.
    early = admin.createStoragePool(
        name="early", url="nfs://10.0.0.5/early", capacitybytes=100 * GIB, **pool_args
    )["storagepool"]
    good = vm_host(admin, place, f"mig-ok-{token}")
    bad = vm_host(admin, place, f"mig-bad-{token}", extra="&fail=connect_pool")
    late = admin.createStoragePool(
        name="late", url="nfs://10.0.0.5/late", capacitybytes=100 * GIB, **pool_args
    )["storagepool"]
    both = {good["id"]: "HostConnected", bad["id"]: "HostConnectionFailed"}
    for pool in (early, late):
        wait_until(lambda pool=pool: _answers(sandbox, pool["id"]) == both, what="the answers")
    admin.createStoragePool(
        name="elsewhere",
        zoneid=place.zone,
        scope="zone",
        hypervisor="KVM",
        url="nfs://10.0.0.5/kvm",
        capacitybytes=100 * GIB,
    )
    on_good = vm_deploy(admin, place, place.small, hostid=good["id"])
    on_bad = vm_deploy(admin, place, place.small, hostid=bad["id"])

    def suitable(vm: dict) -> dict[str, bool]:
        (root,) = admin.listVolumes(virtualmachineid=vm["id"])["volume"]
        found = admin.findStoragePoolsForMigration(id=root["id"])["storagepool"]
        return {p["id"]: p["suitableformigration"] for p in found}

    # The KVM pool is not reachable from a simulator host; the failing host has neither pool.
    assert suitable(on_good) == {early["id"]: True, late["id"]: True}
    assert suitable(on_bad) == {early["id"]: False, late["id"]: False}


def test_a_root_administrator_tags_a_pool_and_its_storage_tags_stay_apart(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "Simulator")
    made = _pool(admin, place, "nfs://10.0.0.5/tagged", tags="ssd")
    admin.createTags(
        resourcetype="Storage",
        resourceids=made["id"],
        fetch_result=True,
        **{"tags[0].key": "rack", "tags[0].value": "r12"},
    )
    listed = admin.listTags(resourcetype="Storage", resourceid=made["id"])["tag"]
    assert [(t["key"], t["value"]) for t in listed] == [("rack", "r12")]
    assert _pools(admin, id=made["id"])[0]["tags"] == "ssd"
    tenant = make_tenant(sandbox, admin)
    with pytest.raises(CloudStackApiException) as refused:
        tenant.client.createTags(
            resourcetype="Storage",
            resourceids=made["id"],
            fetch_result=True,
            **{"tags[0].key": "x", "tags[0].value": "y"},
        )
    assert refused.value.error["errorcode"] in (431, 531)


def test_a_pools_iops_capacity_bounds_the_iops_its_disks_are_guaranteed(sandbox) -> None:
    admin = sandbox.client()
    place = vm_place(admin)
    host = vm_host(admin, place, f"iops-{uuid.uuid4().hex[:8]}")
    pool = admin.createStoragePool(
        name="qos",
        zoneid=place.zone,
        podid=place.pod,
        clusterid=place.cluster,
        url="nfs://10.0.0.5/qos",
        capacitybytes=100 * GIB,
        capacityiops=1000,
    )["storagepool"]
    assert pool["capacityiops"] == 1000
    wait_until(
        lambda: _answers(sandbox, pool["id"]) == {host["id"]: "HostConnected"},
        what="the host's answer",
    )
    gold = admin.createDiskOffering(
        name="gold", displaytext="Gold", disksize=1, miniops=600, maxiops=800
    )["diskoffering"]
    vm = vm_deploy(admin, place, place.small, diskofferingid=gold["id"])
    disks = admin.listVolumes(virtualmachineid=vm["id"], type="DATADISK")["volume"]
    assert (disks[0]["storageid"], disks[0]["miniops"]) == (pool["id"], 600)
    more = admin.createVolume(
        name="more", zoneid=place.zone, diskofferingid=gold["id"], fetch_result=True
    )["volume"]
    text = _job_refused(admin.attachVolume, 533, id=more["id"], virtualmachineid=vm["id"])
    assert "IOPS" in text
    assert "virtualmachineid" not in admin.listVolumes(id=more["id"])["volume"][0]
    # A disk guaranteed nothing still fits.
    plain = admin.createVolume(
        name="plain", zoneid=place.zone, diskofferingid=_small_disk(admin), fetch_result=True
    )["volume"]
    attached = admin.attachVolume(id=plain["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert attached["volume"]["storageid"] == pool["id"]


def _small_disk(admin: CloudStack) -> str:
    return next(o["id"] for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Small")
