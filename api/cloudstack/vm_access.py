"""Access to a guest: reset its SSH key or password (jobs, on a stopped VM, as in 4.3), and
getVMPassword, the password encrypted with the VM's own public key.

A reset changes only the VM's record; its next start carries the new key to the host. A new
password is shown once, in the answer of the job that made it (`api.cloudstack.vm_passwords`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.common import named_owner
from api.cloudstack.ssh_keys import named_key_pair
from api.cloudstack.vm_listing import vm_row, vm_view
from api.cloudstack.vms import hypervisor_job
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType
from commands import vm_access as cmd

P = ParamType
USER_PKG = "org.apache.cloudstack.api.command.user.vm"


def reset_key(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    account_id, _domain = named_owner(call, args)
    pair = named_key_pair(call, account_id, args["keypair"])
    enabled = bool(row["password_enabled"])

    def work(job_id: UUID) -> Any:
        access = cmd.GuestAccess(
            UUID(row["id"]), job_id, (pair["name"], pair["public_key"]), enabled, enabled
        )
        return cmd.change_access(call.store, access)

    return hypervisor_job(
        call, row["id"], "VM.RESETSSHKEY", f"Resetting the SSH key of VM {row['name']}", work
    )


def reset_password(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    enabled = bool(row["password_enabled"])

    def work(job_id: UUID) -> Any:
        access = cmd.GuestAccess(UUID(row["id"]), job_id, None, enabled, new_password=True)
        return cmd.change_access(call.store, access)

    return hypervisor_job(
        call, row["id"], "VM.RESETPASSWORD", f"Resetting the password of VM {row['name']}", work
    )


def get_password(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = vm_row(call, args["id"])
    return {"encryptedpassword": cmd.encrypted_password(call.store, UUID(row["id"]))}


def vm_job(name: str, handler: Any, params: tuple, java: str, text: str) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=java,
        description=text,
    )


COMMANDS = (
    vm_job(
        "resetSSHKeyForVirtualMachine",
        reset_key,
        (
            Param("id", P.UUID, required=True),
            Param("keypair", P.STRING, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            OWNER_PROJECT_ID,
        ),
        f"{USER_PKG}.ResetVMSSHKeyCmd",
        'Resets the SSH Key for virtual machine. The virtual machine must be in a "Stopped" state.',
    ),
    vm_job(
        "resetPasswordForVirtualMachine",
        reset_password,
        (Param("id", P.UUID, required=True),),
        f"{USER_PKG}.ResetVMPasswordCmd",
        'Resets the password for virtual machine. The virtual machine must be in a "Stopped" '
        "state and the template must already support this feature for this command to take "
        "effect.",
    ),
    ApiCommand(
        "getVMPassword",
        get_password,
        (Param("id", P.UUID, required=True),),
        item_key="password",
        java_class=f"{USER_PKG}.GetVMPasswordCmd",
        description="Returns an encrypted password for the VM",
    ),
)
