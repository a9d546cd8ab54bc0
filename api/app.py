"""The HTTP edge: `/client/api` on Starlette, where requests are authenticated and dispatched.

Every answer is a CloudStack envelope. Errors are translated here, once, through api.errors;
anything unexpected is logged with its request id and answered 530 without internals.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import Caller
from api.auth import COOKIE, Authenticator
from api.cloudstack import tables
from api.console import console_routes
from api.custom_ids import Renames, answered
from api.dispatch import ApiCommand, Call, Dispatcher, Services
from api.envelope import render, response_key
from api.errors import AuthenticationFailed, error_body
from api.extract_links import PATH, Downloads, ImageSource
from api.health import Health, health_routes
from api.observe import RequestObserver, Seen
from api.params import BadRequestParameter, decode_form, first_values
from api.signing import SignaturePolicy
from billing.billing import BillingRun
from stratus.runtime import Runtime

log = logging.getLogger(__name__)

JSON = "application/json; charset=UTF-8"
MAX_BODY = 1 << 20
URLENCODED = "application/x-www-form-urlencoded"
# Requests served at once; a request's thread may wait (bounded) for the read models.
REQUEST_THREADS = 40


def _answer(
    status: int,
    body: Mapping[str, Any],
    headers: dict[str, str] | None = None,
    renames: Renames | None = None,
) -> Response:
    """The body as JSON; with `renames`, renamed resources answer with their custom ids."""
    content = render(body) if renames is None else answered(render(body), renames)
    return Response(content, status_code=status, media_type=JSON, headers=headers)


def _error(command: str | None, error: BaseException) -> Response:
    status, body = error_body(command, error)
    # An outage (503) is worth coming back for; say when, as HTTP clients expect.
    return _answer(status, body, {"Retry-After": "1"} if status == 503 else None)


class Gateway:
    """Holds what every request needs; one per process."""

    def __init__(self, runtime: Runtime, services: Services, *, integration: bool = False) -> None:
        self.runtime = runtime
        self.services = services
        self.dispatcher = services.dispatcher
        self.auth = services.auth
        self.integration = integration
        self.observer = RequestObserver(
            runtime.telemetry, log_requests=runtime.settings.log_format == "json"
        )
        self._threads = ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="api")

    async def handle(self, request: Request) -> Response:
        """The process boundary for requests: nothing escapes without a CloudStack envelope."""
        seen = Seen(request.headers.get("x-request-id") or uuid.uuid4().hex)
        started = time.perf_counter()
        try:
            response = await self._handle(request, seen)
        except Exception as error:
            log.exception("request %s failed before reaching a command", seen.request_id)
            response = _error(None, error)
        self.observer.answered(seen, response.status_code, time.perf_counter() - started)
        return response

    async def _handle(self, request: Request, seen: Seen) -> Response:
        try:
            raw = await self._params(request)
        except BadRequestParameter as error:
            return _error(None, error)
        if raw.get("response", "json").lower() == "xml":
            return _error(
                raw.get("command"),
                BadRequestParameter(
                    "response=xml is not supported by this server; use response=json"
                ),
            )
        # The rest blocks (the database, waits for the read models): one hop to a request
        # thread for all of it, off the event loop that also carries the relay and the bus.
        loop = asyncio.get_running_loop()
        work = functools.partial(contextvars.copy_context().run, self._serve, request, raw, seen)
        return await loop.run_in_executor(self._threads, work)

    def _serve(self, request: Request, raw: dict[str, str], seen: Seen) -> Response:
        name = raw.get("command")
        try:
            if name == "login":
                seen.command = "login"
                return self._login(request, raw, seen)
            known = self.dispatcher.commands.get((name or "").lower())
            seen.command = known.name if known is not None else None
            caller, session_key = self._authenticate(request, raw)
            seen.account = caller.account_name
            command = self.dispatcher.find(name)
        except Exception as error:
            _log_unexpected(error, name)
            return _error(None if not isinstance(error, AuthenticationFailed) else name, error)
        if command.name == "logout":
            self.auth.sessions.close(request.cookies.get(COOKIE))
            return _answer(200, {"logoutresponse": {"description": "success"}})
        return self._dispatch(request, raw, caller, command, session_key, seen.request_id)

    def _dispatch(
        self,
        request: Request,
        raw: dict[str, str],
        caller: Caller,
        command: ApiCommand,
        session_key: str | None,
        request_id: str,
    ) -> Response:
        call = Call(
            self.runtime,
            self.services,
            caller,
            command,
            raw,
            _remote(request),
            request_id,
            session_key,
            str(request.base_url).rstrip("/"),
            http_method=request.method,
            edge=True,
        )
        try:
            body = self.dispatcher.run(call)
        except Exception as error:
            status, _ = error_body(command.name, error)
            if status >= 500 and not _is_domain_error(error):
                log.exception("request %s (%s) failed", call.request_id, command.name)
            return _error(command.response_name or command.name, error)
        return _answer(200, body, renames=call.renames)

    async def _params(self, request: Request) -> dict[str, str]:
        items = decode_form(request.scope.get("query_string", b""))
        if request.method == "POST":
            body = await request.body()
            if len(body) > MAX_BODY:
                raise BadRequestParameter("The request body is too large")
            if request.headers.get("content-type", "").startswith(URLENCODED):
                items += decode_form(body)
            else:
                form = await request.form()
                items += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        return first_values(items)

    def _authenticate(self, request: Request, raw: dict[str, str]) -> tuple[Caller, str | None]:
        if self.integration:
            return self._system_caller(), None
        signed = any(name.lower() == "apikey" for name in raw)
        if "sessionkey" in raw or (COOKIE in request.cookies and not signed):
            # A session needs both the cookie and the key; missing either is a 401.
            return self.auth.by_session(request.cookies.get(COOKIE), raw.get("sessionkey"))
        caller = self.auth.by_signature(raw, datetime.now(UTC), _remote(request))
        return caller, None

    def _system_caller(self) -> Caller:
        return system_caller(self.runtime)

    def _login(self, request: Request, raw: dict[str, str], seen: Seen) -> Response:
        try:
            if request.method != "POST":
                raise BadRequestParameter("login must be sent as POST")
            username, password = raw.get("username"), raw.get("password")
            if not username or not password:
                raise BadRequestParameter(
                    "Unable to execute API command login due to missing parameter "
                    + ("username" if not username else "password")
                )
            session_id, session, row = self.auth.login(
                username,
                password,
                raw.get("domain"),
                raw.get("domainid") or raw.get("domainId"),
                _remote(request),
            )
        except Exception as error:
            _log_unexpected(error, "login")
            return _error("login", error)
        seen.account = row["account_name"]
        response = _answer(200, {response_key("login"): _login_body(row, session.key)})
        response.set_cookie(COOKIE, session_id, path="/client", httponly=True, samesite="lax")
        return response


def _log_unexpected(error: Exception, command: str | None) -> None:
    """A 530 that is no domain error is a fault of ours: never answered without a trace."""
    status, _ = error_body(command, error)
    if status == 530 and not _is_domain_error(error):
        log.error("request (%s) failed before its command ran", command, exc_info=error)


def _login_body(row: dict[str, Any], session_key: str) -> dict[str, str]:
    return {
        "timeout": "1800",
        "username": row["username"],
        "userid": row["id"],
        "firstname": row["firstname"],
        "lastname": row["lastname"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "type": str(row["account_type"]),
        "timezone": row["timezone"] or "",
        "timezoneoffset": "0.0",
        "registered": "false",
        "sessionkey": session_key,
    }


def _remote(request: Request) -> str:
    return request.client.host if request.client else ""


def _is_domain_error(error: BaseException) -> bool:
    from domain.errors import DomainError

    return isinstance(error, DomainError)


def system_caller(runtime: Runtime) -> Caller:
    """The cloud's system administrator (`admin` of ROOT), for work no request asks for: the
    integration port's requests and the account cleanup."""
    with runtime.db.read() as cursor:
        row = cursor.execute(
            "SELECT u.* FROM users AS u WHERE u.username = 'admin' AND u.domain_path = '/' "
            "AND u.removed = 0"
        ).fetchone()
    if row is None:
        raise AuthenticationFailed("no system user")
    return Caller.from_row(row)


def api_services(
    runtime: Runtime, *, billing: BillingRun | None = None, images: ImageSource | None = None
) -> Services:
    """The API's shared parts for one process; every app of the process gets the same.
    `images` fetches the bytes that extract links serve (none: the links answer 404)."""
    policy = SignaturePolicy(require_expiry=runtime.settings.require_signature_expiry)
    return Services(
        dispatcher=Dispatcher(tables()),
        auth=Authenticator(runtime.db, runtime.store.box, policy),
        billing=billing,
        images=images,
    )


def create_app(
    runtime: Runtime,
    services: Services | None = None,
    *,
    integration: bool = False,
    health: Health | None = None,
) -> Starlette:
    """The HTTP app; apps of one process share `services` (sessions, job threads).
    With `health`, it also answers /health/live and /health/ready (for load balancers)."""
    services = services or api_services(runtime)
    gateway = Gateway(runtime, services, integration=integration)
    route = Route("/client/api", gateway.handle, methods=["GET", "POST"])
    paths = [route, Route("/client/api/", gateway.handle, methods=["GET", "POST"])]
    downloads = Downloads(runtime, services.images)
    paths.append(Route(PATH + "/{token}", downloads.serve, methods=["GET"]))
    if health is not None:
        paths += health_routes(health)
    if integration:
        paths.append(Route("/{path:path}", gateway.handle, methods=["GET", "POST"]))
    else:
        paths += console_routes()
    app = Starlette(routes=paths)
    app.state.gateway = gateway
    return app
