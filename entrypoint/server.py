"""`stratus serve`: one process playing every role (embedded) or one role (distributed).

Roles: `api` (HTTP on /client/api), `projections` (read models), `relay` (outbox to the bus),
`events` (the event feed for outside consumers: NATS stream and webhooks, entrypoint/events.py).
`all` plays them all in one process, which is the embedded default on SQLite and the in-process
bus. Start-up does, in order: migrate, bootstrap on first start, catch the read models up, fail
management jobs that a previous process left unfinished, then serve.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
import socket
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import uvicorn
from eventsourcing.persistence import Notification

from adapters.fetch import FetchPolicy, stream
from api.app import api_services, create_app
from api.dispatch import Services
from api.health import Health
from billing.billing import BillingRun, store_alert
from commands.autoscale import seed_counters
from commands.configuration import seed_cloud_identifier
from commands.hypervisor_capabilities import seed_hypervisor_capabilities
from commands.identity import Bootstrap, bootstrap
from commands.jobs import fail_interrupted
from commands.network_offerings import seed_network_offerings
from commands.offerings import seed_offerings
from commands.vpc_offerings import seed_vpc_offerings
from domain.template import FetchLimits
from entrypoint.account_cleanup import make_account_cleanup
from entrypoint.autoscaler import make_scaler
from entrypoint.expunger import make_expunger
from entrypoint.installation import open_runtime
from entrypoint.operations import serve_operations, uvicorn_logging
from entrypoint.snapshot_scheduler import make_scheduler
from entrypoint.statistics import make_collector
from entrypoint.sweeper import make_sweeper
from projections.jobs import pending_job_ids
from stratus.bus import BusError
from stratus.bus.factory import make_bus
from stratus.datadir import hold, private_directory
from stratus.outbox import OutboxRelay
from stratus.redelivery import redeliver
from stratus.results import HeartbeatMonitor, ResultConsumer
from stratus.runtime import Runtime
from stratus.settings import ConfigurationError, Settings, Unavailable, make_bus_options
from stratus.store.audit import acting, set_process_name
from stratus.wakeup import CommitListener

log = logging.getLogger(__name__)


def serve(settings: Settings, *, host: str, port: int, role: str) -> int:
    needs = {"all": (), "events": ("STRATUS_DATABASE_URL",)}.get(
        role, ("STRATUS_DATABASE_URL", "STRATUS_NATS_URL")
    )
    if (settings.embedded and needs) or (settings.nats_url is None and len(needs) == 2):
        raise ConfigurationError(
            f"serve --role {role} needs {' and '.join(needs)} "
            "(on the embedded store one process plays every role: serve --role all)"
        )
    set_process_name(f"stratus-{role}")  # once it is sure to serve: the audit log names it
    held = hold(settings.data_dir) if settings.embedded else None  # one server per store
    try:
        runtime = open_runtime(settings)
    except BaseException:
        if held is not None:
            os.close(held)
        raise
    try:
        api = _listen(host, port) if role in ("all", "api") else None
        health_port = settings.health_port
        operations = _listen(host, health_port) if health_port is not None else None
        if api is not None:
            bound = api.getsockname()[1]  # the port the system chose when asked for port 0
            prepare(runtime, public_url=f"http://{_url_host(host)}:{bound}/client/api")
        _tune_collector()
        return asyncio.run(_run(runtime, api, role, operations))
    finally:
        runtime.close()
        if held is not None:
            os.close(held)


def _tune_collector() -> None:
    """Keep the cycle collector's full passes off the request path.

    A serving process holds hundreds of thousands of long-lived objects (modules, and in the
    projections role the usage ledger: a few per VM). Every full collection walks all of them:
    with 100,000 VMs that stalled a request for 70-100 ms every few dozen requests. What exists
    after start-up is frozen (never walked again), and the young generation is made large, so
    the short-lived objects of a request die before a collection ever promotes them
    (`bench/compute.py`, p99 of listVirtualMachines: 110 ms before, 25-38 ms in three runs
    after). Objects are still freed by reference counting as usual; only cycles wait longer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def fetch_image(url: str, limits: FetchLimits) -> Iterator[bytes]:
    """An image's bytes from its URL, under the same rules as an adapter's download: what
    extract links serve (`api.extract_links`)."""
    policy = FetchPolicy.from_params(
        {"allowed_internal_sites": limits.allowed_internal_sites, "max_size_gb": limits.max_size_gb}
    )
    return stream(url, policy)


def prepare(runtime: Runtime, *, public_url: str) -> None:
    """First-start bootstrap, read models caught up, unfinished management jobs failed."""
    private_directory(runtime.settings.data_dir)  # tightened at every start, whatever made it
    admin_file = runtime.settings.data_dir / "admin.json"
    password = secrets.token_urlsafe(18)
    with acting(command="bootstrap"):
        result = bootstrap(runtime.store, Bootstrap(admin_password=password))
    with acting(command="seed-offerings"):
        seed_offerings(runtime.store)  # idempotent: defaults that exist (or were deleted) stay
        seed_network_offerings(runtime.store)
        seed_cloud_identifier(runtime.store)
        seed_hypervisor_capabilities(runtime.store)
        seed_vpc_offerings(runtime.store)
        seed_counters(runtime.store)
    runtime.runner.catch_up()
    if result.created:
        _write_admin_file(runtime, admin_file, public_url, result.admin_user_id, password)
    with runtime.db.read() as cursor:
        pending = [UUID(i) for i in pending_job_ids(cursor)]
    with acting(command="recover-jobs"):
        failed = fail_interrupted(runtime.store, pending)
    if failed:
        log.info("failed %d job(s) interrupted by the previous shutdown", failed)
        runtime.runner.catch_up()


def _write_admin_file(
    runtime: Runtime, path: Path, url: str, user_id: UUID | None, password: str
) -> None:
    """The admin's credentials, readable by the operator only; the log names the file only."""
    from commands.identity import root_domain_id

    with runtime.db.read() as cursor:
        row = cursor.execute("SELECT * FROM users WHERE id = %s", (str(user_id),)).fetchone()
    assert row is not None and root_domain_id(runtime.store) is not None
    body = {
        "apikey": row["api_key"],
        "secretkey": runtime.store.box.open(row["sealed_secret_key"]),
        "username": "admin",
        "password": password,
        "url": url,
    }
    private_directory(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    os.chmod(path, 0o600)
    log.info("first start: the admin's credentials are in %s", path)


async def _run(
    runtime: Runtime, api: socket.socket | None, role: str, operations: socket.socket | None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task[None]] = []
    bus = None
    listeners = _listeners(runtime, api) if api is not None else []
    billing = None
    if role in ("all", "projections"):
        runtime.runner.start()
        billing = _start_billing(runtime)
    commit_listener = _commit_listener(runtime)
    if role in ("all", "relay"):
        bus = make_bus(runtime.settings.nats_url, **make_bus_options(runtime.settings))
        try:
            await bus.start()
        except BusError as error:
            raise Unavailable(str(error)) from None
        tasks += await _adapters_side(runtime, bus, stop)
    if role in ("all", "events"):
        from entrypoint.events import run_feed, start_feed

        feed = await start_feed(runtime)
        tasks.append(asyncio.create_task(_supervised(run_feed(feed, stop), stop)))
    services = api_services(runtime, billing=billing, images=fetch_image) if listeners else None
    health = Health(runtime, role, bus)
    for listener, integration in listeners:
        http = _http(runtime, services, listener, stop, integration=integration, health=health)
        tasks.append(asyncio.create_task(_supervised(http, stop)))
    if operations is not None:
        tasks.append(
            asyncio.create_task(_supervised(serve_operations(health, operations, stop), stop))
        )
    await stop.wait()
    if billing is not None:
        billing.stop()
    if commit_listener is not None:
        commit_listener.stop()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    if bus is not None:
        await bus.close()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return 0


def _start_billing(runtime: Runtime) -> BillingRun:
    """Usage billing follows the log and closes periods as they end (billing/billing.py)."""
    billing = BillingRun(runtime.db, alert=store_alert(runtime.store))
    billing.start()
    return billing


def _commit_listener(runtime: Runtime) -> CommitListener | None:
    """On PostgreSQL, commits of other processes wake this one's runner and relay at once."""
    if runtime.settings.postgres is None:
        return None

    def wake() -> None:
        for listener in list(runtime.store.commit_listeners):
            listener(None)

    channel = f"{runtime.store.name.lower()}_events"
    own = getattr(runtime.store.recorder, "writer_pids", ())
    listener = CommitListener(runtime.settings.postgres, channel, wake, own)
    listener.start()
    return listener


async def _adapters_side(runtime: Runtime, bus: Any, stop: asyncio.Event) -> list[Any]:
    """The relay, the result consumer, the heartbeat monitor, the stuck-job sweeper, the
    snapshot scheduler, the expunger and the account cleanup; in the embedded mode also the
    adapter workers, on the in-process bus."""
    from commands import hosts
    from commands.outbox import routes
    from commands.results import result_handlers
    from projections.infrastructure import watched_hosts

    settings = runtime.settings
    relay = OutboxRelay(
        runtime.source,
        runtime.db,
        bus,
        routes(runtime.store.box, settings.bus_prefix),
        telemetry=runtime.telemetry,
    )
    results = ResultConsumer(
        runtime.store, bus, result_handlers(), settings.bus_prefix, telemetry=runtime.telemetry
    )
    await results.start()
    if settings.nats_url is None:  # the in-process bus lost what was in flight at a crash
        await redeliver(bus, relay.routes, await asyncio.to_thread(_in_flight, runtime))

    def watched() -> list[tuple[str, str]]:
        with runtime.db.read() as cursor:
            return watched_hosts(cursor)

    monitor = HeartbeatMonitor(
        runtime.store,
        bus,
        watched,
        hosts,
        disconnect_after=settings.heartbeat_timeout,
        down_after=settings.host_down_timeout,
        wake=runtime.runner.wake,
        prefix=settings.bus_prefix,
    )
    await monitor.start()
    loop = asyncio.get_running_loop()

    def wake_relay(notifications: Sequence[Notification] | None) -> None:
        if relay.committed(notifications):  # most commits ask for no work: it sleeps on
            loop.call_soon_threadsafe(relay.wakeup.set)

    runtime.store.commit_listeners.append(wake_relay)
    parts = [relay.run(stop), monitor.run(stop), make_sweeper(runtime, monitor).run(stop)]
    parts.append(_router_monitor(runtime, bus).run(stop))
    parts.append(_tunnel_monitor(runtime, bus).run(stop))
    parts.append(make_scheduler(runtime).run(stop))
    parts.append(make_expunger(runtime).run(stop))
    parts.append(make_account_cleanup(runtime).run(stop))
    parts.append(make_scaler(runtime).run(stop))
    parts.append(make_collector(runtime, bus).run(stop))
    if settings.nats_url is None:
        parts.append(_embedded_workers(runtime, bus, stop))
    return [asyncio.create_task(_supervised(part, stop)) for part in parts]


def _in_flight(runtime: Runtime) -> list[Any]:
    """The requests pending hypervisor jobs and template downloads wait on (for redelivery)."""
    from commands.outbox import routes
    from commands.stuck_jobs import requests_in_flight
    from projections.templates import downloads_in_flight

    with runtime.db.read() as cursor:
        pending = [UUID(i) for i in pending_job_ids(cursor)]
        downloads = downloads_in_flight(cursor, datetime.max.replace(tzinfo=UTC))
    sent = routes(runtime.store.box, runtime.settings.bus_prefix)
    return requests_in_flight(runtime.store, sent, pending, downloads)


def _router_monitor(runtime: Runtime, bus: Any) -> Any:
    """Router service checks, every `router.alerts.check.interval` seconds (read each time)."""
    from commands.router_checks import CheckTarget, RouterMonitor
    from domain.configuration import DEFINITIONS
    from projections.configuration import global_value
    from projections.routers import abandoned as abandoned_requests
    from projections.routers import check_targets

    def targets() -> list[CheckTarget]:
        with runtime.db.read() as cursor:
            rows = check_targets(cursor)
        return [
            CheckTarget(r["id"], r["instance_name"], r["host_id"], r["services"], r["restart"])
            for r in rows
        ]

    def interval() -> float:
        name = "router.alerts.check.interval"
        with runtime.db.read() as cursor:
            return float(global_value(cursor, name, DEFINITIONS[name].default))

    def abandoned() -> list[str]:
        with runtime.db.read() as cursor:
            return abandoned_requests(cursor)

    return RouterMonitor(
        runtime.store, bus, targets, interval, runtime.settings.bus_prefix, abandoned
    )


def _tunnel_monitor(runtime: Runtime, bus: Any) -> Any:
    """Site-to-site VPN tunnel checks of VPC routers, every `router.check.interval` seconds
    (read each time; 0 turns them off)."""
    from commands.router_checks import RouterMonitor
    from commands.site_to_site_vpn import TunnelTarget, tunnel_check_request
    from domain.configuration import DEFINITIONS
    from projections.configuration import global_value
    from projections.site_to_site_vpn import tunnel_check_targets

    def targets() -> list[TunnelTarget]:
        with runtime.db.read() as cursor:
            rows = tunnel_check_targets(cursor)
        return [
            TunnelTarget(r["id"], r["instance_name"], r["host_id"], tuple(r["peers"])) for r in rows
        ]

    def interval() -> float:
        name = "router.check.interval"
        with runtime.db.read() as cursor:
            return float(global_value(cursor, name, DEFINITIONS[name].default))

    return RouterMonitor(
        runtime.store,
        bus,
        targets,
        interval,
        runtime.settings.bus_prefix,
        build=tunnel_check_request,
    )


async def _supervised(part: Any, stop: asyncio.Event) -> None:
    """A part of the server that dies takes the process down loudly, not silently."""
    try:
        await part
    except ConfigurationError:
        stop.set()
        raise
    except Exception:
        log.exception("a server task failed; stopping")
        stop.set()
        raise


async def _embedded_workers(runtime: Runtime, bus: Any, stop: asyncio.Event) -> None:
    """Every hypervisor kind whose driver loads, served in this process."""
    from adapters.cli import DRIVERS, driver_factory
    from adapters.worker import Worker

    workers = []
    for kind in DRIVERS:
        try:
            factory = driver_factory(kind)
        except ConfigurationError as error:
            log.info("embedded mode: no %s adapter (%s)", kind, error)
            continue
        worker = Worker(
            bus,
            kind,
            factory,
            runtime.store.box,
            worker_name=f"embedded-{kind}",
            heartbeat_interval=runtime.settings.heartbeat_interval,
        )
        await worker.start()
        workers.append(worker)
    await stop.wait()
    for worker in workers:
        await worker.stop(drain_timeout=5)


def _integration_port(runtime: Runtime) -> int:
    """The integration API port as configured (0: off, the default); read at start-up."""
    from domain.configuration import DEFINITIONS
    from projections.configuration import global_value

    name = "integration.api.port"
    with runtime.db.read() as cursor:
        return int(global_value(cursor, name, DEFINITIONS[name].default))


def _listeners(runtime: Runtime, api: socket.socket) -> list[tuple[socket.socket, bool]]:
    """The API's socket, bound first thing, and the integration port when it is configured."""
    listeners = [(api, False)]
    integration_port = _integration_port(runtime)
    if integration_port:
        # Unauthenticated: it answers as the system administrator, so loopback only.
        listeners.append((_listen("127.0.0.1", integration_port), True))
    return listeners


async def _http(
    runtime: Runtime,
    services: Services | None,
    listener: socket.socket,
    stop: asyncio.Event,
    *,
    integration: bool = False,
    health: Health | None = None,
) -> None:
    host, bound = listener.getsockname()[:2]
    if integration:
        log.info("integration API (unauthenticated) listening on %s:%d", host, bound)
    else:
        log.info("API listening on http://%s:%d/client/api", host, bound)
        log.info("console at http://%s:%d/client/", _url_host(host), bound)
    config = uvicorn.Config(
        create_app(
            runtime, services, integration=integration, health=None if integration else health
        ),
        host=host,
        port=bound,
        lifespan="off",
        access_log=False,
        **uvicorn_logging(runtime.settings.log_format),
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stop.set()
    await serving


def _listen(host: str, port: int) -> socket.socket:
    """Bind here, so a taken port is one clear line instead of a web server's traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Answers go out as a header write and a body write; without this the body waits for the
    # client's delayed ACK (40 ms) on every keep-alive request. Accepted sockets inherit it.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise Unavailable(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listener.listen(2048)
    listener.setblocking(False)
    return listener
