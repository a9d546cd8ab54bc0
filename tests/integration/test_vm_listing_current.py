"""listVirtualMachines shows what other aggregates change about a VM (its affinity groups, its
instance group's name) as it is now, on both stores."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from commands import infrastructure as places
from commands import instance_groups as groups
from commands.offerings import seed_id
from domain.affinity_group import AffinityGroup
from domain.compute import Compute
from domain.vm import VirtualMachine
from stratus.settings import Settings
from tests.support.app import App, running_app


def _listed(app: App) -> dict[str, Any]:
    query = {"command": "listVirtualMachines", "listall": "true"}
    answer = app.http.get("/client/api", params=app.signed(query))
    assert answer.status_code == 200, answer.text
    found = orjson.loads(answer.content)["listvirtualmachinesresponse"]["virtualmachine"]
    assert len(found) == 1
    return found[0]


def _admin(app: App) -> dict[str, Any]:
    query = {"command": "listAccounts", "name": "admin"}
    answer = app.http.get("/client/api", params=app.signed(query))
    return orjson.loads(answer.content)["listaccountsresponse"]["account"][0]


def _vm(app: App) -> VirtualMachine:
    """One VM of the admin account, listed once already (so nothing about it is new)."""
    store, owner = app.runtime.store, _admin(app)
    zone = places.create_zone(store, places.CreateZone("zone", "Advanced", {"dns1": "8.8.8.8"}))
    compute = Compute(
        seed_id("service", "Small Instance"), 1, 1000, 512, False, uuid.uuid4(), "Simulator", 5
    ).facts()
    vm_id = uuid.uuid4()
    vm = VirtualMachine(
        vm_id, "web", "web", f"i-{vm_id.hex[:12]}-VM", uuid.UUID(owner["id"]),
        uuid.UUID(owner["domainid"]), zone.id, "os-1", compute,
    )  # fmt: skip
    store.save(vm)
    app.runtime.runner.catch_up()
    assert _listed(app)["affinitygroup"] == []
    return vm


def _affinity_group(app: App, vm: VirtualMachine, name: str) -> AffinityGroup:
    group = AffinityGroup(uuid.uuid4(), name, "", "host anti-affinity", vm.account_id, vm.domain_id)
    group.join(vm.id)
    return group


def test_a_listed_vm_shows_the_affinity_groups_it_is_in_now(settings: Settings) -> None:
    with running_app(settings) as app:
        vm, store = _vm(app), app.runtime.store
        kept, left = _affinity_group(app, vm, "kept"), _affinity_group(app, vm, "left")
        store.save(kept, left)
        app.runtime.runner.catch_up()
        shown = _listed(app)["affinitygroup"]
        assert [(g["id"], g["name"]) for g in shown] == [
            (str(kept.id), "kept"),
            (str(left.id), "left"),
        ]
        left.leave(vm.id)
        kept.delete()
        store.save(left, kept)
        app.runtime.runner.catch_up()
        assert _listed(app)["affinitygroup"] == []


def test_a_listed_vm_shows_its_instance_group_under_its_current_name(settings: Settings) -> None:
    with running_app(settings) as app:
        vm, store = _vm(app), app.runtime.store
        group_id = uuid.uuid4()
        groups.create_group(
            store, groups.CreateInstanceGroup(group_id, "web tier", vm.account_id, vm.domain_id)
        )
        groups.place_vm(store, groups.PlaceVm(vm.id, "web tier"))
        app.runtime.runner.catch_up()
        listed = _listed(app)
        assert (listed["group"], listed["groupid"]) == ("web tier", str(group_id))
        groups.rename_group(store, groups.RenameInstanceGroup(group_id, "front tier"))
        app.runtime.runner.catch_up()
        listed = _listed(app)
        assert (listed["group"], listed["groupid"]) == ("front tier", str(group_id))
