"""Connected drivers, one per host id, and what each WorkRequest action does with them.

Everything here is synchronous and runs in worker threads. A host's session runs one action at
a time (its lock is a thread lock, so a cancelled handler cannot let a second action in while its
thread still runs) and keeps the credentials it was opened with, in memory only, so that the
heartbeat can reconnect a host whose connection dropped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import (
    AuthenticationError,
    Credentials,
    Hypervisor,
    Unreachable,
    secondary,
)
from adapters.fetch import FetchPolicy
from adapters.handlers import HANDLERS
from adapters.requests import BadRequest, Unsupported, param
from stratus.actions import ACTIONS

log = logging.getLogger("adapters.worker")

DriverFactory = Callable[[], Hypervisor]


class HostSession:
    """One host's driver, the credentials it was connected with, and its one-at-a-time lock."""

    def __init__(self, host_id: str, factory: DriverFactory) -> None:
        self.host_id = host_id
        self.lock = threading.Lock()
        self._factory = factory
        self.driver: Hypervisor | None = None
        self.credentials: Credentials | None = None

    def connect(self, credentials: Credentials) -> dict[str, Any]:
        """A fresh connection (the caller holds the lock); the old one is closed after."""
        driver = self._factory()
        try:
            inventory = driver.connect(credentials)
        except BaseException:
            with contextlib.suppress(Exception):
                driver.close()
            raise
        self.drop()
        self.driver, self.credentials = driver, credentials
        return asdict(inventory)

    def driver_for(self, credentials: Credentials) -> tuple[Hypervisor, bool]:
        """The connected driver, connecting first if needed; True when it was already open."""
        if self.driver is not None and self.credentials == credentials:
            return self.driver, True
        self.connect(credentials)
        assert self.driver is not None
        return self.driver, False

    def drop(self) -> None:
        driver, self.driver = self.driver, None
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.close()

    def forget(self) -> None:
        """The host left this cloud: close its driver and stop pinging it."""
        self.drop()
        self.credentials = None

    @property
    def forgotten(self) -> bool:
        return self.driver is None and self.credentials is None

    def alive(self) -> bool:
        """For the heartbeat: ping, reconnecting once if needed; a busy host counts as alive."""
        if not self.lock.acquire(blocking=False):
            return True
        try:
            if self.driver is not None and self.driver.ping():
                return True
            self.drop()
            if self.credentials is None:
                return False
            self.connect(self.credentials)
            return True
        except AuthenticationError:
            self.credentials = None  # stale: only a new request brings valid ones
            return False
        except Exception as exc:  # any failure of a ping means "not alive"
            log.debug("host %s does not answer: %r", self.host_id, exc)
            return False
        finally:
            self.lock.release()


def perform(session: HostSession, action: str, params: dict[str, Any], creds: Credentials) -> dict:
    """Run one action on the session's host and return the result data."""
    with session.lock:
        if action == "connect_host":
            return session.connect(creds)
        if action == "ping_host":
            return _ping(session, creds)
        if action == "disconnect_host":
            session.forget()
            return {"disconnected": True}
        run = HANDLERS.get(action)
        if run is None:
            raise BadRequest(f"unknown action {action!r}")
        driver, reused = session.driver_for(creds)
        refuse_lacking(driver, action)
        try:
            return run(driver, params)
        except Unreachable:
            if not reused:
                raise
        # A connection opened earlier may have died while the host lives: one fresh try.
        session.drop()
        driver, _ = session.driver_for(creds)
        return run(driver, params)


def _ping(session: HostSession, creds: Credentials) -> dict[str, Any]:
    try:
        driver, _ = session.driver_for(creds)
        if driver.ping():
            return {"alive": True}
        session.drop()
        session.driver_for(creds)
        return {"alive": True}
    except Unreachable as exc:
        # "It does not answer" is the answer to a ping, not a failure of the ping.
        return {"alive": False, "reason": str(exc)}


# Actions bound to no host: a fresh driver does them, without host credentials.
UNBOUND_ACTIONS = frozenset(a.name for a in ACTIONS.values() if not a.host_bound)


def refuse_lacking(driver: Hypervisor, action: str) -> None:
    """Refuse, before anything is done, an action whose capability the driver does not have."""
    needed = ACTIONS[action].needs
    if needed not in driver.capabilities:
        raise Unsupported(f"{action} is not supported by the {driver.kind} adapter")


def perform_unbound(
    factory: DriverFactory,
    kind: str,
    action: str,
    params: dict[str, Any],
    credentials: Credentials | None = None,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Download a template (or an uploaded volume's image) into a zone's image store with a
    driver that has the capability, under the fetch limits the request carries, and remove
    a deleted image's bytes (`secrets`: the image store's, opened from the request's seal);
    or claim or release a vCenter datacenter with the vCenter's `credentials`."""
    driver = factory()
    try:
        if action in DATACENTER_ACTIONS:
            return _datacenter(driver, kind, action, params, credentials)
        # An uploaded volume's image is fetched into the zone's store as a template's is.
        download = getattr(driver, "download_template", None)
        known = ("download_template", "download_volume", "delete_image")
        if action not in known or download is None:
            raise Unsupported(f"{action} is not supported yet by the {kind} adapter")
        if action == "delete_image":
            return secondary.remove_image(params, secrets or {})
        policy = FetchPolicy.from_params(params)
        if params.get("store"):
            return _into_image_store(download, params, secrets or {}, policy)
        return dict(_download(download, params, policy))
    finally:
        with contextlib.suppress(Exception):
            driver.close()


def _download(download: Callable[..., Any], params: dict[str, Any], policy: FetchPolicy) -> Any:
    return download(
        url=str(param(params, "url")),
        image_format=str(param(params, "format")),
        checksum=str(params.get("checksum") or ""),
        zone_id=str(param(params, "zone_id")),
        policy=policy,
    )


def _into_image_store(
    download: Callable[..., Any],
    params: dict[str, Any],
    secrets: dict[str, Any],
    policy: FetchPolicy,
) -> dict[str, Any]:
    """The secondary storage worker writes the image to the zone's image store; the driver
    then takes its own copy for its hosts, as before image stores. If it cannot, the stored
    bytes are removed again: the copy fails whole."""
    stored = secondary.store_image(params, secrets, policy)
    try:
        _download(download, params, policy)
    except BaseException:
        removal = dict(params, path=stored["path"])
        with contextlib.suppress(Exception):
            secondary.remove_image(removal, secrets)
        raise
    return stored


DATACENTER_ACTIONS = frozenset({"claim_datacenter", "release_datacenter", "discover_cluster"})


def _datacenter(
    driver: Hypervisor,
    kind: str,
    action: str,
    params: dict[str, Any],
    credentials: Credentials | None,
) -> dict[str, Any]:
    run = getattr(driver, action, None)
    if run is None:
        raise Unsupported(f"{action} is not supported by the {kind} adapter")
    if credentials is None:
        raise BadRequest("the request carries no credentials")
    refuse_lacking(driver, action)
    return dict(run(credentials, str(param(params, "name"))))
