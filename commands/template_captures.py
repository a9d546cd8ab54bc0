"""createTemplate from a stopped VM's root volume: a template whose image an adapter makes.

The template is recorded for the VM's owner in the VM's zone with its copy there Downloading,
and asks (`CaptureRequested`) the VM's last host, which holds the root disk, to copy the disk
into the zone's image store (`create_template`). The adapter's answer makes the copy Ready
(with its sizes) or Failed, as a download's would, and finishes the job in the same save.
A VM that never ran has no disk on any host yet: it is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.templates import _owner
from commands.vms import host_access
from domain.errors import InvalidParameter, ResourceUnavailable
from domain.job import Job, JobStatus
from domain.template import Capture, Template, TemplateSpec, check_image
from domain.vm import VirtualMachine, VmState
from stratus.messages import ABANDONED, WorkResult

ACTION = "create_template"


@dataclass(frozen=True)
class CreateTemplate:
    template_id: UUID
    spec: TemplateSpec  # its `source_volume_id` names the VM's ROOT volume
    vm_id: UUID
    job_id: UUID | None = None


def create_template(store: Any, command: CreateTemplate) -> Outcome:
    """Record the template for the VM's owner and ask the VM's host for the image."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        if vm.state != VmState.STOPPED or vm.pending:
            # 534: the disk is in use; 4.3 fails the job with an internal error here
            raise ResourceUnavailable(
                f"VM {vm.name} must be Stopped to create a template from its volume "
                f"(it is {vm.state}): please stop the VM first"
            )
        host_id = vm.placed_host
        if host_id is None:
            raise InvalidParameter(
                f"Virtual machine {vm.name} has never run on a host: its root volume holds "
                "no image to make a template from"
            )
        access = host_access(store, host_id)
        hypervisor, image_format = check_image(command.spec.hypervisor, command.spec.format)
        spec = asdict(command.spec) | {"hypervisor": hypervisor, "format": image_format}
        template = Template(spec, asdict(_owner(store, vm.account_id)), id=command.template_id)
        template.request_capture(
            Capture(
                zone_id=vm.zone_id,
                request_id=uuid.uuid4().hex,
                job_id=command.job_id,
                host_id=access.host_id,
                url=access.url,
                username=access.username,
                password=access.password,
                hypervisor=access.hypervisor,
                instance_name=vm.instance_name,
                volume_id=UUID(command.spec.source_volume_id),
            )
        )
        return Outcome(store.last_position(store.save(template)), template.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def template_result(template_id: UUID) -> dict[str, Any]:
    return {"object": "template", "id": str(template_id)}


def on_capture_result(store: Any, result: WorkResult) -> Outcome:
    """The adapter's answer: the image is in the zone's store (Ready) or not (Failed, why)."""

    def attempt() -> Outcome:
        template = store.get(Template, UUID(result.target_id), what="template")
        zone_id = template.zone_of(result.request_id)
        if zone_id is None:
            return Outcome(0, template.id)  # stale or repeated
        job = store.get(Job, template.job_id, what="job") if template.job_id else None
        if job is not None and job.status != JobStatus.PENDING:
            job = None
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            size, physical = _sizes(result.data)
            template.download_completed(
                zone_id=zone_id, request_id=result.request_id, size=size, physical=physical
            )
            if job is not None:
                job.succeed(template_result(template.id))
        else:
            if result.data.get(ABANDONED):
                template.abandon_download(zone_id, result.request_id, reason)
            else:
                template.download_failed(
                    zone_id=zone_id, request_id=result.request_id, reason=reason
                )
            if job is not None:
                job.fail("DomainError", f"Unable to create template {template.name}: {reason}")
        present = [a for a in (template, job) if a is not None]
        return Outcome(store.last_position(store.save(*present)), template.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _sizes(data: dict[str, Any]) -> tuple[int, int]:
    try:
        size = int(data.get("size", 0))
        return size, int(data.get("physical_size", size))
    except (TypeError, ValueError):
        raise InvalidParameter("the adapter reported sizes that are not numbers") from None


RESULT_HANDLERS = {ACTION: on_capture_result}


def capture_routes(box: Any, prefix: str) -> dict[str, Any]:
    """`create_template` goes to the adapter of the VM's host, naming the VM and its volume."""
    from eventsourcing.utils import get_topic

    from stratus.messages import WorkRequest, seal_credentials
    from stratus.outbox import Outgoing, origin, work

    def capture(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=ACTION,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "template_id": str(e.originator_id),
                "volume_id": str(e.volume_id),
                "zone_id": str(e.zone_id),
                "format": e.image_format,
            },
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    template: Any = Template  # events made by the library's decorator: mypy cannot see them
    return {get_topic(template.CaptureRequested): capture}


OUTBOX_ROUTES = capture_routes
