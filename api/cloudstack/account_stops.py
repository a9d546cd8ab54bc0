"""What disabling an account stops, as 4.3's disableAccount does: every running VM of the
account, its guest VMs and then its virtual routers and internal load balancer VMs, each
through its stop command (stopVirtualMachine, stopRouter, stopInternalLoadBalancerVM) run in
this process as the cloud's system administrator (its job, its adapter work, its events), and
waited on until it is done. Whether all of them stopped is what marks the account as needing
cleanup (`iscleanuprequired`)."""

from __future__ import annotations

import logging

from api.cloudstack.autoscale_members import Acting, MemberJobFailed
from api.dispatch import Call
from api.errors import ApiError
from domain.errors import DomainError
from domain.system_vm import Role as VmRole

log = logging.getLogger(__name__)

# The states in which a VM runs on a host, or is on its way there or between hosts.
RUNNING = ("Running", "Starting", "Migrating")


def system_user_id(call: Call) -> str:
    """The cloud's system administrator (`admin` of ROOT), as whom the stops are asked."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM users WHERE username = 'admin' AND domain_path = '/' AND removed = 0"
        ).fetchone()
    if row is None:
        raise DomainError("The cloud has no system administrator to stop the VMs as")
    return str(row["id"])


# The stop command of each kind of appliance an account owns.
APPLIANCE_STOPS = {
    VmRole.ROUTER: "stopRouter",
    VmRole.INTERNAL_LB: "stopInternalLoadBalancerVM",
}


def running_vms(call: Call, account_id: str) -> list[tuple[str, str]]:
    """The account's running VMs, guests first, each with the command that stops it."""
    marks = ", ".join(["%s"] * len(RUNNING))
    roles = ", ".join(["%s"] * len(APPLIANCE_STOPS))
    with call.read() as cursor:
        guests = cursor.execute(
            "SELECT id FROM virtual_machines WHERE account_id = %s AND removed = 0 "
            f"AND state IN ({marks}) ORDER BY created, id",
            (account_id, *RUNNING),
        ).fetchall()
        appliances = cursor.execute(
            "SELECT id, role FROM system_vms WHERE account_id = %s AND removed = 0 "
            f"AND role IN ({roles}) AND state IN ({marks}) ORDER BY created, id",
            (account_id, *APPLIANCE_STOPS, *RUNNING),
        ).fetchall()
    return [(str(row["id"]), "stopVirtualMachine") for row in guests] + [
        (str(row["id"]), APPLIANCE_STOPS[row["role"]]) for row in appliances
    ]


def stop_account_vms(call: Call, account_id: str) -> bool:
    """Stops the account's running VMs and waits for each stop; True when all stopped."""
    vms = running_vms(call, account_id)
    if not vms:
        return True
    acting = Acting(call.runtime, call.services, system_user_id(call))
    jobs: list[tuple[str, str]] = []
    complete = True
    for vm_id, command in vms:
        try:
            answer = acting.submit(command, {"id": vm_id})
            jobs.append((vm_id, str(answer["jobid"])))
        except (DomainError, ApiError) as error:
            log.warning("disabling account %s: VM %s not stopped: %s", account_id, vm_id, error)
            complete = False
    for vm_id, job_id in jobs:
        try:
            acting.wait(job_id, "stopVirtualMachine")
        except MemberJobFailed as error:
            log.warning("disabling account %s: VM %s not stopped: %s", account_id, vm_id, error)
            complete = False
    return complete and not running_vms(call, account_id)
