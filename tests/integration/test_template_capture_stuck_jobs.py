"""A createTemplate whose host never answers: the stuck-job sweeper fails the capture in flight
through its result handler, so the template's copy is Failed with the reason and the job fails;
an answer that comes later after all still makes the template Ready."""

from __future__ import annotations

from dataclasses import asdict
from uuid import uuid4

from commands.jobs import SubmitJob, submit_job
from commands.template_captures import ACTION, on_capture_result
from domain.job import Job, JobStatus
from domain.template import Capture, CopyState, Template, TemplateSpec, os_type_id
from domain.values import Secret
from stratus.messages import WorkResult
from tests.integration.test_stuck_jobs import TIMEOUT, _sweeper, stuck_cloud  # noqa: F401
from tests.integration.test_vm_lifecycle import Cloud


def test_an_unanswered_capture_fails_its_template_and_job_and_a_late_answer_counts(
    stuck_cloud: Cloud,  # noqa: F811
) -> None:
    store = stuck_cloud.store
    template_id, zone_id = uuid4(), uuid4()
    outcome = submit_job(
        store,
        SubmitJob(
            "cmd", uuid4(), uuid4(), "Template", template_id, "TEMPLATE.CREATE", "", "hypervisor"
        ),
    )
    assert outcome.id is not None
    spec = TemplateSpec(
        name="golden", display_text="golden", url="", hypervisor="Simulator", format="QCOW2",
        os_type_id=os_type_id("Ubuntu 14.04 (64-bit)"), source_volume_id=str(uuid4()),
    )  # fmt: skip
    owner = {"account_id": uuid4(), "domain_id": uuid4(), "domain_path": "/"}
    template = Template(asdict(spec), owner, id=template_id)
    template.request_capture(
        Capture(
            zone_id=zone_id, request_id="req-1", job_id=outcome.id, host_id=uuid4(),
            url="simulator://h1", username="root", password=Secret("pw"),
            hypervisor="Simulator", instance_name="i-1-VM", volume_id=uuid4(),
        )
    )  # fmt: skip
    store.save(template)

    assert _sweeper(stuck_cloud, [outcome.id], later=TIMEOUT * 2).sweep() == 1
    copy = store.get(Template, template_id).zones[str(zone_id)]
    assert copy["state"] == CopyState.FAILED and "no hypervisor adapter answered" in copy["reason"]
    job = store.get(Job, outcome.id)
    assert job.status == JobStatus.FAILED
    assert "Unable to create template golden" in job.result["message"]

    late = WorkResult(
        request_id="req-1", hypervisor="simulator", action=ACTION, target_id=str(template_id),
        ok=True, data={"size": 2 * 1024**3, "physical_size": 1024**3},
    )  # fmt: skip
    on_capture_result(store, late)
    assert store.get(Template, template_id).ready_in(zone_id)
    assert store.get(Job, outcome.id).status == JobStatus.FAILED  # told once, not changed
