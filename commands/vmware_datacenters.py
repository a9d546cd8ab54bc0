"""Associating a zone with a vCenter datacenter and giving it back: each is a request an adapter
carries out on the vCenter (`claim_datacenter`, `release_datacenter`) under a job that its
result finishes. A datacenter (`name@vcenter`) serves one zone, held by a name claim."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome
from commands.names import claimed, released
from commands.requests_in_flight import settle_request
from domain.errors import NotFound
from domain.values import Secret
from domain.vmware_datacenter import (
    ASSOCIATING,
    RELEASING,
    VmwareDatacenter,
    datacenter_id,
    vcenter_url,
)
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

CLAIM = "vmware-datacenter"
CLAIM_ACTION = "claim_datacenter"
RELEASE_ACTION = "release_datacenter"
# The request a datacenter waits on, by its state.
ACTIONS = {ASSOCIATING: CLAIM_ACTION, RELEASING: RELEASE_ACTION}


@dataclass(frozen=True)
class AssociateDatacenter:
    zone_id: UUID
    name: str
    vcenter: str
    username: str
    password: str = field(repr=False)
    job_id: UUID | None = None


def associate(store: Any, command: AssociateDatacenter) -> Outcome:
    def attempt() -> Outcome:
        dc_id = datacenter_id(command.zone_id)
        try:
            datacenter: VmwareDatacenter = store.get(VmwareDatacenter, dc_id)
        except NotFound:
            datacenter = VmwareDatacenter(id=dc_id, zone_id=command.zone_id)
        superseded = datacenter.guid if datacenter.state == ASSOCIATING else None
        datacenter.request_association(
            uuid.uuid4().hex,
            command.job_id,
            command.name,
            command.vcenter,
            (command.username, Secret(command.password)),
        )
        claim = claimed(
            store,
            CLAIM,
            datacenter.guid,
            dc_id,
            f"VMware DC {datacenter.guid} of another zone",
        )
        saved: list[Any] = [datacenter, claim]
        if superseded and superseded != datacenter.guid:
            saved += [c for c in (released(store, CLAIM, superseded),) if c is not None]
        return Outcome(store.last_position(store.save(*saved)), dc_id)

    result: Outcome = store.run(attempt)
    return result


def release(store: Any, zone_id: UUID, job_id: UUID | None) -> Outcome:
    def attempt() -> Outcome:
        datacenter: VmwareDatacenter = store.get(
            VmwareDatacenter, datacenter_id(zone_id), what="VMware datacenter"
        )
        datacenter.request_release(uuid.uuid4().hex, job_id)
        saved: list[Any] = [datacenter]
        claim = released(store, CLAIM, datacenter.guid)
        if claim is not None:
            saved.append(claim)
        return Outcome(store.last_position(store.save(*saved)), datacenter.id)

    result: Outcome = store.run(attempt)
    return result


def on_claim_result(store: Any, result: WorkResult) -> Outcome:
    """Claimed: the zone has its datacenter. Refused or unreachable: it has none, and the
    datacenter's name is free again."""

    def settle(datacenter: VmwareDatacenter) -> list[Any]:
        if result.ok:
            datacenter.associated(result.request_id)
            return []
        datacenter.association_failed(result.request_id, result.error or "")
        claim = released(store, CLAIM, datacenter.guid)
        return [claim] if claim is not None else []

    return settle_request(store, VmwareDatacenter, result, settle, _named)


def on_release_result(store: Any, result: WorkResult) -> Outcome:
    def settle(datacenter: VmwareDatacenter) -> list[Any]:
        datacenter.released(result.request_id, None if result.ok else result.error)
        return []

    return settle_request(store, VmwareDatacenter, result, settle, _named)


def _named(datacenter: VmwareDatacenter) -> dict[str, Any]:
    return {"object": "vmwaredc", "id": str(datacenter.id)}


def datacenter_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """Each request goes to a VMware adapter with the vCenter's login sealed."""

    def outgoing(e: Any, action: str) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor="vmware",
            action=action,
            target_id=str(e.originator_id),
            params={"name": e.name},
            sealed_credentials=seal_credentials(
                box, vcenter_url(e.vcenter), e.username, e.password.reveal()
            ),
            **origin(e),
        )
        return work(request, prefix)

    requested: Any = VmwareDatacenter  # events made by the library's decorator
    return {
        get_topic(requested.AssociationRequested): lambda e: outgoing(e, CLAIM_ACTION),
        get_topic(requested.ReleaseRequested): lambda e: outgoing(e, RELEASE_ACTION),
    }


OUTBOX_ROUTES = datacenter_routes


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {
    CLAIM_ACTION: on_claim_result,
    RELEASE_ACTION: on_release_result,
}
