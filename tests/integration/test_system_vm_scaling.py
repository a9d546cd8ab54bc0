"""Scaling a running system VM below the API, on SQLite and PostgreSQL: the request leaves
through the outbox route, the simulator resizes the appliance, and the result settles the room
held on the host. The job and API request travel with the work to the adapter and back, so the
events of the result name them; a result from an adapter of an older version is still applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any
from uuid import UUID, uuid4

import orjson

from adapters.simulator.driver import SimulatorDriver
from adapters.worker import Worker
from commands import system_vms
from commands.jobs import SubmitJob, submit_job
from commands.outbox import routes
from commands.results import result_handlers
from domain.capacity import HostCapacity, capacity_id
from domain.compute import Compute
from domain.job import Job, JobStatus
from domain.system_vm import State
from stratus.bus.memory import InProcessBus
from stratus.messages import WorkResult, decode_request
from stratus.results import ResultConsumer
from stratus.store.audit import acting, meta_of
from tests.integration import test_routers
from tests.integration.test_routers import Cloud

cloud = test_routers.cloud  # the fixture: a store with read models and a simulated world


def _job(cloud: Cloud, router_id: UUID) -> UUID:
    outcome = submit_job(
        cloud.store,
        SubmitJob("scale", uuid4(), uuid4(), "DomainRouter", router_id, "ROUTER.SCALE", ""),
    )
    assert outcome.id is not None
    return outcome.id


def _bigger(compute: Compute) -> Compute:
    return replace(
        compute, offering_id=uuid4(), cpu_number=compute.cpu_number + 1, memory=compute.memory * 2
    )


def _held(cloud: Cloud, host_id: UUID) -> tuple[int, int]:
    capacity = cloud.store.get(HostCapacity, capacity_id(host_id))
    return capacity.cpu_used, capacity.memory_used


def test_a_running_router_is_resized_on_its_host_holding_only_the_growth(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    before = cloud.router(router_id).compute
    wanted, job_id = _bigger(before), _job(cloud, router_id)

    system_vms.scale_system_vm(cloud.store, router_id, wanted, job_id)
    assert _held(cloud, host.host_id) == (wanted.cpu_mhz, wanted.memory)  # old room + growth
    assert cloud.router(router_id).state == State.RUNNING
    cloud.pump()

    router = cloud.router(router_id)
    assert router.compute == wanted and router.pending is None
    guest = cloud.world.hosts["h1"].vms[router.instance_name]
    assert (guest.state, guest.spec.cpu_number, guest.spec.memory_mb) == (
        "Running",
        wanted.cpu_number,
        wanted.memory,
    )
    assert _held(cloud, host.host_id) == (wanted.cpu_mhz, wanted.memory)
    assert cloud.store.get(Job, job_id).status == JobStatus.SUCCEEDED
    row = cloud.rows("SELECT * FROM system_vms WHERE id = %s", str(router_id))[0]
    assert (row["service_offering_id"], row["cpu_number"], row["memory"]) == (
        str(wanted.offering_id),
        wanted.cpu_number,
        wanted.memory,
    )
    assert (row["state"], row["pending_job_id"]) == ("Running", None)

    # Back to the smaller offering: nothing more is held, and the room shrinks once confirmed.
    system_vms.scale_system_vm(cloud.store, router_id, before, None)
    assert _held(cloud, host.host_id) == (wanted.cpu_mhz, wanted.memory)
    cloud.pump()
    assert _held(cloud, host.host_id) == (before.cpu_mhz, before.memory)


def test_a_failed_resize_keeps_the_old_offering_and_gives_back_the_growth(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    before = cloud.router(router_id).compute
    job_id = _job(cloud, router_id)
    cloud.world.fail_always("scale_vm")

    system_vms.scale_system_vm(cloud.store, router_id, _bigger(before), job_id)
    cloud.pump()

    router = cloud.router(router_id)
    assert (router.compute, router.state, router.pending) == (before, State.RUNNING, None)
    guest = cloud.world.hosts["h1"].vms[router.instance_name]
    assert (guest.spec.cpu_number, guest.spec.memory_mb) == (before.cpu_number, before.memory)
    assert _held(cloud, host.host_id) == (before.cpu_mhz, before.memory)
    job = cloud.store.get(Job, job_id)
    assert job.status == JobStatus.FAILED and "Unable to scale router" in str(job.result)
    row = cloud.rows("SELECT * FROM system_vms WHERE id = %s", str(router_id))[0]
    assert (row["service_offering_id"], row["state"]) == (str(before.offering_id), "Running")


def test_a_stopped_router_takes_the_new_offering_at_once(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    system_vms.stop_system_vm(cloud.store, router_id, None, forced=True)
    cloud.pump()
    wanted, job_id = _bigger(cloud.router(router_id).compute), _job(cloud, router_id)
    system_vms.scale_system_vm(cloud.store, router_id, wanted, job_id)
    assert cloud.pump() == 0  # no host is asked
    assert cloud.router(router_id).compute == wanted
    assert cloud.store.get(Job, job_id).status == JobStatus.SUCCEEDED


# The job and the API request, there and back --------------------------------------------------


def _requested(cloud: Cloud) -> list[tuple[str, bytes]]:
    """Work requests recorded since the last look, as the outbox relay would publish them."""
    table, found = routes(cloud.store.box), []
    for notification in cloud.store.recorder.select_notifications(cloud.position + 1, 1000):
        cloud.position = notification.id
        if notification.topic in table:
            outgoing = table[notification.topic](cloud.store.mapper.to_domain_event(notification))
            found.append((outgoing.subject, outgoing.payload))
    return found


def _meta_of_last(cloud: Cloud, router_id: UUID, name: str) -> dict[str, Any]:
    for notification in reversed(cloud.store.recorder.select_notifications(1, 100_000)):
        if notification.originator_id == router_id and notification.topic.endswith(name):
            return meta_of(cloud.store.mapper.to_domain_event(notification))
    raise AssertionError(f"no {name} event")


def _through_the_bus(cloud: Cloud, scenario: Callable[[InProcessBus], Any]) -> None:
    """Run `scenario` with a real adapter worker and the server's result consumer on a bus."""

    async def main() -> None:
        bus = InProcessBus()
        await bus.start()
        factory = lambda: SimulatorDriver(cloud.world)  # noqa: E731
        worker = Worker(bus, "Simulator", factory, cloud.store.box, worker_name="w1")
        consumer = ResultConsumer(cloud.store, bus, result_handlers())
        await worker.start()
        await consumer.start()
        try:
            await scenario(bus)
        finally:
            await consumer.stop()
            await worker.stop(drain_timeout=5.0)
            await bus.close()

    asyncio.run(asyncio.wait_for(main(), 30))


async def _until(check: Callable[[], bool]) -> None:
    while not check():
        await asyncio.sleep(0.02)


def test_the_result_of_a_jobs_work_names_the_job_and_the_api_request(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    wanted, job_id = _bigger(cloud.router(router_id).compute), _job(cloud, router_id)
    with acting(command="scaleSystemVm", job_id=str(job_id), request_id="api-7"):
        system_vms.scale_system_vm(cloud.store, router_id, wanted, job_id)
    ((subject, payload),) = _requested(cloud)
    request = decode_request(payload)
    assert (request.job_id, request.origin_request_id) == (str(job_id), "api-7")

    async def scenario(bus: InProcessBus) -> None:
        await bus.publish(subject, payload, msg_id=request.request_id)
        await _until(lambda: cloud.router(router_id).pending is None)

    _through_the_bus(cloud, scenario)
    assert cloud.router(router_id).compute == wanted
    asked = _meta_of_last(cloud, router_id, "ScaleRequested")
    scaled = _meta_of_last(cloud, router_id, "Scaled")
    assert (scaled["job_id"], scaled["request_id"]) == (asked["job_id"], asked["request_id"])
    assert scaled["command"] == "result:scale_system_vm" and scaled["process"]


def test_a_result_without_the_job_from_an_older_adapter_is_still_applied(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    wanted = _bigger(cloud.router(router_id).compute)
    with acting(command="scaleSystemVm", job_id=str(uuid4()), request_id="api-8"):
        system_vms.scale_system_vm(cloud.store, router_id, wanted, None)
    ((_subject, payload),) = _requested(cloud)
    request = decode_request(payload)
    result = asdict(
        WorkResult(request.request_id, "simulator", request.action, request.target_id, True)
    )
    old = {k: v for k, v in result.items() if k not in ("job_id", "origin_request_id")}

    async def scenario(bus: InProcessBus) -> None:
        await bus.publish("stratus.results.simulator", orjson.dumps(old), msg_id="old-1")
        await _until(lambda: cloud.router(router_id).pending is None)

    _through_the_bus(cloud, scenario)
    assert cloud.router(router_id).compute == wanted
    scaled = _meta_of_last(cloud, router_id, "Scaled")
    assert scaled.get("job_id") is None and scaled["request_id"] == request.request_id
