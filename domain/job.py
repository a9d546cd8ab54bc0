"""Job: one asynchronous command, from submission to its result or its failure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidState


class JobStatus:
    PENDING = 0
    SUCCEEDED = 1
    FAILED = 2


class Job(Aggregate):
    """An async job; its instance is the resource it acts on."""

    @event("Submitted")
    def __init__(
        self,
        command: str,
        account_id: UUID,
        user_id: UUID,
        instance_type: str,
        instance_id: UUID | None,
        event_type: str,
        description: str,
        executor: str = "management",
    ) -> None:
        self.command = command
        self.account_id = account_id
        self.user_id = user_id
        self.instance_type = instance_type
        self.instance_id = instance_id
        self.event_type = event_type
        self.description = description
        self.executor = executor  # "management": run by a Stratus process; "hypervisor": adapters
        self.status = JobStatus.PENDING
        self.started = False
        self.result: dict[str, Any] | None = None

    def _check_pending(self) -> None:
        if self.status != JobStatus.PENDING:
            raise InvalidState("The job has already finished")

    def start(self) -> None:
        self._check_pending()
        if not self.started:
            self._started()

    @event("Started")
    def _started(self) -> None:
        self.started = True

    def succeed(self, result: dict[str, Any]) -> None:
        """`result` says what came of it: {"success": True}, or the kind and id of an object."""
        self._check_pending()
        self._succeeded(result=result)

    @event("Succeeded")
    def _succeeded(self, result: dict[str, Any]) -> None:
        self.status = JobStatus.SUCCEEDED
        self.result = result

    def fail(self, error: str, message: str) -> None:
        """`error` names the domain error class, so the edge can report it as the API expects."""
        self._check_pending()
        self._failed(error=error, message=message)

    @event("Failed")
    def _failed(self, error: str, message: str) -> None:
        self.status = JobStatus.FAILED
        self.result = {"error": error, "message": message}
