"""A remote access VPN whose router never answers: the stuck-job sweeper fails the request in
flight through the VPN's result handler, so a VPN that never ran is removed (and can be created
again), and the job fails with the reason."""

from __future__ import annotations

from uuid import uuid4

from commands.jobs import SubmitJob, submit_job
from domain.job import Job, JobStatus
from domain.values import Secret
from domain.vpn import RemoteAccessVpn, VpnState
from tests.integration.test_stuck_jobs import TIMEOUT, _sweeper, stuck_cloud  # noqa: F401
from tests.integration.test_vm_lifecycle import Cloud


def test_an_unanswered_vpn_is_removed_and_its_job_failed(stuck_cloud: Cloud) -> None:  # noqa: F811
    store = stuck_cloud.store
    vpn_id = uuid4()
    outcome = submit_job(
        store,
        SubmitJob("cmd", uuid4(), uuid4(), "RemoteAccessVpn", vpn_id, "VPN", "", "hypervisor"),
    )
    assert outcome.id is not None
    vpn = RemoteAccessVpn(
        vpn_id, uuid4(), "203.0.113.10", uuid4(), uuid4(), uuid4(), uuid4(),
        "10.1.2.1-10.1.2.8", Secret("k" * 24),
    )  # fmt: skip
    router = {
        "host_id": uuid4(), "url": "simulator://h1", "username": "root",
        "password": Secret("pw"), "hypervisor": "Simulator", "instance_name": "r-1-VM",
    }  # fmt: skip
    vpn.request_apply("req-1", outcome.id, router, [])
    store.save(vpn)
    assert _sweeper(stuck_cloud, [outcome.id], later=TIMEOUT * 2).sweep() == 1
    assert store.get(RemoteAccessVpn, vpn_id).state == VpnState.REMOVED
    job = store.get(Job, outcome.id)
    assert job.status == JobStatus.FAILED
    assert "Unable to apply the remote access VPN on 203.0.113.10" in job.result["message"]
