"""Where VMs may land, on both stores: hypervisor capabilities, dedicated zones, pods, clusters
and hosts (with their explicit dedication groups), and the hosts placement is offered."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import orjson
import pytest

from api.access import Caller
from api.cloudstack.placement import Guest, candidates, guest
from api.dispatch import Call
from commands import infrastructure as places
from commands.placement import Candidate, Reserve, hold_room
from domain.compute import Compute
from domain.errors import InsufficientCapacity
from domain.host import Host
from domain.values import Secret
from stratus.settings import Settings
from tests.support.app import App, running_app
from tests.support.waiting import wait_until


def _api(app: App, command: str, **params: Any) -> tuple[int, dict[str, Any]]:
    answer = app.http.get(
        "/client/api",
        params=app.signed({"command": command, **{k: str(v) for k, v in params.items()}}),
    )
    body = orjson.loads(answer.content)
    return answer.status_code, next(iter(body.values()))


def _ok(app: App, command: str, **params: Any) -> dict[str, Any]:
    status, body = _api(app, command, **params)
    assert status == 200, body
    if "jobid" not in body:
        return body
    job = wait_until(
        lambda: (r := _api(app, "queryAsyncJobResult", jobid=body["jobid"])[1])["jobstatus"] and r,
        what="the job to finish",
    )
    assert job["jobstatus"] == 1, job
    return job["jobresult"]


def _job_error(app: App, command: str, **params: Any) -> dict[str, Any]:
    status, body = _api(app, command, **params)
    if status != 200:
        return body
    job = wait_until(
        lambda: (r := _api(app, "queryAsyncJobResult", jobid=body["jobid"])[1])["jobstatus"] and r,
        what="the job to finish",
    )
    assert job["jobstatus"] == 2, job
    return job["jobresult"]


def _site(app: App) -> dict[str, Any]:
    """A zone of two pods, each with a cluster of two bare-metal hosts (Up when added)."""
    store = app.runtime.store
    zone = places.create_zone(store, places.CreateZone(f"z-{uuid4().hex[:6]}", "Advanced", {})).id
    assert zone is not None
    site: dict[str, Any] = {"zone": str(zone), "pods": [], "clusters": [], "hosts": []}
    for p in range(2):
        pod = places.create_pod(
            store, places.CreatePod(zone, f"p{p}", f"10.{p}.0.1", "255.255.0.0", "")
        ).id
        cluster = places.add_cluster(store, places.AddCluster(zone, pod, f"c{p}", "BareMetal")).id
        hosts = [
            Host(
                f"h{p}{n}",
                zone,
                pod,
                cluster,
                "BareMetal",
                f"http://10.{p}.0.{n + 5}",
                "root",
                Secret("pw"),
                "Enabled",
                (),
            )
            for n in range(2)
        ]
        store.save(*hosts)
        site["pods"].append(str(pod))
        site["clusters"].append(str(cluster))
        site["hosts"] += [str(h.id) for h in hosts]
    app.runtime.runner.catch_up()
    return site


def _account(app: App, name: str) -> dict[str, Any]:
    made = _ok(
        app,
        "createAccount",
        accounttype=0,
        username=name,
        password="pw-" + name,
        email=f"{name}@example.org",
        firstname="T",
        lastname="U",
    )
    return made["account"]


def _call(app: App) -> Call:
    with app.runtime.db.read() as cursor:
        user = cursor.execute("SELECT * FROM users WHERE username = 'admin'").fetchone()
    command = app.services.dispatcher.find("listHosts")
    return Call(app.runtime, app.services, Caller.from_row(user), command, {})


def _offered(app: App, site: dict[str, Any], vm: Guest) -> list[str]:
    compute = Compute(uuid4(), 1, 100, 64, False, uuid4(), "BareMetal", 1)
    found = candidates(_call(app), site["zone"], compute, None, for_guest=vm)
    return [str(c.host_id) for c in found]


def _guest(account: dict[str, Any], *groups: str) -> Guest:
    return Guest(account["id"], "/", False, frozenset(groups))


def test_capabilities_are_4_3s_rows_and_an_update_changes_only_its_row(settings: Settings) -> None:
    with running_app(settings) as app:
        listed = _ok(app, "listHypervisorCapabilities", hypervisor="XenServer")
        rows = {r["hypervisorversion"]: r for r in listed["hypervisorCapabilities"]}
        assert rows["6.2.0"]["storagemotionenabled"] is True
        assert rows["default"]["maxdatavolumeslimit"] == 6
        vmware = _ok(app, "listHypervisorCapabilities", hypervisor="VMware")
        assert all(r["securitygroupenabled"] is False for r in vmware["hypervisorCapabilities"])
        changed = _ok(
            app,
            "updateHypervisorCapabilities",
            id=rows["6.0"]["id"],
            maxguestslimit=7,
            securitygroupenabled="false",
        )["hypervisorCapabilities"]
        assert (changed["maxguestslimit"], changed["securitygroupenabled"]) == (7, False)
        after = _ok(app, "listHypervisorCapabilities", id=rows["6.0.2"]["id"])
        assert after["hypervisorCapabilities"][0]["maxguestslimit"] == 50
        status, error = _api(app, "updateHypervisorCapabilities", id=str(uuid4()))
        assert status == 431 and error["errorcode"] == 431
        planners = _ok(app, "listDeploymentPlanners")["deploymentPlanner"]
        assert {p["name"] for p in planners} == {
            "FirstFitPlanner",
            "UserDispersingPlanner",
            "UserConcentratedPodPlanner",
            "ImplicitDedicationPlanner",
        }


def test_a_zones_hypervisors_are_those_of_its_clusters(settings: Settings) -> None:
    with running_app(settings) as app:
        site = _site(app)
        assert _ok(app, "listHypervisors", zoneid=site["zone"])["hypervisor"] == [
            {"name": "BareMetal"}
        ]
        every = {h["name"] for h in _ok(app, "listHypervisors")["hypervisor"]}
        assert {"KVM", "XenServer", "VMware", "Hyperv"} <= every


def test_a_host_at_its_guest_limit_is_passed_over(sqlite_settings: Settings) -> None:
    with running_app(sqlite_settings) as app:
        store = app.runtime.store
        full, free = uuid4(), uuid4()
        hosts = [Candidate(full, 8000, 8192, max_guests=1), Candidate(free, 8000, 8192, 1)]
        first = hold_room(store, Reserve(f"vm:{uuid4()}:r1", 100, 64, hosts[:1]))
        store.save(first)
        assert hold_room(store, Reserve(f"vm:{uuid4()}:r", 100, 64, hosts)).host_id == free
        with pytest.raises(InsufficientCapacity):
            hold_room(store, Reserve(f"vm:{uuid4()}:r", 100, 64, hosts[:1]))
        again = next(iter(first.reservations)).rsplit(":", 1)[0] + ":r2"  # the same VM
        assert hold_room(store, Reserve(again, 100, 64, hosts[:1])).host_id == full


def test_dedicated_hosts_take_only_their_groups_vms(settings: Settings) -> None:
    with running_app(settings) as app:
        site = _site(app)
        alice, bob = (
            _account(app, f"alice{uuid4().hex[:6]}"),
            _account(app, f"bob{uuid4().hex[:6]}"),
        )
        dedicated = _ok(
            app,
            "dedicateHost",
            hostid=site["hosts"][0],
            domainid=alice["domainid"],
            account=alice["name"],
        )["dedicatedhost"]
        assert dedicated["hostid"] == site["hosts"][0] and dedicated["accountid"] == alice["id"]
        group = dedicated["affinitygroupid"]
        groups = _ok(app, "listAffinityGroups", listall="true", id=group)["affinitygroup"]
        assert groups[0]["type"] == "ExplicitDedication"
        assert groups[0]["name"] == f"DedicatedGrp-{alice['name']}"
        # Nobody outside the group lands there, alice's own VMs without the group neither.
        assert site["hosts"][0] not in _offered(app, site, _guest(bob))
        assert site["hosts"][0] not in _offered(app, site, _guest(alice))
        assert _offered(app, site, _guest(alice, group)) == [site["hosts"][0]]
        # Refusals change nothing.
        again = _api(app, "dedicateHost", hostid=site["hosts"][0], domainid=bob["domainid"])
        assert again[0] == 431 and "already dedicated" in again[1]["errortext"]
        missing = _api(
            app, "dedicateHost", hostid=site["hosts"][1], domainid=bob["domainid"], account="nobody"
        )
        assert missing[0] == 431
        cluster = _api(
            app,
            "dedicateCluster",
            clusterid=site["clusters"][0],
            domainid=bob["domainid"],
            account=bob["name"],
        )
        assert cluster[0] == 431 and "dedicated to another" in cluster[1]["errortext"]
        listed = _ok(app, "listDedicatedHosts")["dedicatedhost"]
        assert [d["hostid"] for d in listed] == [site["hosts"][0]]
        assert _ok(app, "listDedicatedClusters") == {}
        # Released: the host is everyone's again, and the group goes with its last resource.
        _ok(app, "releaseDedicatedHost", hostid=site["hosts"][0])
        assert site["hosts"][0] in _offered(app, site, _guest(bob))
        assert _ok(app, "listAffinityGroups", listall="true", id=group) == {}
        gone = _api(app, "releaseDedicatedHost", hostid=site["hosts"][0])
        assert gone[0] == 431


def test_a_dedicated_pod_and_zone_keep_other_accounts_out(settings: Settings) -> None:
    with running_app(settings) as app:
        site = _site(app)
        alice, bob = (
            _account(app, f"alice{uuid4().hex[:6]}"),
            _account(app, f"bob{uuid4().hex[:6]}"),
        )
        pod = _ok(
            app,
            "dedicatePod",
            podid=site["pods"][1],
            domainid=alice["domainid"],
            account=alice["name"],
        )["dedicatedpod"]
        in_pod = set(site["hosts"][2:])
        assert not in_pod & set(_offered(app, site, _guest(bob)))
        assert set(_offered(app, site, _guest(alice, pod["affinitygroupid"]))) == in_pod
        # The zone, to alice: bob's VMs find no host at all, alice's the undedicated ones.
        zone = _ok(
            app,
            "dedicateZone",
            zoneid=site["zone"],
            domainid=alice["domainid"],
            account=alice["name"],
        )["dedicatedzone"]
        assert zone["zoneid"] == site["zone"] and zone["affinitygroupid"] == pod["affinitygroupid"]
        assert _offered(app, site, _guest(bob)) == []
        assert set(_offered(app, site, _guest(alice))) == set(site["hosts"][:2])
        assert set(_offered(app, site, _guest(alice, pod["affinitygroupid"]))) == set(site["hosts"])
        assert _ok(app, "listDedicatedZones", zoneid=site["zone"])["count"] == 1
        taken = _api(app, "dedicateZone", zoneid=site["zone"], domainid=bob["domainid"])
        assert taken[0] == 431


def test_marking_a_default_zone_shows_on_the_account(settings: Settings) -> None:
    with running_app(settings) as app:
        site = _site(app)
        alice = _account(app, f"alice{uuid4().hex[:6]}")
        owner = {"account": alice["name"], "domainid": alice["domainid"]}
        marked = _ok(app, "markDefaultZoneForAccount", zoneid=site["zone"], **owner)["account"]
        assert marked["id"] == alice["id"] and marked["defaultzoneid"] == site["zone"]
        listed = _ok(app, "listAccounts", id=alice["id"])["account"][0]
        assert listed["defaultzoneid"] == site["zone"]
        assert _api(app, "markDefaultZoneForAccount", zoneid=str(uuid4()), **owner)[0] == 431
        nobody = {"account": "nobody", "domainid": alice["domainid"]}
        assert _api(app, "markDefaultZoneForAccount", zoneid=site["zone"], **nobody)[0] == 431


def test_a_domains_dedication_is_open_to_every_account_of_its_subtree(settings: Settings) -> None:
    with running_app(settings) as app:
        site = _site(app)
        domain = _ok(app, "createDomain", name=f"d{uuid4().hex[:6]}")["domain"]
        child = _ok(app, "createDomain", name="child", parentdomainid=domain["id"])["domain"]
        inside = _ok(
            app,
            "createAccount",
            accounttype=0,
            username=f"in{uuid4().hex[:6]}",
            password="pw",
            email="in@example.org",
            firstname="I",
            lastname="N",
            domainid=child["id"],
        )["account"]
        outsider = _account(app, f"out{uuid4().hex[:6]}")
        made = _ok(app, "dedicateCluster", clusterid=site["clusters"][0], domainid=domain["id"])
        group = made["dedicatedcluster"]["affinitygroupid"]
        assert "accountid" not in made["dedicatedcluster"]
        (listed,) = _ok(app, "listAffinityGroups", listall="true", id=group)["affinitygroup"]
        assert listed["name"] == f"DedicatedGrp-domain-{domain['name']}"
        assert listed["domainid"] == domain["id"]
        with app.runtime.db.read() as cursor:
            member = guest(cursor, inside["id"], [group])
            stranger = guest(cursor, outsider["id"], [])
        assert set(_offered(app, site, member)) == set(site["hosts"][:2])
        assert not set(_offered(app, site, stranger)) & set(site["hosts"][:2])
        # An account of the domain may be given a host of the cluster; one outside may not.
        host = site["hosts"][0]
        outside = _api(
            app,
            "dedicateHost",
            hostid=host,
            domainid=outsider["domainid"],
            account=outsider["name"],
        )
        assert outside[0] == 431
        inner = _ok(app, "dedicateHost", hostid=host, domainid=child["id"], account=inside["name"])[
            "dedicatedhost"
        ]
        assert inner["affinitygroupid"] != group
