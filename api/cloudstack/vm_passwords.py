"""The password in a VM job's answer: shown once, to the user who submitted the job that set it.

Deploying from a password-enabled template and resetting a password (or, on such a template, an
SSH key) make a new password. 4.3 puts it in that job's answer; job answers are polled over and
over and listed wholesale, so here only the first answer of that job to its submitter carries it
(recorded as a `PasswordDisclosure`, so this holds across API processes). Whether that job set
the password, and the password, are read from the VM's own sealed record, never a read model.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.dispatch import Call
from commands.vm_access import disclose_password

# The jobs that can make a password (by their command's class, as jobs record it): any other
# job's answer is rendered without looking.
_MAKERS = ("DeployVMCmd", "ResetVMPasswordCmd", "ResetVMSSHKeyCmd")


def with_password(call: Call, job: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """`item`, the VM a finished job answers, with the password that job set if this is the
    answer that shows it."""
    if job["user_id"] != call.caller.user_id or not str(job["command"]).endswith(_MAKERS):
        return item
    with call.acting():
        password = disclose_password(
            call.store, UUID(item["id"]), UUID(job["id"]), UUID(call.caller.user_id)
        )
    return item if password is None else {**item, "password": password}
