"""The internal load balancer VMs read model: each VM's tier and source address (the rest of
the appliance is in `system_vms`); and the queries listLoadBalancers and
listInternalLoadBalancerVMs read. Internal load balancer rules themselves are rows of
`network_rules` (no public address)."""

from __future__ import annotations

from typing import Any

from domain.system_vm import Role, SystemVm
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

VM: Any = SystemVm  # events made by the library's decorator


class InternalLbVmsProjection(Projection):
    """One row per internal load balancer VM."""

    name = "internal_lb_vms"
    summary = "internal load balancer VMs and the addresses they balance"
    tables = ("internal_lb_vms",)

    @on(VM.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        if e.role != Role.INTERNAL_LB:
            return
        c.execute(
            f"INSERT INTO {t.internal_lb_vms} (id, network_id, guest_ip) VALUES (%s, %s, %s)",
            (str(e.originator_id), str(e.network_ids[0]), getattr(e, "guest_ip", "")),
        )


def addresses_of(c: Cursor, vm_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each internal load balancer VM's source address, with its tier's gateway and netmask."""
    if not vm_ids:
        return {}
    marks = ", ".join(["%s"] * len(vm_ids))
    rows = c.execute(
        "SELECT b.id, b.guest_ip, n.gateway, n.netmask FROM internal_lb_vms AS b "
        f"LEFT JOIN networks AS n ON n.id = b.network_id WHERE b.id IN ({marks})",
        vm_ids,
    ).fetchall()
    return {row["id"]: dict(row) for row in rows}


def vm_names(c: Cursor, vm_ids: set[str]) -> dict[str, str]:
    """The names of the VMs behind load balancers."""
    if not vm_ids:
        return {}
    wanted = sorted(vm_ids)
    marks = ", ".join(["%s"] * len(wanted))
    rows = c.execute(f"SELECT id, name FROM virtual_machines WHERE id IN ({marks})", wanted)
    return {row["id"]: row["name"] for row in rows.fetchall()}


READ_MODELS = (InternalLbVmsProjection,)
