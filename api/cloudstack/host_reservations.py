"""releaseHostReservation: a host held for one account by the implicit dedication planner is
given back to every planner (4.3's planner host reservation)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.jobs import run_async
from api.cloudstack.placement import reserving_machines
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType
from commands import hosts as cmd
from domain.errors import InvalidParameter

P = ParamType


def release_host_reservation(call: Call, args: dict[str, Any]) -> Submitted:
    row = places._row(call, "hosts", args["id"], "host")
    with call.read() as cursor:
        machines = tuple(UUID(m) for m in reserving_machines(cursor, row["id"]))
    if not machines:
        raise InvalidParameter(f"Host {row['name']} is not reserved by a deployment planner")
    host_id = UUID(row["id"])

    def work() -> dict[str, Any]:
        cmd.release_reservation(call.store, host_id, machines)
        return {"success": True}

    return run_async(
        call,
        instance_type="Host",
        instance_id=host_id,
        event_type="HOST.RESERVATION.RELEASE",
        description=f"Releasing the reservation of host {row['name']}",
        work=work,
    )


COMMANDS = (
    ApiCommand(
        "releaseHostReservation",
        release_host_reservation,
        (Param("id", P.UUID, required=True),),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class="org.apache.cloudstack.api.command.admin.host.ReleaseHostReservationCmd",
        description="Releases a host's reservation for a deployment planner",
    ),
)
