"""Running an adapter worker as its own process (`stratus adapter <kind>`, `python -m adapters`).

This module owns the driver registry (kind → driver class, imported only when that kind runs,
so that a KVM worker never needs pyVmomi and the other way round) and the process lifecycle:
settings in, bus and key set up, worker until SIGINT or SIGTERM, clean stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence

from adapters import Hypervisor
from adapters.sessions import DriverFactory
from adapters.worker import Worker
from stratus.bus import BusError
from stratus.bus.factory import make_bus
from stratus.settings import ConfigurationError, Settings, Unavailable, make_bus_options
from stratus.store.secrets import box_for, load_or_create_key

log = logging.getLogger("adapters.cli")

# kind → (module, class); each class is constructed with no arguments.
DRIVERS: dict[str, tuple[str, str]] = {
    "kvm": ("adapters.kvm.driver", "KvmDriver"),
    "vmware": ("adapters.vmware.driver", "VmwareDriver"),
    "xenserver": ("adapters.xenserver.driver", "XenServerDriver"),
    "hyperv": ("adapters.hyperv.driver", "HypervDriver"),
    "simulator": ("adapters.simulator.driver", "SimulatorDriver"),
    "baremetal": ("adapters.baremetal.driver", "BaremetalDriver"),
    # Network devices, driven over the same bus: they stand where a host would.
    "netscaler": ("adapters.devices.netscaler", "NetscalerDriver"),
    "paloalto": ("adapters.devices.paloalto", "PaloAltoDriver"),
}


def driver_factory(kind: str) -> DriverFactory:
    """The driver class of `kind`; a ConfigurationError naming what is missing otherwise."""
    try:
        module_name, class_name = DRIVERS[kind]
    except KeyError:
        known = ", ".join(sorted(DRIVERS))
        raise ConfigurationError(f"unknown hypervisor kind {kind!r} (known: {known})") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = " (install the extra: pip install 'stratus[kvm]')" if kind == "kvm" else ""
        raise ConfigurationError(f"the {kind} adapter cannot load: {exc}{hint}") from None
    driver_class: type[Hypervisor] = getattr(module, class_name)
    return driver_class


def run_worker(kind: str, settings: Settings, *, worker_name: str | None = None) -> None:
    """Run one worker of `kind` until SIGINT or SIGTERM (blocking)."""
    asyncio.run(serve(kind, settings, worker_name=worker_name))


async def serve(
    kind: str,
    settings: Settings,
    *,
    worker_name: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one worker of `kind` until `stop` is set (or a signal arrives)."""
    factory = driver_factory(kind)
    if settings.nats_url is None:
        raise ConfigurationError(
            "STRATUS_NATS_URL is required to run an adapter as its own process "
            "(in the embedded mode the server runs the simulator itself)"
        )
    box = box_for(settings, _shared_key(settings))
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    bus = make_bus(settings.nats_url, **make_bus_options(settings))
    try:
        await bus.start()
    except BusError as error:
        raise Unavailable(str(error)) from None
    name = worker_name or f"{kind}-{socket.gethostname()}-{os.getpid()}"
    worker = Worker(
        bus,
        kind,
        factory,
        box,
        worker_name=name,
        heartbeat_interval=settings.heartbeat_interval,
    )
    try:
        await worker.start()
        await stop.wait()
    finally:
        await worker.stop()
        await bus.close()


def _shared_key(settings: Settings) -> bytes:
    # The adapter must open what the server sealed: a new key would open nothing.
    if not settings.secret_key and not settings.key_file.exists():
        raise ConfigurationError(
            "STRATUS_SECRET_KEY (or the server's key file in STRATUS_DATA) is required: "
            "adapters open credentials sealed with the server's key"
        )
    return load_or_create_key(settings)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Outside the main thread (or POSIX) the caller's `stop` is the only way out.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters", description=__doc__)
    parser.add_argument("kind", choices=sorted(DRIVERS))
    parser.add_argument("--name", help="worker name in heartbeats (default: kind-host-pid)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        run_worker(args.kind, Settings.from_env(), worker_name=args.name)
    except ConfigurationError as exc:
        print(f"stratus adapter: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
