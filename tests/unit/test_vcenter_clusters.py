"""A VMware cluster's vCenter url and virtual switches, and the discovery of its hosts, given-when-
then on the values and the `Cluster` aggregate: only the result of the request in flight
counts, and the vCenter login is kept sealed."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter
from domain.infrastructure import Cluster
from domain.values import Secret
from domain.vmware_clusters import VirtualSwitch, vcenter_cluster, virtual_switch


def _cluster(hypervisor: str = "VMware") -> Cluster:
    return Cluster("c1", uuid4(), uuid4(), hypervisor, "ExternalManaged", "Enabled")


def test_a_vcenter_url_names_the_sdk_to_log_in_at_and_the_cluster() -> None:
    found = vcenter_cluster("http://vc.example:8989/DC0/DC0_C0")
    assert (found.sdk_url, found.path) == ("http://vc.example:8989/sdk", "DC0/DC0_C0")
    assert found.host_url("esx-1") == "http://vc.example:8989/sdk?host=esx-1"
    assert vcenter_cluster("vmware://vc/dc/c").sdk_url == "https://vc/sdk"


def test_a_cluster_of_a_zone_with_a_datacenter_is_that_datacenters() -> None:
    found = vcenter_cluster("http://VC.example:8989/DC0/C0")
    found.check_in("DC0", "http://vc.example:8989/sdk")
    found.check_in("DC0", "vc.example")  # a server name: its https SDK, the same server
    for datacenter, vcenter in (("DC1", "vc.example"), ("dc0", "vc.example"), ("DC0", "vc2")):
        with pytest.raises(InvalidParameter, match="associated with VMware DC"):
            found.check_in(datacenter, vcenter)


@pytest.mark.parametrize("url", ["http://vc/DC0", "ftp://vc/DC0/C0", "http:///DC0/C0", "vc/a/b"])
def test_a_url_naming_no_cluster_is_refused(url: str) -> None:
    with pytest.raises(InvalidParameter):
        vcenter_cluster(url)


def test_a_switch_type_is_one_of_43s_and_a_name_alone_means_a_standard_switch() -> None:
    assert virtual_switch("guest", "VmwareDvs", "dv0") == VirtualSwitch("vmwaredvs", "dv0")
    assert virtual_switch("public", None, "vSwitch1") == VirtualSwitch("vmwaresvs", "vSwitch1")
    assert virtual_switch("public", None, None) is None
    with pytest.raises(InvalidParameter, match="guestvswitchtype"):
        virtual_switch("guest", "openvswitch", None)


def test_switches_are_recorded_for_a_vmware_cluster_only() -> None:
    cluster = _cluster()
    cluster.choose_switches({"guest": VirtualSwitch("nexusdvs", "n1k")})
    assert cluster.switches == {"guest": {"type": "nexusdvs", "name": "n1k"}}
    assert type(cluster.collect_events()[-1]).__name__ == "SwitchesChosen"
    kvm = _cluster("KVM")
    kvm.choose_switches({})  # none asked for: nothing to refuse
    assert kvm.switches == {}
    with pytest.raises(InvalidParameter):
        kvm.choose_switches({"guest": VirtualSwitch("vmwaredvs")})


def test_only_the_discovery_in_flight_is_settled_and_the_login_stays_sealed() -> None:
    cluster = _cluster()
    vcenter = vcenter_cluster("http://vc/DC0/DC0_C0")
    cluster.request_discovery("first", None, vcenter, ("administrator", Secret("vc-pw")))
    cluster.request_discovery("second", uuid4(), vcenter, ("administrator", Secret("vc-pw")))
    requested = cluster.collect_events()[-1]
    assert "vc-pw" not in repr(requested) and requested.password.reveal() == "vc-pw"
    assert not cluster.is_current("first") and cluster.is_current("second")
    cluster.hosts_discovered("second", ["h1", "h2"])
    assert (cluster.vcenter_hosts, cluster.request_id) == (["h1", "h2"], None)
    assert not cluster.is_current("second")  # a repeated result changes nothing


def test_a_cluster_of_another_hypervisor_is_not_discovered_from_a_vcenter() -> None:
    with pytest.raises(InvalidParameter):
        _cluster("XenServer").request_discovery(
            "r", None, vcenter_cluster("http://vc/a/b"), ("root", Secret("pw"))
        )
