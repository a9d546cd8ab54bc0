"""NICs plugged into and out of running VMs below the API, on SQLite and PostgreSQL: the
request leaves through the outbox route, the simulator's adapter plugs the NIC, the answer
records it and finishes the job; a NIC the host could not plug gives its address back."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest

from commands import vm_nics as cmd
from commands.jobs import SubmitJob, submit_job
from commands.network_claims import load_claim
from commands.networks import NicRequest
from domain.job import Job, JobStatus
from domain.network import Addressing, Network
from domain.network_claims import ClaimKind
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_vm_lifecycle import Cloud


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings, projections=[])
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def _running_vm_and_network(cloud: Cloud) -> tuple[UUID, UUID]:
    vm_id, _ = cloud.deploy([cloud.host("h1")])
    vm = cloud.vm(vm_id)
    network = Network(
        "back",
        "back",
        vm.zone_id,
        None,
        uuid4(),
        "Isolated",
        vm.account_id,
        vm.domain_id,
        Addressing.isolated("10.9.0.0/24", None).facts(),
        None,
        "Implemented",
        id=uuid4(),
    )
    cloud.store.save(network)
    return vm_id, network.id


def _job(cloud: Cloud, vm_id: UUID) -> UUID:
    outcome = submit_job(
        cloud.store,
        SubmitJob("nic", uuid4(), uuid4(), "VirtualMachine", vm_id, "NIC.CREATE", "", "hypervisor"),
    )
    assert outcome.id is not None
    return outcome.id


def _plugged_on_host(cloud: Cloud, vm_id: UUID) -> list[str]:
    name = cloud.vm(vm_id).instance_name
    return [mac for host in cloud.world.hosts.values() for mac in host.vms[name].nics]


def test_a_nic_plugged_into_a_running_vm_reaches_its_host_and_comes_out_again(
    cloud: Cloud,
) -> None:
    vm_id, network_id = _running_vm_and_network(cloud)
    job_id = _job(cloud, vm_id)
    cmd.add_nic(cloud.store, cmd.AddNic(vm_id, NicRequest(network_id, "10.9.0.7"), job_id))
    assert cloud.vm(vm_id).nic_on(network_id) is None  # until the host plugged it
    cloud.pump()
    nic = cloud.vm(vm_id).nic_on(network_id)
    assert nic is not None and nic["ip_address"] == "10.9.0.7" and not nic["is_default"]
    assert _plugged_on_host(cloud, vm_id) == [nic["mac_address"]]
    assert cloud.store.get(Job, job_id).status == JobStatus.SUCCEEDED

    removal = _job(cloud, vm_id)
    cmd.remove_nic(cloud.store, cmd.RemoveNic(vm_id, network_id, removal))
    cloud.pump()
    assert cloud.vm(vm_id).nic_on(network_id) is None and _plugged_on_host(cloud, vm_id) == []
    claim = load_claim(cloud.store, ClaimKind.GUEST_IP, network_id, "10.9.0.7")
    assert claim is not None and claim.free
    assert cloud.store.get(Job, removal).status == JobStatus.SUCCEEDED


def test_a_nic_the_host_could_not_plug_gives_its_address_back(cloud: Cloud) -> None:
    vm_id, network_id = _running_vm_and_network(cloud)
    cloud.world.fail_next("plug_nic")
    job_id = _job(cloud, vm_id)
    cmd.add_nic(cloud.store, cmd.AddNic(vm_id, NicRequest(network_id, "10.9.0.7"), job_id))
    cloud.pump()
    job = cloud.store.get(Job, job_id)
    assert job.status == JobStatus.FAILED and "Unable to add a nic" in job.result["message"]
    assert cloud.vm(vm_id).nic_on(network_id) is None and cloud.vm(vm_id).pending is None
    claim = load_claim(cloud.store, ClaimKind.GUEST_IP, network_id, "10.9.0.7")
    assert claim is not None and claim.free
