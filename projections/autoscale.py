"""The autoscale read models: counters, conditions, policies (with their conditions), VM
profiles, VM groups (with their policies and members), and the VMs' disk readings the scaler
weighs; with the queries the API and the scaler make of them."""

from __future__ import annotations

from typing import Any

from domain import autoscale as a
from domain.statistics import DiskStatistics
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

COUNTER: Any = a.Counter  # events made by the library's decorator
CONDITION: Any = a.Condition
POLICY: Any = a.AutoScalePolicy
PROFILE: Any = a.AutoScaleVmProfile
GROUP: Any = a.AutoScaleVmGroup
USED: Any = a._Used  # Removed, shared by counters, conditions, policies and profiles
DISKS: Any = DiskStatistics
READINGS_KEPT_MS = 24 * 3600 * 1000  # a day back, and the last reading before that


class AutoScaleProjection(Projection):
    """One row per counter, condition, policy, profile and group; a group's members."""

    name = "autoscale"
    summary = "autoscale counters, conditions, policies, VM profiles, VM groups and readings"
    tables = (
        "autoscale_counters",
        "autoscale_conditions",
        "autoscale_policies",
        "autoscale_policy_conditions",
        "autoscale_vm_profiles",
        "autoscale_vm_groups",
        "autoscale_group_policies",
        "autoscale_group_members",
        "autoscale_disk_readings",
    )

    @on(COUNTER.Created)
    def counter_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.autoscale_counters} (id, name, source, value, created) "
            "VALUES (%s, %s, %s, %s, %s)",
            (str(e.originator_id), e.name, e.source, e.value, e.timestamp.isoformat()),
        )

    @on(CONDITION.Created)
    def condition_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.autoscale_conditions} (id, account_id, domain_id, counter_id, "
            "operator, threshold, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.domain_id),
                str(e.counter_id),
                e.operator,
                e.threshold,
                e.timestamp.isoformat(),
            ),
        )

    @on(POLICY.Created)
    def policy_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.autoscale_policies} (id, account_id, domain_id, action, duration, "
            "quiet_time, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.domain_id),
                e.action,
                e.duration,
                e.quiet_time,
                e.timestamp.isoformat(),
            ),
        )
        _policy_conditions(c, t, str(e.originator_id), e.condition_ids)

    @on(POLICY.Updated)
    def policy_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.autoscale_policies} SET duration = %s, quiet_time = %s WHERE id = %s",
            (e.duration, e.quiet_time, str(e.originator_id)),
        )
        _policy_conditions(c, t, str(e.originator_id), e.condition_ids)

    @on(PROFILE.Created)
    def profile_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.autoscale_vm_profiles} (id, account_id, domain_id, zone_id, "
            "service_offering_id, template_id, other_deploy_params, destroy_grace, "
            "autoscale_user_id, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.domain_id),
                str(e.zone_id),
                str(e.service_offering_id),
                str(e.template_id),
                e.other_deploy_params,
                e.destroy_grace,
                str(e.autoscale_user_id),
                e.timestamp.isoformat(),
            ),
        )

    @on(PROFILE.Updated)
    def profile_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.autoscale_vm_profiles} SET template_id = %s, destroy_grace = %s, "
            "autoscale_user_id = %s WHERE id = %s",
            (
                str(e.template_id),
                e.destroy_grace,
                str(e.autoscale_user_id),
                str(e.originator_id),
            ),
        )

    @on(USED.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        for table in (
            t.autoscale_counters,
            t.autoscale_conditions,
            t.autoscale_policies,
            t.autoscale_vm_profiles,
        ):
            c.execute(f"UPDATE {table} SET removed = 1 WHERE id = %s", (str(e.originator_id),))

    @on(GROUP.Created)
    def group_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.autoscale_vm_groups} (id, account_id, domain_id, lb_rule_id, "
            "network_id, zone_id, profile_id, min_members, max_members, interval_seconds, "
            "state, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.domain_id),
                str(e.lb_rule_id),
                str(e.network_id),
                str(e.zone_id),
                str(e.profile_id),
                e.minimum,
                e.maximum,
                e.interval,
                a.GroupState.ENABLED,
                e.timestamp.isoformat(),
            ),
        )
        _group_policies(c, t, str(e.originator_id), e.scale_up, e.scale_down)

    @on(GROUP.Updated)
    def group_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.autoscale_vm_groups} SET min_members = %s, max_members = %s, "
            "interval_seconds = %s WHERE id = %s",
            (e.minimum, e.maximum, e.interval, str(e.originator_id)),
        )
        _group_policies(c, t, str(e.originator_id), e.scale_up, e.scale_down)

    @on(GROUP.Enabled, GROUP.Disabled, GROUP.Revoked)
    def group_state(self, e: Any, c: Cursor, t: Tables) -> None:
        state = {
            "Enabled": a.GroupState.ENABLED,
            "Disabled": a.GroupState.DISABLED,
            "Revoked": a.GroupState.REVOKE,
        }[type(e).__name__]
        c.execute(
            f"UPDATE {t.autoscale_vm_groups} SET state = %s WHERE id = %s",
            (state, str(e.originator_id)),
        )

    @on(GROUP.Removed)
    def group_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        group_id = str(e.originator_id)
        c.execute(f"UPDATE {t.autoscale_vm_groups} SET removed = 1 WHERE id = %s", (group_id,))
        c.execute(f"DELETE FROM {t.autoscale_group_policies} WHERE group_id = %s", (group_id,))
        c.execute(f"DELETE FROM {t.autoscale_group_members} WHERE group_id = %s", (group_id,))

    @on(GROUP.MemberJoined, GROUP.MemberDraining)
    def member(self, e: Any, c: Cursor, t: Tables) -> None:
        key = (str(e.originator_id), str(e.vm_id))
        c.execute(
            f"DELETE FROM {t.autoscale_group_members} WHERE group_id = %s AND vm_id = %s", key
        )
        c.execute(
            f"INSERT INTO {t.autoscale_group_members} (group_id, vm_id, destroy_at_ms) "
            "VALUES (%s, %s, %s)",
            (*key, getattr(e, "destroy_at_ms", None)),
        )

    @on(GROUP.MemberLeft)
    def member_left(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.autoscale_group_members} WHERE group_id = %s AND vm_id = %s",
            (str(e.originator_id), str(e.vm_id)),
        )

    @on(DISKS.Read)
    def disk_read(self, e: Any, c: Cursor, t: Tables) -> None:
        vm_id = str(e.vm_id)
        for volume_id, counters in sorted(e.volumes.items()):
            c.execute(
                f"DELETE FROM {t.autoscale_disk_readings} WHERE vm_id = %s AND volume_id = %s "
                "AND read_at_ms < (SELECT max(read_at_ms) FROM "
                f"{t.autoscale_disk_readings} WHERE vm_id = %s AND volume_id = %s AND "
                "read_at_ms < %s)",
                (vm_id, volume_id, vm_id, volume_id, e.read_at_ms - READINGS_KEPT_MS),
            )
            c.execute(
                f"INSERT INTO {t.autoscale_disk_readings} (vm_id, volume_id, read_at_ms, epoch, "
                "io_read, io_write, bytes_read, bytes_write) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (vm_id, volume_id, e.read_at_ms, e.epoch, *counters),
            )


def _policy_conditions(c: Cursor, t: Tables, policy_id: str, condition_ids: Any) -> None:
    c.execute(f"DELETE FROM {t.autoscale_policy_conditions} WHERE policy_id = %s", (policy_id,))
    for seq, condition_id in enumerate(condition_ids):
        c.execute(
            f"INSERT INTO {t.autoscale_policy_conditions} (policy_id, condition_id, seq) "
            "VALUES (%s, %s, %s)",
            (policy_id, str(condition_id), seq),
        )


def _group_policies(c: Cursor, t: Tables, group_id: str, up: Any, down: Any) -> None:
    c.execute(f"DELETE FROM {t.autoscale_group_policies} WHERE group_id = %s", (group_id,))
    listed = [(p, "scaleup") for p in up] + [(p, "scaledown") for p in down]
    for seq, (policy_id, action) in enumerate(listed):
        c.execute(
            f"INSERT INTO {t.autoscale_group_policies} (group_id, policy_id, action, seq) "
            "VALUES (%s, %s, %s, %s)",
            (group_id, str(policy_id), action, seq),
        )


# Queries ------------------------------------------------------------------------------------


def conditions_of(c: Cursor, policy_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each policy's conditions (with their counters), in the order the policy lists them."""
    found: dict[str, list[dict[str, Any]]] = {policy_id: [] for policy_id in policy_ids}
    if not policy_ids:
        return found
    marks = ", ".join(["%s"] * len(policy_ids))
    rows = c.execute(
        "SELECT pc.policy_id, k.*, n.name AS counter_name, n.source AS counter_source, "
        "n.value AS counter_value FROM autoscale_policy_conditions AS pc "
        "JOIN autoscale_conditions AS k ON k.id = pc.condition_id "
        "JOIN autoscale_counters AS n ON n.id = k.counter_id "
        f"WHERE pc.policy_id IN ({marks}) ORDER BY pc.policy_id, pc.seq",
        policy_ids,
    ).fetchall()
    for row in rows:
        found[row["policy_id"]].append(dict(row))
    return found


def policies_of(c: Cursor, group_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each group's policies, scale-up ones first, with their action."""
    found: dict[str, list[dict[str, Any]]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return found
    marks = ", ".join(["%s"] * len(group_ids))
    rows = c.execute(
        "SELECT gp.group_id, p.* FROM autoscale_group_policies AS gp "
        "JOIN autoscale_policies AS p ON p.id = gp.policy_id "
        f"WHERE gp.group_id IN ({marks}) ORDER BY gp.group_id, gp.seq",
        group_ids,
    ).fetchall()
    for row in rows:
        found[row["group_id"]].append(dict(row))
    return found


def live_groups(c: Cursor) -> list[dict[str, Any]]:
    """Groups the scaler looks after: enabled ones, and those being deleted."""
    rows = c.execute(
        "SELECT * FROM autoscale_vm_groups WHERE removed = 0 ORDER BY created, id"
    ).fetchall()
    return [dict(row) for row in rows]


def readings_of(c: Cursor, vm_ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each VM's disk readings, by volume, oldest first."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {vm_id: {} for vm_id in vm_ids}
    if not vm_ids:
        return found
    marks = ", ".join(["%s"] * len(vm_ids))
    rows = c.execute(
        f"SELECT * FROM autoscale_disk_readings WHERE vm_id IN ({marks}) "
        "ORDER BY vm_id, volume_id, read_at_ms",
        vm_ids,
    ).fetchall()
    for row in rows:
        found[row["vm_id"]].setdefault(row["volume_id"], []).append(dict(row))
    return found


READ_MODELS = (AutoScaleProjection,)
