"""The scaler (relay role): keeps each enabled autoscale VM group between its bounds, as 4.3's
NetScaler does for its load balancers, here for the virtual routers' (haproxy) ones.

Every group is weighed once per its `interval` seconds (at once when it was just made or
enabled): members that no longer live leave it; a group below `minmembers` grows at once to
it; otherwise its scale-up policies, then its scale-down ones, are weighed over the disk
readings of its members (domain/autoscale_evaluation.py), within the bounds and outside the
policies' quiet time. A scaling is recorded on the group before it is carried out, against the
version weighed, so two scalers never both act on one look. VMs come and go through the API's
own commands as the profile's autoscale user (api/cloudstack/autoscale_members.py); a member
scaled down leaves the rule at once and is destroyed after the profile's grace period.
The clock is injected (`now`), so tests drive it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.cloudstack.autoscale_members import Acting, add_member, destroy_member, drain_member
from api.dispatch import Services
from commands import autoscale as cmd
from domain.autoscale import AutoScaleVmGroup, GroupState
from domain.autoscale_evaluation import (
    MEASURED,
    Check,
    GroupView,
    PolicyView,
    Reading,
    decide,
    group_rate,
)
from domain.errors import DomainError
from projections.autoscale import conditions_of, live_groups, policies_of, readings_of
from stratus.runtime import Runtime

log = logging.getLogger(__name__)
TICK = 1.0  # seconds between two looks at which groups are due
GONE = ("Destroyed", "Expunging", "Expunged", "Error")


class Scaler:
    """One pass at a time over the groups; `pass_once` returns the groups it weighed."""

    def __init__(
        self,
        runtime: Runtime,
        services: Services,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick: float = TICK,
    ) -> None:
        self.runtime, self.services, self.now, self.tick = runtime, services, now, tick
        self._looked: dict[str, tuple[float, str]] = {}  # group -> (monotonic, state then)

    def _due(self, group: dict[str, Any]) -> bool:
        looked = self._looked.get(group["id"])
        if looked is None or looked[1] != group["state"]:
            return True
        return time.monotonic() - looked[0] >= int(group["interval_seconds"])

    def pass_once(self) -> list[str]:
        with self.runtime.db.read() as cursor:
            groups = [g for g in live_groups(cursor) if g["state"] != GroupState.REVOKE]
        weighed = []
        for group in groups:
            if self._due(group):
                self._looked[group["id"]] = (time.monotonic(), group["state"])
                try:
                    self.weigh(group)
                except DomainError as error:  # changed meanwhile: the next pass sees it
                    log.info("autoscale group %s not weighed: %s", group["id"], error.message)
                weighed.append(group["id"])
        return weighed

    def weigh(self, row: dict[str, Any]) -> None:
        group: AutoScaleVmGroup = self.runtime.store.get(
            AutoScaleVmGroup, UUID(row["id"]), what="AutoScale Vm Group"
        )
        profile = self._profile(row["profile_id"])
        acting = Acting(self.runtime, self.services, profile["autoscale_user_id"])
        now_ms = int(self.now().timestamp() * 1000)
        self._tidy(acting, group, now_ms)
        if group.state != GroupState.ENABLED:
            return
        group = self.runtime.store.get(AutoScaleVmGroup, group.id, what="AutoScale Vm Group")
        view = GroupView(
            group.state,
            len(group.active),
            group.bounds.minimum,
            group.bounds.maximum,
            dict(group.last_scaled),
        )
        decided = decide(
            view, self._policies(row["id"]), self._measure(group.active, now_ms), now_ms
        )
        if decided is None:
            return
        action, by_policy = decided
        if by_policy:
            cmd.record_scaled(self.runtime.store, group.id, action, now_ms, group.version)
        if action == "scaleup":
            for _ in range(max(view.minimum - view.active, 1)):
                add_member(acting, row, profile)
        else:
            for vm_id in self._leaving(group, view, by_policy):
                drain_member(acting, row, UUID(vm_id), now_ms + profile["destroy_grace"] * 1000)
            self._tidy(acting, group, now_ms)

    def _leaving(self, group: AutoScaleVmGroup, view: GroupView, by_policy: bool) -> list[str]:
        """The newest members first: one for a policy, those over the maximum otherwise."""
        count = 1 if by_policy else view.active - view.maximum
        return list(reversed(group.active))[:count]

    def _tidy(self, acting: Acting, group: AutoScaleVmGroup, now_ms: int) -> None:
        """Members whose VM is gone leave; drained ones whose grace period ended are destroyed."""
        fresh = self.runtime.store.get(AutoScaleVmGroup, group.id, what="AutoScale Vm Group")
        states = self._vm_states(list(fresh.members))
        for vm_id, destroy_at in fresh.members.items():
            if states.get(vm_id) in GONE:
                cmd.record_member(self.runtime.store, group.id, UUID(vm_id), -1)
            elif destroy_at is not None and destroy_at <= now_ms:
                destroy_member(acting, group.id, UUID(vm_id))

    def _vm_states(self, vm_ids: list[str]) -> dict[str, str]:
        """Each member's state as the read model shows it (`Expunged` once it is gone)."""
        if not vm_ids:
            return {}
        marks = ", ".join(["%s"] * len(vm_ids))
        with self.runtime.db.read() as cursor:
            rows = cursor.execute(
                f"SELECT id, state, removed FROM virtual_machines WHERE id IN ({marks})", vm_ids
            ).fetchall()
        # a VM the read model does not show yet is kept: it was just deployed
        return {row["id"]: "Expunged" if row["removed"] else row["state"] for row in rows}

    def _profile(self, profile_id: str) -> dict[str, Any]:
        with self.runtime.db.read() as cursor:
            row = cursor.execute(
                "SELECT * FROM autoscale_vm_profiles WHERE id = %s", (profile_id,)
            ).fetchone()
        return dict(row)

    def _policies(self, group_id: str) -> list[PolicyView]:
        with self.runtime.db.read() as cursor:
            policies = policies_of(cursor, [group_id])[group_id]
            conditions = conditions_of(cursor, [p["id"] for p in policies])
        return [
            PolicyView(
                p["action"],
                int(p["duration"]),
                int(p["quiet_time"]),
                tuple(
                    Check(c["counter_value"], c["operator"], float(c["threshold"]))
                    for c in conditions[p["id"]]
                ),
            )
            for p in policies
        ]

    def _measure(self, vm_ids: list[str], now_ms: int) -> Callable[[str, int], float | None]:
        with self.runtime.db.read() as cursor:
            found = readings_of(cursor, vm_ids)
        vms = [
            [
                [
                    Reading(
                        int(r["read_at_ms"]),
                        r["epoch"],
                        (r["io_read"], r["io_write"], r["bytes_read"], r["bytes_write"]),
                    )
                    for r in rows
                ]
                for rows in volumes.values()
            ]
            for volumes in found.values()
        ]

        def measure(counter: str, window_ms: int) -> float | None:
            if counter not in MEASURED:
                return None
            return group_rate(vms, MEASURED[counter], now_ms, window_ms)

        return measure

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.pass_once)
            except Exception:  # a process boundary: keep scaling
                log.exception("autoscale pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.tick)
            except TimeoutError:
                continue


def make_scaler(runtime: Runtime, now: Callable[[], datetime] | None = None) -> Scaler:
    """The scaler over the runtime, with the API's command tables to act through."""
    from api.app import api_services

    services = api_services(runtime)
    if now is None:
        return Scaler(runtime, services)
    return Scaler(runtime, services, now=now)
