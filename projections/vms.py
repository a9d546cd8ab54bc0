"""The virtual machines read model (listVirtualMachines) and the room VMs hold on hosts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.capacity import HostCapacity
from domain.instance_group import InstanceGroup
from domain.vm import VirtualMachine, VmState
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

_UPDATED_COLUMNS = {
    "display_name": "display_name",
    "ha_enabled": "ha_enable",
    "guest_os_id": "guest_os_id",
    "group": "vm_group",
    "name": "name",
    "dynamically_scalable": "dynamically_scalable",
    "display": "display_vm",
}

VM: Any = VirtualMachine  # events made by the library's decorator: type checkers cannot see them
CAPACITY: Any = HostCapacity
GROUP: Any = InstanceGroup


def _id(e: Any) -> str:
    return str(e.originator_id)


class VirtualMachinesProjection(Projection):
    """Keeps `virtual_machines` with `vm_counts`, and `host_capacities` with
    `host_reservations`."""

    name = "virtual_machines"
    summary = "virtual machines and host capacities"
    tables = ("virtual_machines", "host_capacities", "host_reservations", "vm_counts")

    @on(VM.Deployed)
    def deployed(self, e: Any, c: Cursor, t: Tables) -> None:
        compute = e.compute
        c.execute(
            f"INSERT INTO {t.virtual_machines} (id, name, display_name, instance_name, "
            "account_id, domain_id, zone_id, state, template_id, service_offering_id, "
            "hypervisor, guest_os_id, cpu_number, cpu_speed, memory, custom, root_disk_size, "
            "created, seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            f"%s, %s, %s, (SELECT COALESCE(max(seq), 0) + 1 FROM {t.virtual_machines}))",
            (
                _id(e),
                e.name,
                e.display_name,
                e.instance_name,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                str(e.zone_id),
                VmState.STOPPED,
                str(compute["template_id"]),
                str(compute["offering_id"]),
                compute["hypervisor"],
                e.guest_os_id,
                compute["cpu_number"],
                compute["cpu_speed"],
                compute["memory"],
                int(compute["custom"]),
                compute["root_disk_size"],
                e.timestamp.isoformat(),
            ),
        )

        self._count(c, t, str(e.owner_account_id), 1)

    def _count(self, c: Cursor, t: Tables, account_id: str, step: int) -> None:
        table = t.vm_counts
        c.execute(
            f"INSERT INTO {table} (account_id, n) VALUES (%s, %s) "
            f"ON CONFLICT (account_id) DO UPDATE SET n = {table}.n + %s",
            (account_id, step, step),
        )

    def _set(self, c: Cursor, t: Tables, e: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %s" for name in columns)
        c.execute(
            f"UPDATE {t.virtual_machines} SET {assignments} WHERE id = %s",
            (*columns.values(), _id(e)),
        )

    @on(VM.StartRequested)
    def start_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=VmState.STARTING, host_id=str(e.host_id), pending_job_id=_job(e))

    @on(VM.StopRequested)
    def stop_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=VmState.STOPPING, pending_job_id=_job(e))

    @on(
        VM.RebootRequested,
        VM.ScaleRequested,
        VM.IsoAttachRequested,
        VM.IsoDetachRequested,
        VM.RestoreRequested,
        VM.MigrateRequested,
    )
    def busy(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, pending_job_id=_job(e))

    @on(VM.DestroyRequested)
    def destroy_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        state = VmState.EXPUNGING if e.expunge else VmState.STOPPING
        self._set(c, t, e, state=state, pending_job_id=_job(e))

    @on(VM.Started, VM.Rebooted)
    def running(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=VmState.RUNNING, pending_job_id=None, state_reason="")

    @on(VM.Migrated)
    def migrated(self, e: Any, c: Cursor, t: Tables) -> None:
        host = str(e.host_id)
        self._set(c, t, e, host_id=host, last_host_id=host, pending_job_id=None, state_reason="")

    @on(VM.Stopped)
    def stopped(self, e: Any, c: Cursor, t: Tables) -> None:
        self._off_host(c, t, e, VmState.STOPPED)

    @on(VM.Destroyed)
    def destroyed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._off_host(c, t, e, VmState.DESTROYED)
        self._set(c, t, e, destroyed_at=e.timestamp.isoformat())

    def _off_host(self, c: Cursor, t: Tables, e: Any, state: str, reason: str = "") -> None:
        c.execute(
            f"UPDATE {t.virtual_machines} SET state = %s, state_reason = %s, pending_job_id = "
            "NULL, last_host_id = COALESCE(host_id, last_host_id), host_id = NULL WHERE id = %s",
            (state, reason, _id(e)),
        )

    @on(VM.Expunged)
    def expunged(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.virtual_machines} SET state = %s, removed = 1, pending_job_id = NULL, "
            "host_id = NULL, last_host_id = NULL WHERE id = %s",
            (VmState.EXPUNGING, _id(e)),
        )
        owner = c.execute(
            f"SELECT account_id FROM {t.virtual_machines} WHERE id = %s", (_id(e),)
        ).fetchone()
        if owner is not None:
            self._count(c, t, owner["account_id"], -1)

    @on(VM.Recovered)
    def recovered(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=VmState.STOPPED, destroyed_at=None)

    @on(VM.StartFailed)
    def start_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._off_host(c, t, e, e.state, e.reason)

    @on(VM.RequestFailed)
    def request_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=e.state, pending_job_id=None, state_reason=e.reason)

    @on(VM.PlacementFailed)
    def placement_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=e.state, state_reason=e.reason)

    @on(VM.Scaled)
    def scaled(self, e: Any, c: Cursor, t: Tables) -> None:
        compute = e.compute
        self._set(
            c,
            t,
            e,
            service_offering_id=str(compute["offering_id"]),
            cpu_number=compute["cpu_number"],
            cpu_speed=compute["cpu_speed"],
            memory=compute["memory"],
            custom=int(compute["custom"]),
            root_disk_size=compute["root_disk_size"],
            pending_job_id=None,
        )

    @on(VM.Restored)
    def restored(self, e: Any, c: Cursor, t: Tables) -> None:
        compute = e.compute
        self._set(
            c,
            t,
            e,
            template_id=str(compute["template_id"]),
            root_disk_size=compute["root_disk_size"],
            pending_job_id=None,
        )

    @on(VM.OwnerChanged)
    def owner_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, account_id=str(e.account_id), domain_id=str(e.domain_id))
        self._count(c, t, str(e.from_account_id), -1)
        self._count(c, t, str(e.account_id), 1)

    @on(VM.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        columns = {
            _UPDATED_COLUMNS[key]: int(value) if isinstance(value, bool) else value
            for key, value in e.changes.items()
            if key in _UPDATED_COLUMNS
        }
        if columns:
            self._set(c, t, e, **columns)

    @on(VM.IsoAttached)
    def iso_attached(self, e: Any, c: Cursor, t: Tables) -> None:
        iso = e.iso or {}
        self._set(
            c,
            t,
            e,
            iso_id=iso.get("id"),
            iso_name=iso.get("name", ""),
            iso_display_text=iso.get("display_text", ""),
            pending_job_id=None,
            state_reason="",
        )

    @on(VM.IsoDetached)
    def iso_detached(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, iso_id=None, iso_name="", iso_display_text="", pending_job_id=None)

    @on(VM.KeyPairGiven)
    def key_pair_given(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, keypair=e.key_pair)

    # Instance groups: the VM's group, and its name as the group changes ------------------

    @on(VM.GroupChanged)
    def group_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        group_id = str(e.group_id) if e.group_id else None
        self._set(c, t, e, group_id=group_id, vm_group=e.group_name)

    @on(GROUP.Renamed)
    def group_renamed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.virtual_machines} SET vm_group = %s WHERE group_id = %s",
            (e.name, _id(e)),
        )

    # Room held on hosts --------------------------------------------------------------------

    @on(CAPACITY.Opened)
    def capacity_opened(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.host_capacities} (id, host_id) VALUES (%s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            (_id(e), str(e.host_id)),
        )

    @on(CAPACITY.Reserved)
    def reserved(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.host_reservations} (host_id, reservation_id, cpu_mhz, memory_mb) "
            f"SELECT host_id, %s, %s, %s FROM {t.host_capacities} WHERE id = %s",
            (e.reservation_id, e.cpu_mhz, e.memory_mb, _id(e)),
        )

    @on(CAPACITY.Released)
    def released(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.host_reservations} WHERE reservation_id = %s AND host_id = "
            f"(SELECT host_id FROM {t.host_capacities} WHERE id = %s)",
            (e.reservation_id, _id(e)),
        )


def _job(e: Any) -> str | None:
    return str(e.job_id) if e.job_id else None


def destroyed_before(cursor: Cursor, moment: datetime) -> list[str]:
    """The VMs destroyed (and not expunged or being expunged) at or before `moment`, oldest
    first: what the expunger takes."""
    rows = cursor.execute(
        "SELECT id FROM virtual_machines WHERE state = %s AND removed = 0 "
        "AND destroyed_at <= %s ORDER BY destroyed_at, id",
        (VmState.DESTROYED, moment.isoformat()),
    ).fetchall()
    return [row["id"] for row in rows]


def vms_on_host_storage(cursor: Cursor, host_id: str) -> list[dict[str, Any]]:
    """VMs not destroyed whose ROOT disk is on the host's own storage (on no primary storage
    pool) and that run or last ran there: their disks go with the host (id, name, state)."""
    rows = cursor.execute(
        "SELECT v.id, v.name, v.state FROM virtual_machines AS v JOIN volumes AS r "
        "ON r.vm_id = v.id AND r.kind = 'ROOT' AND r.removed = 0 "
        "WHERE COALESCE(v.host_id, v.last_host_id) = %s AND v.removed = 0 "
        "AND v.state NOT IN (%s, %s) AND r.storage_id IS NULL ORDER BY v.created, v.id",
        (host_id, VmState.DESTROYED, VmState.EXPUNGING),
    ).fetchall()
    return [dict(row) for row in rows]


def vm_count_on_host(cursor: Cursor, host_id: str) -> int:
    """VMs placed on a host (starting, running or stopping there)."""
    row = cursor.execute(
        "SELECT count(*) AS n FROM virtual_machines WHERE host_id = %s AND removed = 0",
        (host_id,),
    ).fetchone()
    return int(row["n"]) if row else 0


def vm_count(cursor: Cursor, scope: str, params: list[Any]) -> int:
    """VMs not expunged of the accounts `scope` (SQL on `a`, the accounts) selects."""
    row = cursor.execute(
        "SELECT COALESCE(sum(c.n), 0) AS n FROM vm_counts AS c "
        f"JOIN accounts AS a ON a.id = c.account_id WHERE {scope}",
        params,
    ).fetchone()
    return int(row["n"]) if row else 0


def allocated(cursor: Cursor, host_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(MHz, MiB) held on each of these hosts by reservations."""
    if not host_ids:
        return {}
    among, params = in_list(cursor, "host_id", host_ids)
    rows = cursor.execute(
        "SELECT host_id, sum(cpu_mhz) AS cpu, sum(memory_mb) AS memory FROM host_reservations "
        f"WHERE {among} GROUP BY host_id",
        params,
    ).fetchall()
    return {r["host_id"]: (int(r["cpu"] or 0), int(r["memory"] or 0)) for r in rows}


READ_MODELS = (VirtualMachinesProjection,)
