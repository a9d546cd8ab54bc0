"""How an autoscale group's VMs come and go: through the API's own commands, run in this
process as a user, each a job waited on. In 4.3 the NetScaler calls the management server's
API with the profile's autoscale user's keys (deployVirtualMachine, assignToLoadBalancerRule,
removeFromLoadBalancerRule, destroyVirtualMachine); Stratus's scaler makes the same calls as
that user, so every check, limit, event and job of those commands applies and the log names
the autoscale user as who did it. Deleting a group takes its VMs the same way, as its deleter.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from api.dispatch import Call, Services
from api.errors import ApiError
from commands import autoscale as cmd
from domain.errors import DomainError, InvalidParameter
from domain.job import JobStatus
from projections.jobs import get_job
from stratus.runtime import Runtime

log = logging.getLogger(__name__)

JOB_WAIT = 600.0  # seconds a member's job may take before the scaler gives up waiting
# Deploy parameters a profile may not set: the group chooses them.
CHOSEN = ("zoneid", "templateid", "serviceofferingid", "networkids", "networks")


class MemberJobFailed(DomainError):
    """A member's deploy, assignment, removal or destroy did not succeed."""


def deploy_params(text: str) -> dict[str, str]:
    """A profile's `otherdeployparams` (`key=value&…`), as deployVirtualMachine takes them."""
    params = dict(parse_qsl(text or "", keep_blank_values=True))
    for name in params:
        if name.lower() in ("networkids", "networks"):
            raise InvalidParameter(
                "'networks' is not a valid parameter, network for an AutoScaled VM is chosen "
                "automatically. An autoscaled VM is deployed in the loadbalancer's network"
            )
        if name.lower() in CHOSEN:
            raise InvalidParameter(f"'{name}' is set by the AutoScale Vm Profile itself")
    return params


@dataclass
class Acting:
    """Runs API commands in this process as one user and waits for their jobs."""

    runtime: Runtime
    services: Services
    user_id: str

    def submit(self, command: str, raw: dict[str, str]) -> dict[str, Any]:
        """The command's immediate answer (an async one's `jobid`, and `id` for a create)."""
        caller = self.services.auth.acting_user(self.user_id)
        found = self.services.dispatcher.find(command)
        call = Call(self.runtime, self.services, caller, found, raw, request_id=uuid.uuid4().hex)
        return dict(next(iter(self.services.dispatcher.run(call).values())))

    def run(self, command: str, raw: dict[str, str]) -> dict[str, Any]:
        """The command's answer, after its job finished; MemberJobFailed if it failed."""
        answer = self.submit(command, raw)
        if "jobid" in answer:
            self.wait(answer["jobid"], command)
        return answer

    def wait(self, job_id: str, command: str) -> None:
        deadline, pause = time.monotonic() + JOB_WAIT, threading.Event()
        while time.monotonic() < deadline:
            with self.runtime.db.read() as cursor:
                job = get_job(cursor, job_id)
            if job is not None and job["status"] != JobStatus.PENDING:
                if job["status"] == JobStatus.FAILED:
                    text = (job.get("result") or {}).get("message", "failed")
                    raise MemberJobFailed(f"{command} failed: {text}")
                self.runtime.runner.consistent(5.0)  # its effects readable, as a client sees them
                return
            pause.wait(0.1)
        raise MemberJobFailed(f"{command} did not finish in {JOB_WAIT:.0f} s")


def add_member(acting: Acting, group: dict[str, Any], profile: dict[str, Any]) -> UUID | None:
    """Deploy a VM from the profile into the rule's network, record it, put it behind the rule.
    None when it could not be done (logged; the next pass tries again)."""
    raw = {
        **deploy_params(profile["other_deploy_params"]),
        "zoneid": profile["zone_id"],
        "templateid": profile["template_id"],
        "serviceofferingid": profile["service_offering_id"],
        "networkids": group["network_id"],
        "name": f"autoScaleVm-{group['id'][:8]}-{uuid.uuid4().hex[:8]}",
    }
    store, group_id = acting.runtime.store, UUID(group["id"])
    try:
        answer = acting.submit("deployVirtualMachine", raw)
    except (DomainError, ApiError) as error:
        log.warning("autoscale group %s: deploying failed: %s", group["id"], error)
        return None
    vm_id = UUID(answer["id"])
    cmd.record_member(store, group_id, vm_id, None)
    try:
        acting.wait(answer["jobid"], "deployVirtualMachine")
        acting.run(
            "assignToLoadBalancerRule",
            {"id": group["lb_rule_id"], "virtualmachineids": str(vm_id)},
        )
    except (DomainError, ApiError) as error:
        log.warning("autoscale group %s: VM %s did not join: %s", group["id"], vm_id, error)
        destroy_member(acting, group_id, vm_id)
        return None
    return vm_id


def drain_member(acting: Acting, group: dict[str, Any], vm_id: UUID, destroy_at_ms: int) -> None:
    """Take a VM off the rule; it is destroyed once `destroy_at_ms` has passed."""
    cmd.record_member(acting.runtime.store, UUID(group["id"]), vm_id, destroy_at_ms)
    try:
        acting.run(
            "removeFromLoadBalancerRule",
            {"id": group["lb_rule_id"], "virtualmachineids": str(vm_id)},
        )
    except (DomainError, ApiError) as error:  # not on the rule any more (expunged, removed by hand)
        log.info(
            "autoscale group %s: VM %s not removed from its rule: %s", group["id"], vm_id, error
        )


def destroy_member(acting: Acting, group_id: UUID, vm_id: UUID) -> None:
    """Destroy a member and record that it left; a VM already gone just leaves."""
    try:
        acting.run("destroyVirtualMachine", {"id": str(vm_id)})
    except (DomainError, ApiError) as error:
        log.info("autoscale group %s: VM %s not destroyed: %s", group_id, vm_id, error)
    cmd.record_member(acting.runtime.store, group_id, vm_id, -1)


def dismantle(call: Call, group: dict[str, Any], members: list[dict[str, Any]]) -> None:
    """Delete a group as 4.3 does: its VMs off the rule and destroyed, then the group gone."""
    acting = Acting(call.runtime, call.services, call.caller.user_id)
    group_id = UUID(group["id"])
    active = [m["vm_id"] for m in members if m["destroy_at_ms"] is None]
    if active:
        try:
            acting.run(
                "removeFromLoadBalancerRule",
                {"id": group["lb_rule_id"], "virtualmachineids": ",".join(active)},
            )
        except (DomainError, ApiError) as error:
            log.info("autoscale group %s: members not removed from the rule: %s", group_id, error)
    for member in members:
        destroy_member(acting, group_id, UUID(member["vm_id"]))
    cmd.remove_group(call.store, group_id)
