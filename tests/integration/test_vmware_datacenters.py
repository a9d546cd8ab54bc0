"""The VMware driver's datacenter claim against govmomi's vSphere simulator, and the worker path
that gives it the vCenter's login: a datacenter another cloud marked is refused, an unknown one
is not found, and a released one can be claimed again. An association no adapter answers is
given up by the stuck-job sweeper, and the datacenter's name is free again."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from adapters import AuthenticationError, Credentials, HypervisorError, NotFoundOnHost
from adapters.sessions import perform_unbound
from adapters.vmware.driver import VmwareDriver
from commands.jobs import SubmitJob, submit_job
from commands.vmware_datacenters import AssociateDatacenter, associate
from domain.errors import InvalidParameter
from domain.job import Job, JobStatus
from domain.vmware_datacenter import UNASSOCIATED, VmwareDatacenter, datacenter_id
from tests.integration.test_stuck_jobs import TIMEOUT, _sweeper, stuck_cloud
from tests.peers import vsphere
from tests.peers.model import GIB, HostShape

__all__ = ["stuck_cloud"]  # the fixture, used by name

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


def test_an_unanswered_association_is_given_up_and_frees_the_datacenter(stuck_cloud) -> None:
    store = stuck_cloud.store
    zone, other = uuid4(), uuid4()
    job = submit_job(
        store,
        SubmitJob(
            "cmd", uuid4(), uuid4(), "VmwareDatacenter", datacenter_id(zone), "VMWARE.DC.ADD",
            "", "hypervisor",
        ),
    ).id  # fmt: skip
    assert job is not None
    associate(store, AssociateDatacenter(zone, "DC0", "vc.example", "admin", PASSWORD, job))
    with pytest.raises(InvalidParameter, match="another zone"):
        associate(store, AssociateDatacenter(other, "DC0", "vc.example", "admin", PASSWORD))
    assert _sweeper(stuck_cloud, [job], later=TIMEOUT * 2).sweep() == 1
    assert store.get(VmwareDatacenter, datacenter_id(zone)).state == UNASSOCIATED
    assert store.get(Job, job).status == JobStatus.FAILED
    associate(store, AssociateDatacenter(other, "DC0", "vc.example", "admin", PASSWORD))
