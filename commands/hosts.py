"""Commands on hosts, and the handlers that turn adapter results and heartbeats into events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome, change
from domain.alert import host_alert
from domain.errors import InvalidParameter, NotFound
from domain.host import Host
from domain.infrastructure import Cluster
from domain.job import Job
from domain.values import Secret
from stratus.messages import WorkResult


@dataclass(frozen=True)
class AddHost:
    zone_id: UUID
    pod_id: UUID
    cluster_id: UUID
    hypervisor: str
    url: str
    username: str
    password: str = field(repr=False)
    name: str = ""
    allocation_state: str = "Enabled"
    host_tags: tuple[str, ...] = ()
    job_id: UUID | None = None
    inventory: dict[str, Any] | None = None  # a bare-metal host's, as the operator gives it


def host_name(url: str) -> str:
    """The name CloudStack gives a host: the address part of its URL."""
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0] or url


def add_host(store: Any, command: AddHost) -> Outcome:
    """Record the host in its cluster and ask its adapter to connect (bare metal: no adapter)."""

    def attempt() -> Outcome:
        cluster = store.get(Cluster, command.cluster_id, what="cluster")
        if cluster.removed or cluster.pod_id != command.pod_id:
            raise InvalidParameter(f"Cluster {command.cluster_id} is not in pod {command.pod_id}")
        if cluster.hypervisor.lower() != command.hypervisor.lower():
            raise InvalidParameter(
                f"Cluster {cluster.name} is a {cluster.hypervisor} cluster; cannot add a "
                f"{command.hypervisor} host to it"
            )
        host = Host(
            command.name or host_name(command.url),
            command.zone_id,
            command.pod_id,
            cluster.id,
            cluster.hypervisor,
            command.url,
            command.username,
            Secret(command.password),
            command.allocation_state,
            command.host_tags,
        )
        if host.managed:
            host.request_connect(uuid.uuid4().hex, command.job_id)
        elif command.inventory is not None:
            host.describe(command.inventory)
        cluster.attach(host.id)
        return Outcome(store.last_position(store.save(host, cluster)), host.id)

    return store.run(attempt)


def reconnect_host(store: Any, host_id: UUID, job_id: UUID | None) -> Outcome:
    return change(store, Host, host_id, lambda host: host.request_connect(uuid.uuid4().hex, job_id))


def on_connect_result(store: Any, result: WorkResult) -> Outcome:
    """The adapter's answer to a connect request: the host comes Up, or goes to Alert."""

    def attempt() -> Outcome:
        host = store.get(Host, UUID(result.target_id), what="host")
        if not host.is_current(result.request_id):
            return Outcome(0, host.id)  # a stale or repeated result changes nothing
        job = store.get(Job, host.job_id) if host.job_id else None
        saved: list[Any] = [host]
        if result.ok:
            host.connected(result.request_id, result.data)
            if job is not None and job.status == 0:
                job.succeed({"object": "host", "id": str(host.id)})
        else:
            reason = result.error or "the hypervisor did not answer"
            host.connection_failed(result.request_id, reason)
            saved.append(
                host_alert(
                    f"Unable to connect to host {host.name}: {reason}",
                    host.zone_id,
                    host.pod_id,
                    host.id,
                )
            )
            if job is not None and job.status == 0:
                job.fail("ResourceUnavailable", f"Unable to connect to host {host.name}: {reason}")
        if job is not None:
            saved.append(job)
        return Outcome(store.last_position(store.save(*saved)), host.id)

    return store.run(attempt)


def on_heartbeat_lost(store: Any, host_id: UUID, *, down: bool) -> Outcome:
    """Missed heartbeats: an Up host becomes Disconnected, then Down; each raises an alert."""

    def attempt() -> Outcome:
        host = store.get(Host, host_id, what="host")
        changed = host.mark_down() if down else host.lose_heartbeat()
        if not changed:
            return Outcome(0, host.id)
        if not down:
            # Any live adapter may take the host over: the first to connect brings it back.
            host.request_connect(uuid.uuid4().hex, None, probe=True)
        text = "is down" if down else "stopped sending heartbeats and is disconnected"
        alert = host_alert(f"Host {host.name} {text}", host.zone_id, host.pod_id, host.id)
        return Outcome(store.last_position(store.save(host, alert)), host.id)

    return store.run(attempt)


def on_heartbeat(store: Any, host_id: UUID) -> Outcome:
    """A heartbeat from a Disconnected or Down host brings it back Up."""
    return change(store, Host, host_id, Host.heartbeat_returned)


@dataclass(frozen=True)
class UpdateHost:
    host_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


def update_host(store: Any, command: UpdateHost) -> Outcome:
    return change(store, Host, command.host_id, lambda host: host.update(command.changes))


@dataclass(frozen=True)
class ChangeCredentials:
    host_ids: tuple[UUID, ...]
    username: str
    password: str = field(repr=False)


def change_credentials(store: Any, command: ChangeCredentials) -> Outcome:
    """The hosts' new login, for every request sent to them from now on (all in one commit)."""

    def attempt() -> Outcome:
        hosts = [store.get(Host, host_id, what="host") for host_id in command.host_ids]
        if not hosts:
            raise InvalidParameter("No host to update the password of")
        for host in hosts:
            host.change_credentials(command.username, Secret(command.password))
        return Outcome(store.last_position(store.save(*hosts)), hosts[0].id)

    return store.run(attempt)


def release_reservation(store: Any, host_id: UUID, machine_ids: tuple[UUID, ...]) -> Outcome:
    return change(store, Host, host_id, lambda host: host.release_reservation(machine_ids))


def prepare_for_maintenance(
    store: Any, host_id: UUID, machine_ids: tuple[UUID, ...] = ()
) -> Outcome:
    """PrepareForMaintenance waiting for `machine_ids` to move away (commands.migration asks
    for their moves); Maintenance at once when there are none."""
    return change(store, Host, host_id, lambda host: host.prepare_for_maintenance(machine_ids))


def machine_left(
    store: Any, host_id: UUID | None, machine_id: UUID, reason: str | None
) -> Host | None:
    """Tell the host a machine moved away (or could not: `reason`) if its maintenance waits
    for it; the host to save with the machine's answer, else None."""
    if host_id is None:
        return None
    try:
        host: Host = store.get(Host, host_id, what="host")
    except NotFound:
        return None
    return host if host.machine_left(machine_id, reason) else None


def cancel_maintenance(store: Any, host_id: UUID) -> Outcome:
    return change(store, Host, host_id, Host.cancel_maintenance)


def delete_host(store: Any, host_id: UUID, *, forced: bool, vm_count: int) -> Outcome:
    def attempt() -> Outcome:
        host = store.get(Host, host_id, what="host")
        cluster = store.get(Cluster, host.cluster_id)
        host.remove(forced, vm_count)
        cluster.detach(host.id)
        return Outcome(store.last_position(store.save(host, cluster)), host.id)

    return store.run(attempt)


RESULT_HANDLERS = {"connect_host": on_connect_result}
