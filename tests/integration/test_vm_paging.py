"""listVirtualMachines pages: every page, in the front half or the back (read from the end of
the index), holds the rows the whole list has in that place."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from commands import infrastructure as places
from commands.offerings import seed_id
from domain.compute import Compute
from domain.vm import VirtualMachine
from stratus.settings import Settings
from tests.support.app import App, running_app

VMS = 23


def _listed(app: App, **params: str) -> dict[str, Any]:
    query = {"command": "listVirtualMachines", "listall": "true", **params}
    answer = app.http.get("/client/api", params=app.signed(query))
    assert answer.status_code == 200, answer.text
    return orjson.loads(answer.content)["listvirtualmachinesresponse"]


def _deploy_records(app: App) -> None:
    """VMs written as their Deployed events (no hypervisor needed to list them)."""
    store = app.runtime.store
    account = _listed_accounts(app)
    zone = places.create_zone(store, places.CreateZone("z", "Advanced", {"dns1": "8.8.8.8"})).id
    compute = Compute(
        seed_id("service", "Small Instance"), 1, 500, 512, False, uuid.uuid4(), "Simulator", 5
    ).facts()
    for number in range(VMS):
        vm_id = uuid.uuid4()
        store.save(
            VirtualMachine(
                vm_id,
                f"vm-{number}",
                f"vm-{number}",
                f"i-{vm_id.hex[:12]}-VM",
                uuid.UUID(account["id"]),
                uuid.UUID(account["domainid"]),
                zone,
                "",
                compute,
            )
        )
    app.runtime.runner.catch_up()


def _listed_accounts(app: App) -> dict[str, Any]:
    query = {"command": "listAccounts", "name": "admin"}
    answer = app.http.get("/client/api", params=app.signed(query))
    return orjson.loads(answer.content)["listaccountsresponse"]["account"][0]


def test_every_page_holds_its_place_in_the_whole_list(settings: Settings) -> None:
    with running_app(settings) as app:
        _deploy_records(app)
        whole = [vm["id"] for vm in _listed(app)["virtualmachine"]]
        assert len(whole) == VMS
        for size in (1, 4, 5, 10, 22, 23, 500):
            pages = -(-VMS // size)
            for page in range(1, pages + 2):
                answer = _listed(app, page=str(page), pagesize=str(size))
                got = [vm["id"] for vm in answer.get("virtualmachine", [])]
                assert answer["count"] == VMS
                assert got == whole[(page - 1) * size : page * size], (size, page)
