"""Operators' VM commands beyond the lifecycle: cleanVMReservations (room held on hosts for
machines that no longer hold it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Submitted
from commands.reservation_cleanup import clean_reservations

ADMIN_PKG = "org.apache.cloudstack.api.command.admin.vm"


def clean_vm_reservations(call: Call, args: dict[str, Any]) -> Submitted:
    """Every host holding room for a guest or system VM is looked at; the command decides on
    the aggregates which holds are stale."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT DISTINCT host_id FROM host_reservations WHERE reservation_id LIKE %s "
            "OR reservation_id LIKE %s",
            ("vm:%", "systemvm:%"),
        ).fetchall()
    hosts = [UUID(row["host_id"]) for row in rows]
    return run_async(
        call,
        instance_type="",
        instance_id=None,
        event_type="VM.RESERVATION.CLEANUP",
        description="Cleaning up VM reservations",
        work=lambda: (clean_reservations(call.store, hosts), {"success": True})[1],
    )


COMMANDS = (
    ApiCommand(
        "cleanVMReservations",
        clean_vm_reservations,
        (),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.CleanVMReservationsCmd",
        description="Cleanups VM reservations in the database.",
    ),
)
