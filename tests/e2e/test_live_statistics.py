"""Live statistics in list answers, read from the simulator by the server's collection loop: a
running VM's disk counters of its current run in listVirtualMachines, and the bytes the routers
of an account's networks moved, summed over their runs, in listAccounts. Nothing is shown
before a reading, for a VM that is not running, or to another account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cs import CloudStack

from tests.e2e import test_routers
from tests.e2e.conftest import Server
from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import (
    BOTH,
    SYSTEM_TEMPLATE,
    build,
    control,
    ensure_router,
    register_template,
    wait_for,
)
from tests.e2e.test_vms import _deploy as deploy
from tests.e2e.test_vms import _host as vm_host
from tests.e2e.test_vms import _place as vm_place

sim_server = test_routers.sim_server  # the fixture: a server with a simulator control file

DISK_FIELDS = ("diskioread", "diskiowrite", "diskkbsread", "diskkbswrite")


def _vm(client: CloudStack, vm_id: str) -> dict[str, Any]:
    return client.listVirtualMachines(id=vm_id, listall=True)["virtualmachine"][0]


def _disk(client: CloudStack, vm_id: str) -> tuple[Any, ...]:
    shown = _vm(client, vm_id)
    return tuple(shown.get(name) for name in DISK_FIELDS)


@BOTH
def test_a_running_vm_shows_its_disk_counters_once_read(sim_server: tuple[Server, Path]) -> None:
    server, knobs = sim_server
    admin = server.client()
    place = vm_place(admin)
    vm_host(admin, place, "h1")
    tenant = make_tenant(server, admin)
    user = tenant.client
    vm = deploy(user, place, place.small, name="io-1")
    name = _vm(admin, vm["id"])["instancename"]
    assert _disk(user, vm["id"]) == (None,) * 4  # never read: nothing shown, as 4.3

    control(knobs, disk_counters={name: {"0": [10, 20, 4096, 8192]}})
    admin.updateConfiguration(name="vm.disk.stats.interval", value="1")
    assert wait_for(lambda: _disk(user, vm["id"]) == (10, 20, 4, 8)), server.output()
    control(knobs, disk_counters={name: {"0": [15, 20, 6144, 8192]}})
    assert wait_for(lambda: _disk(user, vm["id"]) == (15, 20, 6, 8))
    admin.updateConfiguration(name="vm.disk.stats.interval", value="0")

    # Another account lists nothing of it; a stopped VM shows no figures.
    other = make_tenant(server, admin).client
    assert other.listVirtualMachines(id=vm["id"], listall=True) == {}
    user.stopVirtualMachine(id=vm["id"], fetch_result=True)
    assert _disk(user, vm["id"]) == (None,) * 4


@BOTH
def test_an_account_shows_the_bytes_its_routers_moved(sim_server: tuple[Server, Path]) -> None:
    server, knobs = sim_server
    admin = server.client()
    layout = build(admin, zones=1, pods=1)
    register_template(admin, SYSTEM_TEMPLATE)
    tenant, bystander = make_tenant(server, admin), make_tenant(server, admin)
    router = ensure_router(admin, layout.zones[0], tenant)
    name = router["name"]

    def moved(client: CloudStack, account_id: str) -> tuple[Any, Any]:
        (account,) = client.listAccounts(id=account_id)["account"]
        return account.get("sentbytes"), account.get("receivedbytes")

    assert moved(tenant.client, tenant.account_id) == (None, None)
    control(knobs, network_counters={name: {"sent": 1000, "received": 5000}})
    admin.updateConfiguration(name="router.stats.interval", value="1")
    assert wait_for(lambda: moved(admin, tenant.account_id) == (1000, 5000)), server.output()
    control(knobs, network_counters={name: {"sent": 3000, "received": 9000}})
    assert wait_for(lambda: moved(admin, tenant.account_id) == (3000, 9000))
    # The router's counters start again from zero: what it moved before stays counted.
    control(knobs, network_counters={name: {"sent": 200, "received": 300}})
    assert wait_for(lambda: moved(tenant.client, tenant.account_id) == (3200, 9300))
    admin.updateConfiguration(name="router.stats.interval", value="0")
    assert moved(admin, bystander.account_id) == (None, None)
