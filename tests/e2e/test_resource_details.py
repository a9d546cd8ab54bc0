"""Resource details through the `cs` client: a root administrator keeps key/value details on
VMs, volumes, templates, networks and snapshots; owners list those shown to them, and see them
on their VMs and templates; nobody lists another account's details."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_vms import Place, _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _add(admin: CloudStack, kind: str, resource_id: str, shown: bool = True, **pairs: str) -> None:
    details = {}
    for n, (key, value) in enumerate(pairs.items()):
        details[f"details[{n}].key"] = key
        details[f"details[{n}].value"] = value
    admin.addResourceDetail(
        resourcetype=kind,
        resourceid=resource_id,
        fordisplay=shown,
        fetch_result=True,
        **details,
    )


def _listed(client: CloudStack, kind: str, **filters: Any) -> dict[tuple[str, str], str]:
    """(resource id, key) → value, of the details the client lists."""
    found = client.listResourceDetails(resourcetype=kind, **filters).get("resourcedetail", [])
    return {(d["resourceid"], d["key"]): d["value"] for d in found}


def _vm_details(client: CloudStack, vm_id: str) -> dict:
    return client.listVirtualMachines(id=vm_id)["virtualmachine"][0].get("details", {})


@pytest.fixture
def owned(server) -> tuple[Place, Tenant, dict]:
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=32, memory=64)
    tenant = make_tenant(server, admin)
    vm = _deploy(tenant.client, place, place.small)
    return place, tenant, vm


def test_details_of_a_vm_are_listed_to_its_owner_and_shown_on_it(server, owned) -> None:
    admin = server.client()
    _, tenant, vm = owned
    _add(admin, "UserVm", vm["id"], role="web", tier="gold")
    _add(admin, "uservm", vm["id"], shown=False, secret="ops-only")
    assert _listed(tenant.client, "UserVm") == {
        (vm["id"], "role"): "web",
        (vm["id"], "tier"): "gold",
    }
    assert _vm_details(tenant.client, vm["id"]) == {"role": "web", "tier": "gold"}
    hidden = _listed(admin, "UserVm", resourceid=vm["id"], fordisplay=False, listall=True)
    assert hidden == {(vm["id"], "secret"): "ops-only"}
    assert len(_listed(admin, "UserVm", resourceid=vm["id"], listall=True)) == 3
    _add(admin, "UserVm", vm["id"], tier="silver")
    assert _listed(tenant.client, "UserVm", key="tier") == {(vm["id"], "tier"): "silver"}
    admin.removeResourceDetail(
        resourcetype="UserVm", resourceid=vm["id"], key="tier", fetch_result=True
    )
    assert _vm_details(tenant.client, vm["id"]) == {"role": "web"}
    admin.removeResourceDetail(resourcetype="UserVm", resourceid=vm["id"], fetch_result=True)
    assert _listed(admin, "UserVm", resourceid=vm["id"], listall=True) == {}


def test_volumes_templates_networks_and_snapshots_keep_details(server, owned) -> None:
    admin = server.client()
    place, tenant, vm = owned
    root = tenant.client.listVolumes(virtualmachineid=vm["id"])["volume"][0]["id"]
    snapshot = tenant.client.createSnapshot(volumeid=root, fetch_result=True)["snapshot"]["id"]
    _fabric(admin, place.zone)
    network = tenant.client.createNetwork(
        name="net",
        displaytext="net",
        networkofferingid=_offering(tenant.client, SOURCE_NAT_OFFERING)["id"],
        zoneid=place.zone,
    )["network"]["id"]
    for kind, resource in (("Volume", root), ("Snapshot", snapshot), ("Network", network)):
        _add(admin, kind, resource, purpose=kind.lower())
        assert _listed(tenant.client, kind) == {(resource, "purpose"): kind.lower()}
    _add(admin, "Template", place.template, distro="tiny-linux")
    listed = tenant.client.listTemplates(templatefilter="executable", id=place.template)
    assert listed["template"][0]["details"]["distro"] == "tiny-linux"


def test_unkept_types_missing_resources_and_empty_values_are_refused(server, owned) -> None:
    admin = server.client()
    vm = owned[2]
    assert "ISOs" in _refused(
        admin.addResourceDetail,
        431,
        resourcetype="ISO",
        resourceid=vm["id"],
        **{"details[0].key": "a", "details[0].value": "b"},
    )
    assert "Invalid resource type" in _refused(
        admin.listResourceDetails, 431, resourcetype="Gadget"
    )
    _refused(
        admin.addResourceDetail,
        431,
        resourcetype="Volume",
        resourceid=vm["id"],
        **{"details[0].key": "a", "details[0].value": "b"},
    )
    _refused(
        admin.addResourceDetail,
        431,
        resourcetype="UserVm",
        resourceid=vm["id"],
        **{"details[0].key": "a", "details[0].value": ""},
    )
    assert _listed(admin, "UserVm", listall=True) == {}


def test_nobody_lists_or_changes_another_accounts_details(server, owned) -> None:
    admin = server.client()
    _, tenant, vm = owned
    _add(admin, "UserVm", vm["id"], owner="alice")
    other = make_tenant(server, admin)
    assert _listed(other.client, "UserVm") == {}
    assert _listed(other.client, "UserVm", resourceid=vm["id"]) == {}
    _refused(
        other.client.listResourceDetails,
        531,
        resourcetype="UserVm",
        account=tenant.username,
        domainid=tenant.domain_id,
    )
    for client in (other.client, tenant.client):
        _refused(
            client.addResourceDetail,
            432,
            resourcetype="UserVm",
            resourceid=vm["id"],
            **{"details[0].key": "owner", "details[0].value": "mallory"},
        )
        _refused(client.removeResourceDetail, 432, resourcetype="UserVm", resourceid=vm["id"])
    assert _listed(tenant.client, "UserVm") == {(vm["id"], "owner"): "alice"}


def test_answers_carry_4_3_response_fields(server, owned) -> None:
    admin = server.client()
    _, tenant, vm = owned
    _add(admin, "UserVm", vm["id"], k="v")
    items = tenant.client.listResourceDetails(resourcetype="UserVm")["resourcedetail"]
    expected = set(reference()["listResourceDetails"].response)
    expected -= set(UNBUILT_FIELDS["listResourceDetails"])
    assert expected - set().union(*(set(item) for item in items)) == set()
