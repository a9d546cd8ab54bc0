"""The catalogue as clients meet it: 4.3's async physical network changes, listApis, refused
parameters of unbuilt features, 4.3's filters, and answers that carry 4.3's response fields."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place

NOWHERE = "11111111-2222-3333-4444-555555555555"


def _refused(call, status: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.response.status_code == status
    return refused.value.error["errortext"]


def _job(client: CloudStack, job_id: str) -> dict:
    return client.queryAsyncJobResult(jobid=job_id)


def test_physical_network_changes_are_jobs_whose_results_render_as_in_4_3(server) -> None:
    admin = server.client()
    place = _place(admin)
    submitted = admin.createPhysicalNetwork(zoneid=place.zone, name="fabric", vlan="100-110")
    assert set(submitted) == {"id", "jobid"}
    made = admin.createPhysicalNetwork(
        zoneid=place.zone, name="second", vlan="200-210", fetch_result=True
    )["physicalnetwork"]
    assert (made["name"], made["state"], made["vlan"]) == ("second", "Disabled", "200-210")
    enabled = admin.updatePhysicalNetwork(id=made["id"], state="Enabled", fetch_result=True)
    assert enabled["physicalnetwork"]["state"] == "Enabled"
    first = admin.listPhysicalNetworks(name="fabric")["physicalnetwork"][0]
    assert first["id"] == submitted["id"]
    deleted = admin.deletePhysicalNetwork(id=first["id"], fetch_result=True)
    assert deleted == {"success": True}
    assert [p["name"] for p in admin.listPhysicalNetworks()["physicalnetwork"]] == ["second"]


def test_update_network_answers_a_job_whose_result_is_the_changed_network(server) -> None:
    admin = server.client()
    place = _place(admin)
    physical = admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", vlan="300-310", fetch_result=True
    )["physicalnetwork"]
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)
    offering = admin.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")
    network = admin.createNetwork(
        name="web",
        displaytext="web",
        zoneid=place.zone,
        networkofferingid=offering["networkoffering"][0]["id"],
    )["network"]
    submitted = admin.updateNetwork(id=network["id"], displaytext="front")
    assert set(submitted) == {"jobid"}
    result = admin.updateNetwork(id=network["id"], name="www", fetch_result=True)["network"]
    assert (result["name"], result["displaytext"]) == ("www", "front")


def test_network_and_offering_lists_honour_4_3_filters(server) -> None:
    admin = server.client()
    place = _place(admin)
    physical = admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", vlan="300-310", fetch_result=True
    )["physicalnetwork"]
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)
    isolated = admin.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")
    network = admin.createNetwork(
        name="web",
        displaytext="web",
        zoneid=place.zone,
        networkofferingid=isolated["networkoffering"][0]["id"],
    )["network"]

    def networks(**filters) -> list[str]:
        return [n["id"] for n in admin.listNetworks(**filters).get("network", [])]

    assert networks(acltype="Account", canusefordeploy="true", issystem="false") == [network["id"]]
    assert networks(supportedservices="Dhcp,Dns") == [network["id"]]
    assert networks(supportedservices="SourceNat") == []
    assert networks(acltype="Domain") == networks(issystem="true") == []
    domain_wide = _refused(
        admin.createNetwork,
        431,
        name="x",
        displaytext="x",
        zoneid=place.zone,
        networkofferingid=isolated["networkoffering"][0]["id"],
        acltype="Domain",
    )
    assert "acltype Domain is not supported" in domain_wide
    assert networks(restartrequired="true") == networks(specifyipranges="true") == []

    def offerings(**filters) -> set[str]:
        found = admin.listNetworkOfferings(**filters).get("networkoffering", [])
        return {o["name"] for o in found}

    with_nat = offerings(sourcenatsupported="true")
    assert "DefaultIsolatedNetworkOfferingWithSourceNatService" in with_nat
    assert "DefaultIsolatedNetworkOffering" not in with_nat
    assert offerings(traffictype="Public") == set()
    assert offerings(traffictype="Guest") == offerings()


def test_list_apis_shows_4_3_parameters_and_response_fields(server) -> None:
    admin = server.client()
    (api,) = admin.listApis(name="createVolume")["api"]
    params = {p["name"]: p for p in api["params"]}
    assert params["name"]["required"] is False and params["zoneid"]["required"] is False
    (vpc_offering,) = admin.listApis(name="createVPCOffering")["api"]
    refused = {p["name"]: p for p in vpc_offering["params"]}["servicecapabilitylist"]
    assert refused["description"].startswith("Not supported yet: ")
    assert not params["snapshotid"]["description"].startswith("Not supported yet: ")
    assert api["isasync"] is True
    fields = [f["name"] for f in api["response"]]
    assert fields == list(reference()["createVolume"].response)
    tags = next(f for f in api["response"] if f["name"] == "tags")
    assert {f["name"] for f in tags["response"]} >= {"key", "value"}
    (users,) = admin.listApis(name="listUsers")["api"]
    assert {"keyword", "page", "pagesize"} <= {p["name"] for p in users["params"]}


def test_a_parameter_of_an_unbuilt_feature_is_refused_by_name_and_changes_nothing(server) -> None:
    admin = server.client()
    text = _refused(
        admin.createStoragePool,
        431,
        name="lun-per-volume",
        zoneid=NOWHERE,
        url="nfs://192.0.2.1/export",
        managed="true",
    )
    assert text.startswith("Parameter managed is not supported: managed storage")
    assert admin.listStoragePools().get("count", 0) == 0
    system = _refused(
        admin.createFirewallRule, 431, ipaddressid=NOWHERE, protocol="tcp", type="system"
    )
    assert "system firewall rules are not built yet" in system


def test_create_user_without_a_domain_finds_the_account_in_the_callers_domain(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    account = admin.listAccounts(id=tenant.account_id)["account"][0]
    user = admin.createUser(
        account=account["name"],
        username="second",
        password="p4ssw0rd",
        email="second@example.org",
        firstname="Second",
        lastname="User",
    )["user"]
    assert (user["accountid"], user["username"]) == (tenant.account_id, "second")


def test_create_volume_names_what_it_needs(server) -> None:
    admin = server.client()
    place = _place(admin)
    no_offering = _refused(admin.createVolume, 431, name="d", zoneid=place.zone)
    assert (
        no_offering
        == "Either disk Offering Id or snapshot Id must be passed whilst creating volume"
    )
    from_snapshot = _refused(admin.createVolume, 431, name="d", snapshotid=NOWHERE)
    assert NOWHERE in from_snapshot
    assert admin.listVolumes().get("count", 0) == 0


def test_a_data_disk_is_detached_by_its_vm_and_device_id(server) -> None:
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    disk = admin.createVolume(
        name="data", zoneid=place.zone, diskofferingid=custom["id"], size=5, fetch_result=True
    )["volume"]
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert "No volume is attached" in _refused(
        admin.detachVolume, 431, virtualmachineid=vm["id"], deviceid=4
    )
    assert "deviceid" in _refused(admin.detachVolume, 431, virtualmachineid=vm["id"])
    detached = admin.detachVolume(virtualmachineid=vm["id"], deviceid=1, fetch_result=True)
    assert detached["volume"]["id"] == disk["id"] and "virtualmachineid" not in detached["volume"]


def test_vm_lists_honour_4_3_filters(server) -> None:
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    small = _deploy(admin, place, place.small)
    other = _deploy(admin, place, place.small)

    def ids(**filters) -> set[str]:
        return {v["id"] for v in admin.listVirtualMachines(**filters).get("virtualmachine", [])}

    assert ids(ids=small["id"]) == {small["id"]}
    assert ids(ids=f"{small['id']},{other['id']}") == {small["id"], other["id"]}
    assert ids(serviceofferingid=place.small["id"], templateid=place.template) == {
        small["id"],
        other["id"],
    }
    assert ids(serviceofferingid=place.custom["id"]) == set()
    assert ids(podid=place.pod, hypervisor="simulator") == {small["id"], other["id"]}
    others = admin.listServiceOfferings(virtualmachineid=small["id"])["serviceoffering"]
    assert place.small["id"] not in {o["id"] for o in others} and others
    hosts = admin.listHosts(virtualmachineid=small["id"])["host"]
    assert [h["id"] for h in hosts] == [small["hostid"]]
    roots = admin.listVolumes(hostid=small["hostid"], podid=place.pod)["volume"]
    assert {v["virtualmachineid"] for v in roots} == {small["id"], other["id"]}


def test_answers_carry_4_3_response_fields_but_those_declared_unbuilt(server) -> None:
    admin = server.client()
    place = _place(admin)
    host = _host(admin, place, "h1")
    tenant = make_tenant(server, admin)
    group = admin.createAffinityGroup(name="spread", type="host anti-affinity", fetch_result=True)
    vm = _deploy(admin, place, place.small, affinitygroupids=group["affinitygroup"]["id"])
    admin.createSSHKeyPair(name="catalogue")
    project = admin.createProject(name="catalogue", displaytext="catalogue", fetch_result=True)
    (me,) = admin.listAccounts(name="admin")["account"]  # its VM runs on the host
    admin.dedicateHost(
        hostid=host["id"], domainid=me["domainid"], account="admin", fetch_result=True
    )
    owner = {"domainid": tenant.domain_id, "account": tenant.username}
    admin.markDefaultZoneForAccount(zoneid=place.zone, fetch_result=True, **owner)
    answers = {
        "listProjects": admin.listProjects(id=project["project"]["id"])["project"],
        "listProjectAccounts": admin.listProjectAccounts(projectid=project["project"]["id"])[
            "projectaccount"
        ],
        "listHypervisors": admin.listHypervisors(zoneid=place.zone)["hypervisor"],
        "listHypervisorCapabilities": admin.listHypervisorCapabilities()["hypervisorCapabilities"],
        "listDeploymentPlanners": admin.listDeploymentPlanners()["deploymentPlanner"],
        "listDedicatedHosts": admin.listDedicatedHosts()["dedicatedhost"],
        "listAffinityGroups": admin.listAffinityGroups()["affinitygroup"],
        "listAffinityGroupTypes": admin.listAffinityGroupTypes()["affinityGroupType"],
        "listZones": admin.listZones()["zone"],
        "listPods": admin.listPods()["pod"],
        "listClusters": admin.listClusters()["cluster"],
        "listHosts": admin.listHosts(id=host["id"])["host"],
        "listVirtualMachines": admin.listVirtualMachines(id=vm["id"])["virtualmachine"],
        "listVolumes": admin.listVolumes(virtualmachineid=vm["id"])["volume"],
        "listServiceOfferings": admin.listServiceOfferings()["serviceoffering"],
        "listDiskOfferings": admin.listDiskOfferings()["diskoffering"],
        "listTemplates": admin.listTemplates(templatefilter="all")["template"],
        "listAccounts": admin.listAccounts(id=tenant.account_id)["account"],
        "listUsers": admin.listUsers(id=tenant.user_id)["user"],
        "listDomains": admin.listDomains()["domain"],
        "listNetworkOfferings": admin.listNetworkOfferings()["networkoffering"],
        "listSSHKeyPairs": admin.listSSHKeyPairs()["sshkeypair"],
    }
    gaps = {}
    for command, items in answers.items():
        expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
        missing = sorted(expected - set().union(*(set(item) for item in items)))
        if missing:
            gaps[command] = missing
    assert gaps == {}


def test_removed_templates_are_listed_when_asked_for(server) -> None:
    admin = server.client()
    place = _place(admin)
    made = admin.registerTemplate(
        name="old",
        displaytext="old",
        url="http://images.example.org/old.qcow2?size_gb=1",
        zoneid=place.zone,
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=admin.listOsTypes()["ostype"][0]["id"],
    )["template"][0]
    admin.deleteTemplate(id=made["id"], fetch_result=True)
    listed = admin.listTemplates(templatefilter="all", id=made["id"])
    assert listed.get("template", []) == []
    removed = admin.listTemplates(templatefilter="all", id=made["id"], showremoved="true")
    assert [t["id"] for t in removed["template"]] == [made["id"]]
