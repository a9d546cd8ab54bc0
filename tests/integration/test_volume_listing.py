"""listVolumes: the exact bytes of a page, its count as volumes come and go, and every page
holding its place in the whole list (pages in the back half are read from the end)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from commands import infrastructure as places
from commands import volumes as cmd
from commands.offerings import seed_id
from domain.compute import Compute
from domain.vm import VirtualMachine
from domain.volume import Volume
from stratus.settings import Settings
from tests.support.app import App, running_app

GIB = 1024**3


def _answer(app: App, **params: str) -> bytes:
    query = {"command": "listVolumes", "listall": "true", **params}
    answer = app.http.get("/client/api", params=app.signed(query))
    assert answer.status_code == 200, answer.text
    return answer.content


def _listed(app: App, **params: str) -> dict[str, Any]:
    return orjson.loads(_answer(app, **params))["listvolumesresponse"]


def _admin(app: App) -> dict[str, Any]:
    query = {"command": "listAccounts", "name": "admin"}
    answer = app.http.get("/client/api", params=app.signed(query))
    return orjson.loads(answer.content)["listaccountsresponse"]["account"][0]


def _vm(app: App, zone: uuid.UUID, number: int) -> VirtualMachine:
    """A VM written as its Deployed event with its ROOT volume, as a deploy saves them."""
    account = _admin(app)
    compute = Compute(
        seed_id("service", "Small Instance"), 1, 500, 512, False, uuid.uuid4(), "Simulator", 5
    ).facts()
    vm_id = uuid.uuid4()
    vm = VirtualMachine(
        vm_id, f"vm-{number}", f"Vm «{number}» \"quoted\"", f"i-{vm_id.hex[:12]}-VM",
        uuid.UUID(account["id"]), uuid.UUID(account["domainid"]), zone, "", compute,
    )  # fmt: skip
    app.runtime.store.save(vm, cmd.root_volume(vm))
    return vm


def _zone(app: App) -> uuid.UUID:
    spec = places.CreateZone("zone «one»", "Advanced", {"dns1": "8.8.8.8"})
    return places.create_zone(app.runtime.store, spec).id


def _data_disk(app: App, zone: uuid.UUID, name: str) -> uuid.UUID:
    account = _admin(app)
    command = cmd.CreateVolume(
        uuid.uuid4(), name, uuid.UUID(account["id"]), uuid.UUID(account["domainid"]), zone, 5,
        seed_id("disk", "Small"),
    )  # fmt: skip
    made = cmd.create_volume(app.runtime.store, command).id
    assert made is not None
    return made


def _created(app: App, volume_id: uuid.UUID) -> str:
    created = app.runtime.store.get(Volume, volume_id).created_on
    return created.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _expected_root(app: App, vm: VirtualMachine, zone: uuid.UUID) -> dict[str, Any]:
    account = _admin(app)
    root = cmd.root_volume(vm)
    return {
        "id": str(root.id), "name": root.name, "zoneid": str(zone), "zonename": "zone «one»",
        "type": "ROOT", "size": 5 * GIB, "created": _created(app, root.id), "state": "Ready",
        "account": "admin", "domainid": account["domainid"], "domain": account["domain"],
        "storagetype": "shared", "destroyed": False, "isextractable": False,
        "displayvolume": True, "tags": [], "hypervisor": "Simulator",
        "diskofferingid": str(seed_id("service", "Small Instance")),
        "diskofferingname": "Small Instance",
        "diskofferingdisplaytext": "Small Instance",
        "serviceofferingid": str(seed_id("service", "Small Instance")),
        "serviceofferingname": "Small Instance",
        "serviceofferingdisplaytext": "Small Instance",
        "templateid": vm.compute.template_id.__str__(),
        "virtualmachineid": str(vm.id), "vmname": vm.name, "vmdisplayname": vm.display_name,
        "vmstate": "Stopped", "deviceid": 0, "attached": _created(app, root.id),
    }  # fmt: skip


def _expected_disk(app: App, disk: uuid.UUID, zone: uuid.UUID, name: str) -> dict[str, Any]:
    account = _admin(app)
    return {
        "id": str(disk), "name": name, "zoneid": str(zone), "zonename": "zone «one»",
        "type": "DATADISK", "size": 5 * GIB, "created": _created(app, disk),
        "state": "Allocated", "account": "admin", "domainid": account["domainid"],
        "domain": account["domain"], "storagetype": "shared", "destroyed": False,
        "isextractable": True, "displayvolume": True, "tags": [],
        "diskofferingid": str(seed_id("disk", "Small")), "diskofferingname": "Small",
        "diskofferingdisplaytext": "Small Disk, 5 GB",
    }  # fmt: skip


def test_a_page_of_volumes_answers_exactly_these_bytes(settings: Settings) -> None:
    with running_app(settings) as app:
        zone = _zone(app)
        vm = _vm(app, zone, 1)
        disk = _data_disk(app, zone, 'data "one" «é»')
        app.runtime.runner.catch_up()
        items = [_expected_root(app, vm, zone), _expected_disk(app, disk, zone, 'data "one" «é»')]
        expected = {"listvolumesresponse": {"count": 2, "volume": items}}
        for _ in range(2):  # the first answer keeps each volume's JSON, the second answers from it
            assert _answer(app) == orjson.dumps(expected)


def test_json_kept_by_another_release_is_not_answered(settings: Settings) -> None:
    with running_app(settings) as app:
        zone = _zone(app)
        vm = _vm(app, zone, 1)
        app.runtime.runner.catch_up()
        expected = {"listvolumesresponse": {"count": 1, "volume": [_expected_root(app, vm, zone)]}}
        with app.runtime.db.transaction() as cursor:  # as an older release could have kept it
            cursor.execute("UPDATE volumes SET listed = %s", ('0ld0ld0ld0ld:{"id":1}',))
        for _ in range(2):  # rendered in full and kept again, then answered from what was kept
            assert _answer(app) == orjson.dumps(expected)


def test_a_listed_volume_shows_its_vm_as_it_is_now(settings: Settings) -> None:
    with running_app(settings) as app:
        zone = _zone(app)
        vm = _vm(app, zone, 1)
        app.runtime.runner.catch_up()
        assert _listed(app)["volume"][0]["vmdisplayname"] == vm.display_name
        changed = app.runtime.store.get(VirtualMachine, vm.id)
        changed.update({"display_name": "renamed 100%"})
        app.runtime.store.save(changed)
        app.runtime.runner.catch_up()
        assert _listed(app)["volume"][0]["vmdisplayname"] == "renamed 100%"


def test_the_count_follows_volumes_destroyed_and_filters(settings: Settings) -> None:
    with running_app(settings) as app:
        zone = _zone(app)
        for number in range(3):
            _vm(app, zone, number)
        disks = [_data_disk(app, zone, f"d{number}") for number in range(2)]
        app.runtime.runner.catch_up()
        assert _listed(app)["count"] == 5
        volume = app.runtime.store.get(Volume, disks[0])
        volume.destroy_with_vm()
        app.runtime.store.save(volume)
        app.runtime.runner.catch_up()
        assert _listed(app)["count"] == 4
        assert _listed(app, type="ROOT")["count"] == 3
        assert _listed(app, type="DATADISK", page="1", pagesize="1")["count"] == 1


def test_every_page_of_volumes_holds_its_place_in_the_whole_list(settings: Settings) -> None:
    with running_app(settings) as app:
        zone = _zone(app)
        for number in range(23):
            _vm(app, zone, number)
        app.runtime.runner.catch_up()
        whole = [volume["id"] for volume in _listed(app)["volume"]]
        assert len(whole) == 23
        for size in (1, 4, 5, 10, 22, 23, 500):
            for page in range(1, -(-23 // size) + 2):
                answer = _listed(app, page=str(page), pagesize=str(size))
                got = [volume["id"] for volume in answer.get("volume", [])]
                assert answer["count"] == 23
                assert got == whole[(page - 1) * size : page * size], (size, page)
