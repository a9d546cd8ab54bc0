"""configureSimulator's work: each simulated host in scope is sent the setting for one action
(`configure_simulator`, through the outbox with the host's login), under a job its result
finishes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome
from commands.requests_in_flight import settle_request
from domain.errors import InvalidParameter, NotFound
from domain.host import Host
from domain.simulator_mock import SimulatorMock, mock_id
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

ACTION = "configure_simulator"


@dataclass(frozen=True)
class ConfigureMock:
    host_id: UUID
    action: str
    enabled: bool
    wait_seconds: float
    job_id: UUID | None = None


def configure(store: Any, command: ConfigureMock) -> Outcome:
    def attempt() -> Outcome:
        host: Host = store.get(Host, command.host_id, what="host")
        if host.removed or host.hypervisor != "Simulator":
            raise InvalidParameter(f"Host {host.name} is not a simulator host")
        aggregate_id = mock_id(host.id, command.action)
        try:
            mock: SimulatorMock = store.get(SimulatorMock, aggregate_id)
        except NotFound:
            mock = SimulatorMock(id=aggregate_id, host_id=host.id, action=command.action)
        mock.request(
            uuid.uuid4().hex,
            command.job_id,
            (command.enabled, command.wait_seconds),
            (host.url, host.username, host.password),
        )
        return Outcome(store.last_position(store.save(mock)), mock.id)

    result: Outcome = store.run(attempt)
    return result


def on_result(store: Any, result: WorkResult) -> Outcome:
    def settle(mock: SimulatorMock) -> list[Any]:
        if result.ok:
            mock.applied_on_host(result.request_id)
        else:
            mock.failed(result.request_id, result.error or "")
        return []

    return settle_request(store, SimulatorMock, result, settle, lambda _: {"success": True})


def mock_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    def outgoing(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor="simulator",
            action=ACTION,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "action": e.action,
                "enabled": e.enabled,
                "wait_seconds": e.wait_seconds,
            },
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    requested: Any = SimulatorMock  # events made by the library's decorator
    return {get_topic(requested.Requested): outgoing}


OUTBOX_ROUTES = mock_routes


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {ACTION: on_result}
