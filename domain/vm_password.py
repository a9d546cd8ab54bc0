"""PasswordDisclosure: that a VM's password, set by a job, was shown in that job's answer.

A password is shown once, in the first answer of the job that set it (deploy, password reset,
SSH key reset). The disclosure's id comes from the VM and the job, so of all the answers to
that job, from however many API processes, exactly one records it and shows the password.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event


class PasswordDisclosure(Aggregate):
    """The password a job set for a VM has been shown, to this user."""

    @staticmethod
    def create_id(vm_id: UUID, job_id: UUID) -> UUID:
        return uuid5(vm_id, f"password-disclosure:{job_id}")

    @event("Recorded")
    def __init__(self, vm_id: UUID, job_id: UUID, user_id: UUID) -> None:
        self.vm_id, self.job_id, self.user_id = vm_id, job_id, user_id
