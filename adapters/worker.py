"""The worker runtime shared by every hypervisor kind: requests in, actions in threads, results out.

A `Worker` joins the durable queue group ``adapter-<kind>`` on ``<prefix>.work.<kind>.>``. For
each `WorkRequest` it opens the sealed credentials, runs the action on the host's cached driver
in a thread, records the `WorkResult` and publishes it on ``<prefix>.results.<kind>`` with
msg_id ``<request_id>:result``; the handler returns (the bus acks) only after that.

Failures, decided once here:

- definitive (bad credentials, VM not found, the hypervisor refused, a malformed request):
  reported as ``ok=False``, recorded and acked; ``data["error_kind"]`` names the class;
- transient (`Unreachable`, or an unexpected exception from a driver): the handler raises, so
  the bus redelivers after its retry delay; the last delivery (``max_deliver``) reports
  ``ok=False`` instead, so the server always hears back.

A request id that was finished before is answered from the record (this worker's memory, and
on NATS a key-value bucket shared by all workers) and never acted on twice; one that is still
running in this worker is awaited, not started again. Passwords are never logged nor reported:
error texts are scrubbed of the request's password before they leave the worker.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from dataclasses import replace
from typing import Any

from adapters import (
    AuthenticationError,
    Credentials,
    HypervisorError,
    NotFoundOnHost,
    Unreachable,
)
from adapters.devices import DeviceRefused
from adapters.image_stores import StoreError
from adapters.ledger import Ledger, MemoryLedger, shared_ledger_for
from adapters.sessions import (
    UNBOUND_ACTIONS,
    BadRequest,
    DriverFactory,
    HostSession,
    Unsupported,
    perform,
    perform_unbound,
)
from stratus.bus import Bus, BusError, BusOptions, Definitive, Delivery, Subscription
from stratus.bus import subjects as bus_subjects
from stratus.messages import Heartbeat, WorkRequest, WorkResult, decode_request, encode
from stratus.messages import open_credentials as open_sealed
from stratus.settings import ConfigurationError
from stratus.store.secrets import SecretBox

log = logging.getLogger("adapters.worker")

# error_kind → how the error text starts: operators read these in job results.
_LABELS = {
    "authentication": "bad credentials",
    "not_found": "not found on the host",
    "bad_request": "bad request",
    "hypervisor": "the hypervisor refused",
    "device": "the network device refused",
    "unreachable": "host unreachable",
    "internal": "internal error",
    "unsupported": "not supported",
    "image_store": "the image store failed",
}


class _Retry(Exception):
    """A transient failure: the bus redelivers the request after its retry delay."""


class Worker:
    """One adapter worker of one hypervisor kind; start it, and stop it to leave the group."""

    def __init__(
        self,
        bus: Bus,
        hypervisor_kind: str,
        driver_factory: DriverFactory,
        box: SecretBox,
        *,
        worker_name: str,
        heartbeat_interval: float = 10.0,
        concurrency: int | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.kind = hypervisor_kind
        self.name = worker_name
        self.heartbeat_interval = heartbeat_interval
        self._bus, self._factory, self._box = bus, driver_factory, box
        self._concurrency = concurrency
        options = getattr(bus, "options", None) or BusOptions()
        self._prefix, self._max_deliver = options.prefix, options.max_deliver
        self._local = MemoryLedger()
        self._shared = ledger if ledger is not None else shared_ledger_for(bus)
        self._sessions: dict[str, HostSession] = {}
        self._inflight: dict[str, asyncio.Task[WorkResult]] = {}
        self._subscription: Subscription | None = None
        self._beating: asyncio.Task[None] | None = None

    @property
    def token(self) -> str:
        return self.kind.lower()

    @property
    def results_subject(self) -> str:
        return bus_subjects.results(self.token, self._prefix)

    @property
    def heartbeats_subject(self) -> str:
        return bus_subjects.heartbeats(self.token, self._prefix)

    async def start(self) -> None:
        """Join the queue group and start heartbeats; the bus must be started already."""
        if self._shared is not None:
            await self._shared.start()
        self._subscription = await self._bus.subscribe(
            f"{self._prefix}.work.{self.token}.>",
            f"adapter-{self.token}",
            self._on_delivery,
            concurrency=self._concurrency,
        )
        self._beating = asyncio.create_task(self._heartbeats())
        log.info("%s worker %s started", self.kind, self.name)

    async def stop(self, drain_timeout: float = 30.0) -> None:
        """Leave the group (unfinished messages go back to it), then close every driver."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.stop()
        beating, self._beating = self._beating, None
        if beating is not None:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
        # Actions already running in threads cannot be interrupted: let them finish and be
        # recorded, so that a peer given the same request finds the record.
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=drain_timeout)
        await asyncio.to_thread(self._close_sessions)
        if self._shared is not None:
            await self._shared.close()
        log.info("%s worker %s stopped", self.kind, self.name)

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # Requests ----------------------------------------------------------------------------

    async def _on_delivery(self, delivery: Delivery) -> None:
        request = _decode(delivery)
        result = await self._recorded(request.request_id)
        if result is not None:
            log.info(
                "request %s was finished before: answering from the record", request.request_id
            )
            await self._publish(result)
            return
        result = await self._settle_once(request, delivery.attempt)
        # The shared record and the answer travel together; the delivery is acknowledged
        # only after both (a redelivery then finds the record, or acts again, idempotently).
        await asyncio.gather(self._share(result), self._publish(result))

    async def _publish(self, result: WorkResult) -> None:
        await self._bus.publish(
            self.results_subject, encode(result), msg_id=f"{result.request_id}:result"
        )

    async def _recorded(self, request_id: str) -> WorkResult | None:
        result = await self._local.get(request_id)
        if result is None and self._shared is not None:
            result = await self._shared.get(request_id)
        return result

    async def _settle_once(self, request: WorkRequest, attempt: int) -> WorkResult:
        """Run the request, or join its run if this worker is already running it."""
        task = self._inflight.get(request.request_id)
        if task is None:
            task = asyncio.create_task(self._settle(request, attempt))
            self._inflight[request.request_id] = task
            task.add_done_callback(functools.partial(self._forget, request.request_id))
        # Shielded: a cancelled handler leaves the action to finish and be recorded.
        return await asyncio.shield(task)

    def _forget(self, request_id: str, task: asyncio.Task[WorkResult]) -> None:
        self._inflight.pop(request_id, None)
        if not task.cancelled():
            task.exception()  # retrieved here: its handler may be gone

    async def _settle(self, request: WorkRequest, attempt: int) -> WorkResult:
        log.info(
            "%s for host %s (request %s, attempt %d)",
            request.action,
            request.params.get("host_id"),
            request.request_id,
            attempt,
        )
        password = None
        try:
            if request.action in UNBOUND_ACTIONS:
                credentials, secrets = None, None
                if request.sealed_credentials:  # a vCenter's, or an image store's
                    credentials, secrets = self._credentials(request)
                    password = credentials.password
                data = await asyncio.to_thread(
                    perform_unbound,
                    self._factory,
                    self.kind,
                    request.action,
                    request.params,
                    credentials,
                    secrets,
                )
            else:
                credentials, secrets = self._credentials(request)
                password = credentials.password
                session = self._session(request)
                params = dict(request.params, **({"secrets": secrets} if secrets else {}))
                data = await asyncio.to_thread(
                    perform, session, request.action, params, credentials
                )
            result = _result(request, ok=True, data=data)
        except Unreachable as exc:
            result = self._transient(request, attempt, "unreachable", _scrub(exc, password))
        except HypervisorError as exc:
            result = _failure(request, _error_kind(exc), _scrub(exc, password))
        except Exception as exc:  # the worker-loop boundary: a driver bug must not stop us
            trace = "".join(traceback.format_exception(exc))
            log.error("%s failed unexpectedly: %s", request.request_id, _scrub(trace, password))
            detail = f"the {self.kind} adapter failed ({type(exc).__name__})"
            result = self._transient(request, attempt, "internal", detail)
        await self._record(result)
        return result

    def _transient(self, request: WorkRequest, attempt: int, kind: str, text: str) -> WorkResult:
        if attempt < self._max_deliver:
            log.warning("%s: %s; will retry", request.request_id, text)
            raise _Retry(f"{request.action} of request {request.request_id}: {text}") from None
        return _failure(request, kind, f"{text} (gave up after {attempt} attempts)")

    async def _record(self, result: WorkResult) -> None:
        if result.ok:
            log.info("request %s done", result.request_id)
        else:
            log.warning("request %s failed: %s", result.request_id, result.error)
        await self._local.put(result)

    async def _share(self, result: WorkResult) -> None:
        if self._shared is not None:
            await self._shared.put(result)

    def _credentials(self, request: WorkRequest) -> tuple[Credentials, dict[str, Any] | None]:
        """The host's credentials and the secrets sealed with them for the action itself."""
        if not request.sealed_credentials:
            raise BadRequest("the request carries no credentials")
        try:
            opened = open_sealed(self._box, request.sealed_credentials)
            credentials = Credentials(opened["url"], opened["username"], opened["password"])
            return credentials, opened.get("secrets")
        except (ValueError, TypeError, KeyError, ConfigurationError) as exc:
            # Never show what was opened; name the likely cause instead.
            raise BadRequest(
                "the credentials cannot be opened with this worker's key "
                f"(is STRATUS_SECRET_KEY the server's?): {type(exc).__name__}"
            ) from None

    def _session(self, request: WorkRequest) -> HostSession:
        host_id = request.params.get("host_id")
        if not host_id:
            raise BadRequest("parameter 'host_id' is missing")
        session = self._sessions.get(str(host_id))
        if session is None:
            session = self._sessions[str(host_id)] = HostSession(str(host_id), self._factory)
        return session

    def _close_sessions(self) -> None:
        for session in list(self._sessions.values()):
            if session.lock.acquire(timeout=1.0):
                try:
                    session.drop()
                finally:
                    session.lock.release()
            else:
                log.warning("host %s is still busy; its driver is left open", session.host_id)

    # Heartbeats --------------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            try:
                await self._beat()
            except BusError as exc:
                log.warning("heartbeat of %s not published: %s", self.name, exc)
            except Exception:  # the heartbeat loop's boundary: keep beating
                log.exception("heartbeat of %s failed", self.name)
            await asyncio.sleep(self.heartbeat_interval)

    async def _beat(self) -> None:
        sessions = [s for s in self._sessions.values() if not s.forgotten]
        # A ping that takes longer than a heartbeat period counts as "not alive".
        checks = [
            asyncio.wait_for(asyncio.to_thread(s.alive), self.heartbeat_interval) for s in sessions
        ]
        outcomes = await asyncio.gather(*checks, return_exceptions=True)
        alive = tuple(
            sorted(s.host_id for s, ok in zip(sessions, outcomes, strict=True) if ok is True)
        )
        beat = Heartbeat(worker=self.name, hypervisor=self.kind, host_ids=alive)
        msg_id = f"{self.name}:{time.time_ns()}"
        await self._bus.publish(self.heartbeats_subject, encode(beat), msg_id=msg_id)


def _decode(delivery: Delivery) -> WorkRequest:
    try:
        return decode_request(delivery.payload)
    except (ValueError, TypeError) as exc:
        raise Definitive(f"undecodable work request: {type(exc).__name__}") from None


def _error_kind(exc: HypervisorError) -> str:
    if isinstance(exc, AuthenticationError):
        return "authentication"
    if isinstance(exc, NotFoundOnHost):
        return "not_found"
    if isinstance(exc, BadRequest):
        return "bad_request"
    if isinstance(exc, Unsupported):
        return "unsupported"
    if isinstance(exc, DeviceRefused):
        return "device"
    if isinstance(exc, StoreError):
        return "image_store"
    return "hypervisor"


def _scrub(error: object, password: str | None) -> str:
    text = str(error)
    return text.replace(password, "******") if password else text


def _result(request: WorkRequest, *, ok: bool, data: dict[str, Any]) -> WorkResult:
    return WorkResult(
        request_id=request.request_id,
        hypervisor=request.hypervisor,
        action=request.action,
        target_id=request.target_id,
        ok=ok,
        data=data,
        job_id=request.job_id,  # handed back unchanged: the server's audit trail follows them
        origin_request_id=request.origin_request_id,
    )


def _failure(request: WorkRequest, kind: str, text: str) -> WorkResult:
    result = _result(request, ok=False, data={"error_kind": kind})
    return replace(result, error=f"{_LABELS[kind]}: {text}")
