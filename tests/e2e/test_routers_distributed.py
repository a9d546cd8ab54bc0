"""Routers on a distributed cloud: the server on PostgreSQL and NATS, the simulator and KVM
(libvirt's test:///default) adapters as processes of their own, everything through `cs`.

Two zones, routers in several pods and accounts, some on an old template; listing by version,
`requiresupgrade`, an upgrade of exactly one pod (two at a time), service monitoring across
processes, a KVM router's lifecycle, and a tenant refused the upgrade.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_hosts_distributed import distributed_cloud
from tests.e2e.test_routers import (
    SYSTEM_TEMPLATE,
    _events,
    _router_alerts,
    add_pod,
    build,
    control,
    ensure_router,
    finish,
    register_template,
    routers,
    wait_for,
)
from tests.e2e.zones import enable_router_provider

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


def test_routers_across_zones_pods_accounts_and_adapter_processes(tmp_path: Path) -> None:
    knobs = tmp_path / "control.json"
    with distributed_cloud(
        tmp_path,
        STRATUS_SIMULATOR_CONTROL=str(knobs),
        STRATUS_KVM_IMAGE_STORE="test:///default",
    ) as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        layout = build(admin, zones=2, pods=2)
        old = register_template(admin, SYSTEM_TEMPLATE)
        control(knobs, releases={old: "4.2.0"})
        tenants = [make_tenant(cloud.server, admin) for _ in range(3)]
        outdated = [
            ensure_router(admin, zone, tenants[i % 3]) for zone in layout.zones for i in range(4)
        ]
        assert {r["version"] for r in outdated} == {"4.2.0"}
        assert {r["podid"] for r in outdated} == {p for ps in layout.pods.values() for p in ps}

        register_template(admin, "systemvm-4.3")
        admin.updateConfiguration(name="router.template.simulator", value="systemvm-4.3")
        current = [ensure_router(admin, zone, tenants[0]) for zone in layout.zones]
        assert [(r["version"], r["requiresupgrade"]) for r in current] == [("4.3.0", False)] * 2
        assert len(routers(admin, version="4.2.0")) == 8
        assert len(routers(admin, version="4.3.0")) == 2
        assert len(routers(admin)) == 10
        assert all(r["requiresupgrade"] for r in routers(admin, version="4.2"))
        assert len(routers(admin, zoneid=layout.zones[1])) == 5

        admin.updateConfiguration(name="router.upgrade.parallelism", value="2")
        pod = layout.pods[layout.zones[0]][0]
        chosen = {r["id"] for r in routers(admin, podid=pod, version="4.2")}
        assert len(chosen) == 2
        jobs = admin.upgradeRouterTemplate(podid=pod)["asyncjobs"]
        assert len(jobs) == len(chosen)
        assert all(r["jobstatus"] == 1 for r in finish(admin, [j["jobid"] for j in jobs]))
        upgraded = {r["id"] for r in routers(admin, version="4.3.0")}
        assert upgraded == chosen | {r["id"] for r in current}

        tenant = tenants[1]
        with pytest.raises(CloudStackApiException) as denied:
            tenant.client.upgradeRouterTemplate(podid=pod)
        assert denied.value.error["errorcode"] == 432

        _monitoring(admin, knobs, routers(admin, zoneid=layout.zones[1])[0])
        cloud.start_adapter("kvm")
        _kvm_router(admin, layout, cloud.workdir, tenants[2])


def _monitoring(admin, knobs: Path, router: dict) -> None:
    admin.updateConfiguration(name="router.alerts.check.interval", value="1")
    control(knobs, kills={router["name"]: {"dnsmasq": 1}})
    assert wait_for(lambda: _events(admin, "ROUTER.SERVICE.RESTART", router["name"]), 30)
    control(knobs, broken={router["name"]: ["dnsmasq"]}, kills={router["name"]: {"dnsmasq": 2}})
    assert wait_for(lambda: _router_alerts(admin, router["name"]), 30)
    # A quiet period, the behaviour under test: a few more checks find it still down, and none
    # of them may raise another alert.
    time.sleep(3)
    assert len(_router_alerts(admin, router["name"])) == 1
    assert len(_events(admin, "ROUTER.SERVICE.FAILURE", router["name"])) == 1


def _kvm_router(admin, layout, workdir: Path, tenant) -> None:
    zone = layout.zones[0]
    router = start_kvm_router(admin, layout, tenant)
    assert (router["version"], router["requiresupgrade"]) == ("UNKNOWN", True)
    assert router["podid"] == layout.pods[zone][-1]
    stopped = admin.stopRouter(id=router["id"], forced="true", fetch_result=True)["router"]
    assert stopped["state"] == "Stopped"
    assert admin.startRouter(id=router["id"], fetch_result=True)["router"]["state"] == "Running"
    assert admin.rebootRouter(id=router["id"], fetch_result=True)["router"]["state"] == "Running"
    admin.destroyRouter(id=router["id"], fetch_result=True)
    assert routers(admin, id=router["id"]) == []


def start_kvm_router(admin, layout, tenant) -> dict:
    """A KVM pod in the first zone, the KVM system template, and a running KVM router there."""
    zone = layout.zones[0]
    add_pod(admin, layout, zone, "kvm-pod", "KVM", "test:///default", ("admin", "kvm"))
    register_template(
        admin,
        "SystemVM Template (KVM)",
        hypervisor="KVM",
        url="http://images.example.org/systemvm-kvm.qcow2?size_gb=1",
    )
    router = ensure_router(admin, zone, tenant, hypervisor="KVM")
    assert (router["state"], router["hypervisor"]) == ("Running", "KVM")
    return router


def test_a_deploy_into_a_network_whose_router_upgrades_is_refused_then_accepted(
    tmp_path: Path,
) -> None:
    knobs = tmp_path / "control.json"
    with distributed_cloud(tmp_path, STRATUS_SIMULATOR_CONTROL=str(knobs)) as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        zone = build(admin, zones=1, pods=1).zones[0]
        old = register_template(admin, SYSTEM_TEMPLATE)
        control(knobs, releases={old: "4.2.0"})
        tenant = make_tenant(cloud.server, admin)
        network = _isolated_network(admin, tenant, zone)
        guest = register_template(admin, "guest-image")

        def ready() -> bool:
            listed = admin.listTemplates(templatefilter="all", id=guest)["template"]
            return all(copy.get("isready") for copy in listed)

        assert wait_for(ready, 30)  # the adapter has downloaded it into the zone
        small = admin.listServiceOfferings(name="Small Instance")["serviceoffering"][0]["id"]

        def deploy() -> dict:
            return tenant.client.deployVirtualMachine(
                zoneid=zone, serviceofferingid=small, templateid=guest,
                networkids=network["id"], fetch_result=True,
            )["virtualmachine"]  # fmt: skip

        assert deploy()["nic"][0]["networkid"] == network["id"]
        (router,) = routers(admin, networkid=network["id"])  # the first VM brought it up
        assert wait_for(lambda: routers(admin, id=router["id"])[0]["state"] == "Running", 30)
        assert routers(admin, id=router["id"])[0]["version"] == "4.2.0"

        register_template(admin, "systemvm-4.3")
        admin.updateConfiguration(name="router.template.simulator", value="systemvm-4.3")
        control(knobs, delays={"stop_vm": 3})  # the upgrade stays in flight for a while
        (job,) = admin.upgradeRouterTemplate(zoneid=zone)["asyncjobs"]
        with pytest.raises(CloudStackApiException) as refused:
            deploy()
        assert refused.value.error["errorcode"] == 534
        assert "being upgraded" in refused.value.error["errortext"]

        assert finish(admin, [job["jobid"]])[0]["jobstatus"] == 1
        control(knobs, delays={})
        assert routers(admin, id=router["id"])[0]["version"] == "4.3.0"
        assert deploy()["state"] == "Running"
        assert len(routers(admin, networkid=network["id"])) == 1


def _isolated_network(admin, tenant, zone: str) -> dict:
    physical = admin.createPhysicalNetwork(
        zoneid=zone, name="guest", isolationmethods="VLAN", vlan="100-110", fetch_result=True
    )["physicalnetwork"]
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)
    enable_router_provider(admin, physical["id"])
    offering = tenant.client.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")
    return tenant.client.createNetwork(
        name="web", displaytext="web", zoneid=zone,
        networkofferingid=offering["networkoffering"][0]["id"],
    )["network"]  # fmt: skip
