"""Scaling running system VMs through the `cs` client: live on the simulator (listRouters and
listSystemVms show the new offering and size, the host holds the new room), a failing host
keeps the old offering and holds nothing more, and a KVM appliance is refused as KVM guests are.

On the distributed cloud the adapters are processes of their own; what the simulator reported
after resizing is read back from the cloud's stream, as the server received it, and names the
scale job it was done for.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e import test_routers
from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_hosts_distributed import distributed_cloud
from tests.e2e.test_kvm_lifecycle import _kvm_results
from tests.e2e.test_routers import (
    SIM,
    SYSTEM_TEMPLATE,
    Layout,
    add_pod,
    build,
    ensure_router,
    finish,
    register_template,
    routers,
)
from tests.e2e.test_routers_distributed import start_kvm_router

sim_sandbox = test_routers.sim_sandbox  # the fixture: a sandbox and the simulator's control file


def _offering(admin: CloudStack, kind: str, cpus: int, memory: int) -> dict:
    return admin.createServiceOffering(
        name=f"{kind}-{cpus}x{memory}",
        displaytext="another size",
        cpunumber=cpus,
        cpuspeed=1000,
        memory=memory,
        issystem="true",
        systemvmtype=kind,
    )["serviceoffering"]


def _allocated(admin: CloudStack, host_id: str) -> int:
    return int(admin.listHosts(id=host_id)["host"][0]["memoryallocated"])


def _refused(call: Any, **args: Any) -> dict:
    with pytest.raises(CloudStackApiException) as refused:
        call(**args)
    return refused.value.error


def test_a_running_router_and_console_proxy_are_scaled_live(
    sim_sandbox: tuple[Sandbox, Path],
) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    zone = build(admin, zones=1, pods=1).zones[0]
    register_template(admin, SYSTEM_TEMPLATE)
    router = ensure_router(admin, zone, make_tenant(server, admin))
    held = _allocated(admin, router["hostid"])
    bigger = _offering(admin, "domainrouter", 2, 1024)

    scaled = admin.scaleSystemVm(id=router["id"], serviceofferingid=bigger["id"], fetch_result=True)
    assert scaled["router"]["id"] == router["id"]
    (listed,) = routers(admin, id=router["id"])
    assert (listed["state"], listed["serviceofferingid"]) == ("Running", bigger["id"])
    assert listed["hostid"] == router["hostid"]
    grown = _allocated(admin, router["hostid"])
    assert grown == held + (1024 - _router_memory(admin, router)) * 1024**2

    proxy = admin.createSystemVm(
        zoneid=zone, systemvmtype="consoleproxy", hypervisor="Simulator", fetch_result=True
    )["systemvm"]
    assert proxy["state"] == "Running"
    larger = _offering(admin, "consoleproxy", 2, 1536)
    details = {"details[0].cpuNumber": "4"}  # as for guest VMs: a fixed value is not overridden
    error = _refused(admin.scaleSystemVm, id=proxy["id"], serviceofferingid=larger["id"], **details)
    assert error["errorcode"] == 431 and "not customizable" in error["errortext"]
    before = _allocated(admin, router["hostid"])
    admin.scaleSystemVm(id=proxy["id"], serviceofferingid=larger["id"], fetch_result=True)
    (shown,) = admin.listSystemVms(id=proxy["id"])["systemvm"]
    assert (shown["state"], shown["serviceofferingid"]) == ("Running", larger["id"])
    assert (shown["cpunumber"], shown["cpuspeed"], shown["memory"]) == (2, 1000, 1536)
    assert _allocated(admin, router["hostid"]) == before + (1536 - proxy["memory"]) * 1024**2

    error = _refused(
        admin.changeServiceForSystemVm, id=proxy["id"], serviceofferingid=_small(admin)
    )
    assert error["errorcode"] == 431  # changeServiceForSystemVm: stopped system VMs only
    assert admin.listSystemVms(id=proxy["id"])["systemvm"][0]["serviceofferingid"] == larger["id"]


def _small(admin: CloudStack) -> str:
    return _offering(admin, "consoleproxy", 1, 256)["id"]


def _router_memory(admin: CloudStack, router: dict) -> int:
    """The memory (MiB) of the offering the router was created with."""
    offerings = admin.listServiceOfferings(issystem="true", id=router["serviceofferingid"])
    return int(offerings["serviceoffering"][0]["memory"])


def test_a_failing_resize_keeps_the_old_offering_and_holds_nothing_more(
    sim_sandbox: tuple[Sandbox, Path],
) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    layout = Layout()
    zone = admin.createZone(
        name="zf", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]["id"]
    layout.zones.append(zone)
    add_pod(admin, layout, zone, "pf", "Simulator", SIM.format(name="hf") + "&fail=scale_vm")
    register_template(admin, SYSTEM_TEMPLATE)
    router = ensure_router(admin, zone, make_tenant(server, admin))
    held = _allocated(admin, router["hostid"])
    bigger = _offering(admin, "domainrouter", 2, 1024)

    job = admin.scaleSystemVm(id=router["id"], serviceofferingid=bigger["id"])["jobid"]
    (result,) = finish(admin, [job])
    assert result["jobstatus"] == 2 and "Unable to scale" in result["jobresult"]["errortext"]
    (listed,) = routers(admin, id=router["id"])
    assert (listed["state"], listed["serviceofferingid"]) == (
        "Running",
        router["serviceofferingid"],
    )
    assert _allocated(admin, router["hostid"]) == held


# ---- distributed: the adapters' own processes ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.nats
def test_the_simulator_resizes_the_router_and_kvm_refuses(tmp_path: Path) -> None:
    with distributed_cloud(tmp_path, STRATUS_KVM_IMAGE_STORE="test:///default") as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        layout = build(admin, zones=1, pods=1)
        zone = layout.zones[0]
        register_template(admin, SYSTEM_TEMPLATE)
        tenant = make_tenant(cloud.server, admin)
        router = ensure_router(admin, zone, tenant)
        bigger = _offering(admin, "domainrouter", 2, 1024)
        job = admin.scaleSystemVm(id=router["id"], serviceofferingid=bigger["id"])["jobid"]
        assert finish(admin, [job])[0]["jobstatus"] == 1
        assert routers(admin, id=router["id"])[0]["serviceofferingid"] == bigger["id"]
        results = asyncio.run(_kvm_results(cloud, "simulator"))
        (resized,) = [r for r in results if r["action"] == "scale_system_vm"]
        sizes = (resized["data"]["cpu_number"], resized["data"]["memory_mb"])
        assert resized["ok"] and sizes == (2, 1024)  # what the simulator's guest now has
        assert resized["job_id"] == job  # the result names the job it was done for

        cloud.start_adapter("kvm")
        kvm_router = start_kvm_router(admin, layout, tenant)
        with pytest.raises(CloudStackApiException) as refused:
            admin.scaleSystemVm(
                id=kvm_router["id"], serviceofferingid=bigger["id"], fetch_result=True
            )
        assert refused.value.error["errorcode"] == 431
        assert "not permitted for this hypervisor" in refused.value.error["errortext"]
        (kept,) = routers(admin, id=kvm_router["id"])
        assert kept["state"] == "Running"
        assert kept["serviceofferingid"] == kvm_router["serviceofferingid"]
