"""The command catalogue held against the shipped CloudStack 4.3 reference."""

from __future__ import annotations

from api.access import Role
from api.catalogue import (
    audit,
    audit_report,
    coverage,
    coverage_report,
    declared,
    drift,
    family_of,
    renderers,
    role_of_bits,
)
from api.dispatch import ApiCommand
from api.params import Param, ParamType
from api.reference import reference


def _noop(call, args):  # pragma: no cover - never dispatched
    return None


def test_the_shipped_reference_lists_every_4_3_command() -> None:
    commands = reference()
    assert len(commands) == 474
    deploy = commands["deployVirtualMachine"]
    assert deploy.is_async and {"zoneid", "serviceofferingid", "templateid"} <= deploy.required
    assert "virtualmachine" not in deploy.objects and "nic" in deploy.objects


def test_every_declared_command_matches_4_3_or_declares_why_it_differs() -> None:
    assert drift() == []


def test_a_command_that_departs_from_4_3_without_a_reason_is_reported() -> None:
    wrong = ApiCommand(
        "createPhysicalNetwork",
        _noop,
        (Param("zoneid", ParamType.UUID), Param("colour", ParamType.STRING)),
        role=Role.USER,
        item_key="physicalnetwork",
    )
    problems = drift([wrong])
    assert "createPhysicalNetwork: async is False, 4.3 says True" in problems
    assert "createPhysicalNetwork: lacks 4.3 parameter name" in problems
    assert any("parameter colour: not a 4.3 parameter" in p for p in problems)
    assert any("parameter zoneid: required flag differs" in p for p in problems)
    assert any("undeclared role difference" in p for p in problems)


def test_a_command_outside_4_3_must_say_why_it_exists() -> None:
    invented = ApiCommand("frobnicateHosts", _noop)
    assert drift([invented]) == ["frobnicateHosts: not a 4.3 command and not declared an extension"]
    explained = ApiCommand("frobnicateHosts", _noop, extension="a test of the catalogue")
    assert drift([explained]) == []


def test_a_stale_reason_is_reported_once_the_difference_is_gone() -> None:
    matching = ApiCommand(
        "listApis",
        _noop,
        (Param("name", ParamType.STRING, extension="no longer differs"),),
        shape="list",
        paged=False,
        role_extension="no longer differs either",
    )
    assert drift([matching]) == [
        "listApis: declared but no role difference (USER, 4.3: USER)",
        "listApis: parameter name: declared an extension but matches 4.3",
    ]


def test_4_3_role_bitmasks_map_to_the_least_role_they_admit() -> None:
    assert role_of_bits(15) is Role.USER
    assert role_of_bits(7) is Role.DOMAIN_ADMIN
    assert role_of_bits(3) is Role.ROOT_ADMIN
    assert role_of_bits(1) is Role.ROOT_ADMIN


def test_coverage_counts_every_4_3_command_once_in_its_family() -> None:
    rows = coverage()
    assert sum(row.total for row in rows) == 474
    implemented = {name for row in rows for name in row.implemented}
    assert implemented == {c.name for c in declared() if not c.extension}
    assert family_of("listVirtualMachines") == "Virtual machines"
    assert family_of("createVMSnapshot") == "VM snapshots"
    assert family_of("listStoragePools") == "Storage"
    assert family_of("listPools") == "NetApp"


def test_the_storage_audit_names_every_refused_parameter_and_unanswered_field() -> None:
    findings = audit(["Storage", "Snapshots"])
    assert any(line.startswith("listStoragePools: answers without ") for line in findings)
    assert not any(
        line.startswith("createVolume: refuses parameter snapshotid") for line in findings
    )
    assert not any("lacks parameter" in line or "not built (432)" in line for line in findings)
    assert not any("virtualmachineid" in line for line in findings if "createVolume" in line)
    assert any(line.startswith("listVolumes: answers without maxiops: ") for line in findings)
    assert all(family_of(line.split(":")[0]) in ("Storage", "Snapshots") for line in findings)
    report = audit_report(["Storage", "Snapshots"])
    assert report.splitlines()[0] == f"Storage, Snapshots: {len(findings)} finding(s)"
    everything = audit()
    assert set(findings) < set(everything)
    assert audit_report().splitlines()[0] == f"All families: {len(everything)} finding(s)"
    networks = audit(["Networks"])
    assert networks and all(family_of(line.split(":")[0]) == "Networks" for line in networks)


def test_the_coverage_report_names_what_is_missing_per_family() -> None:
    report = coverage_report([c for c in declared() if c.name != "createVolume"])
    storage = next(line for line in report.splitlines() if line.startswith("Storage: "))
    lines = report.splitlines()
    missing = lines[lines.index(storage) + 1]
    assert missing.startswith("  missing: ") and "createVolume" in missing.split(": ")[1]
    assert report.splitlines()[-1] == f"Total: {len(declared()) - 1 - _extensions()}/474"


def _extensions() -> int:
    return sum(1 for c in declared() if c.extension)


def test_every_object_a_finished_job_names_renders_from_a_declaration() -> None:
    assert set(renderers()) == {
        "account",
        "affinitygroup",
        "baremetaldhcp",
        "baremetalpxeserver",
        "customcertificate",
        "dedicatedcluster",
        "dedicatedhost",
        "dedicatedpod",
        "dedicatedzone",
        "extract",
        "firewallrule",
        "globalloadbalancer",
        "host",
        "imagestore",
        "internalloadbalancer",
        "internalloadbalancerelement",
        "internalloadbalancervm",
        "ipaddress",
        "ipforwardingrule",
        "iso",
        "loadbalancer",
        "network",
        "networkserviceprovider",
        "nicsecondaryip",
        "physicalnetwork",
        "portableiprange",
        "portforwardingrule",
        "project",
        "remoteaccessvpn",
        "router",
        "securitygroup",
        "serviceinstance",
        "snapshot",
        "stickinesspolicies",
        "storagenetworkiprange",
        "storagepool",
        "systemvm",
        "template",
        "traffictype",
        "ucsblade",
        "user",
        "virtualmachine",
        "virtualrouterelement",
        "vmsnapshot",
        "volume",
        "volumeextract",
        "vpncustomergateway",
        "vpnuser",
        "f5loadbalancer",
        "netscalerloadbalancer",
        "srxfirewall",
        "paloaltofirewall",
        "niciranvpdevice",
        "bigswitchvnsdevice",
        "cisconexusvsm",
        "vpc",
        "vpcoffering",
        "networkacl",
        "networkacllist",
        "privategateway",
        "staticroute",
        "counter",
        "condition",
        "autoscalepolicy",
        "autoscalevmprofile",
        "autoscalevmgroup",
        "vpngateway",
        "vpnconnection",
    }
    commands = {c.name: c for c in declared()}
    assert renderers()["volume"] is commands["createVolume"].render
    assert commands["deployVirtualMachine"].render is commands["revertToVMSnapshot"].render
    # an extract is answered under `template` (or `iso`) but rendered as an extract
    assert renderers()["extract"] is commands["extractTemplate"].render
    # a volume's extract is answered under `volume`, its upload as the volume
    assert renderers()["volumeextract"] is commands["extractVolume"].render
    assert commands["uploadVolume"].render is commands["createVolume"].render
    assert renderers()["template"] is not commands["extractTemplate"].render


def test_a_command_rendering_its_object_unlike_the_others_is_reported() -> None:
    odd = ApiCommand(
        "createVolume",
        _noop,
        declared_params("createVolume"),
        shape="async",
        is_async=True,
        item_key="volume",
        render=lambda call, volume_id: {"id": volume_id},
    )
    assert drift([odd]) == ["createVolume: renders volume unlike the other commands"]


def declared_params(name: str) -> tuple[Param, ...]:
    return next(c.params for c in declared() if c.name == name)
