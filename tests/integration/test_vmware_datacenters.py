"""The VMware driver's datacenter claim against govmomi's vSphere simulator, and the worker path
that gives it the vCenter's login: a datacenter another cloud marked is refused, an unknown one
is not found, and a released one can be claimed again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters import AuthenticationError, Credentials, HypervisorError, NotFoundOnHost
from adapters.sessions import perform_unbound
from adapters.vmware.driver import VmwareDriver
from tests.peers import vsphere
from tests.peers.model import GIB, HostShape

SHAPE = HostShape(name="h1", version="6.5.0", sockets=1, cores=4, mhz=2000, memory_bytes=8 * GIB)
PASSWORD = "dc-pa55"


@pytest.fixture
def vcenter() -> Iterator[vsphere.RunningSimulator]:
    reason = vsphere.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    with vsphere.running(SHAPE, "administrator", PASSWORD) as simulator:
        yield simulator


def test_a_datacenter_is_claimed_once_until_it_is_released(vcenter) -> None:
    login = Credentials(vcenter.url, "administrator", PASSWORD)
    claimed = perform_unbound(VmwareDriver, "VMware", "claim_datacenter", {"name": "DC0"}, login)
    assert claimed["datacenter"]
    with pytest.raises(HypervisorError, match="another CloudStack deployment"):
        VmwareDriver().claim_datacenter(login, "DC0")
    VmwareDriver().release_datacenter(login, "DC0")
    assert VmwareDriver().claim_datacenter(login, "DC0") == claimed


def test_an_unknown_datacenter_or_a_wrong_login_is_refused(vcenter) -> None:
    with pytest.raises(NotFoundOnHost, match="Unable to find VMware DC DC7"):
        VmwareDriver().claim_datacenter(Credentials(vcenter.url, "administrator", PASSWORD), "DC7")
    with pytest.raises(AuthenticationError):
        VmwareDriver().claim_datacenter(Credentials(vcenter.url, "administrator", "no"), "DC0")
