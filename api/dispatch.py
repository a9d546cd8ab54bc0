"""The command tables' entry type and the one dispatcher that reads them.

Each API group module in `api/cloudstack/` exports `COMMANDS`, a tuple of `ApiCommand`. The
dispatcher validates parameters, checks the caller's role, runs the handler in a worker thread
and shapes the answer as CloudStack does.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from api.access import Caller, Role, require_role
from api.custom_ids import Renames, own_ids, rename, renames, wanted_rename
from api.envelope import (
    async_response,
    list_response,
    object_response,
    response_key,
    success_response,
)
from api.errors import UnknownCommand
from api.owners import with_projects
from api.params import Paging, Param, ParamType, paging, parse
from api.tagging import unapplied, with_tags
from api.throttle import count_request
from commands import Outcome
from domain.errors import DomainError, InvalidParameter, ResourceUnavailable
from stratus.projection import ReadModelFailing
from stratus.runtime import Runtime
from stratus.store.audit import acting

if TYPE_CHECKING:
    from api.auth import Authenticator
    from api.extract_links import ImageSource
    from billing.billing import BillingRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """A page of items and the total number of matches."""

    items: list[dict[str, Any]]
    count: int
    item_key: str = ""  # where a parameter changes what the items are (4.3 renames them)


@dataclass(frozen=True)
class Submitted:
    """An async command's answer: its job, and for creates the id of what it creates."""

    job_id: str
    resource_id: str | None = None


@dataclass(frozen=True)
class ApiCommand:
    """One CloudStack command: its parameters, who may call it, what runs and how it answers."""

    name: str
    handler: Callable[[Call, dict[str, Any]], Any]
    params: tuple[Param, ...] = ()
    role: Role = Role.USER
    shape: str = "object"  # "list", "object", "success", "async", "raw"
    item_key: str = ""
    is_async: bool = False
    description: str = ""
    java_class: str = ""
    response_name: str = ""  # when CloudStack names the envelope after another command
    paged: bool = True  # a list that takes keyword/page/pagesize (a few 4.3 lists do not)
    # An async command's object by id, as its finished job answers it (under `item_key`).
    render: Callable[[Call, str], dict[str, Any]] | None = None
    # The name a finished job's result picks `render` by, where it is not `item_key`: an
    # object 4.3 answers under another's key (extractTemplate's extract, under `template`).
    result_kind: str = ""
    # Departures from the 4.3 reference, each with its reason (checked by the catalogue test):
    extension: str = ""  # why this command, which 4.3 does not have, exists
    role_extension: str = ""  # why the role differs from 4.3's

    @property
    def render_key(self) -> str:
        return self.result_kind or self.item_key

    @property
    def is_list(self) -> bool:
        return self.shape == "list"

    @property
    def specs(self) -> tuple[Param, ...]:
        """Every parameter the command takes, the list conventions included."""
        return self.params + (LIST_BASE if self.is_list and self.paged else ())


@dataclass
class Services:
    """What the API's handlers share in one process beyond the installation, made once by the
    gateway and handed to every call: the command tables, the sign-in state, the management
    jobs' threads and the billing run this process drives (None: a call makes its own)."""

    dispatcher: Dispatcher
    auth: Authenticator
    jobs: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="job")
    )
    billing: BillingRun | None = None
    images: ImageSource | None = None  # fetches images for download links (extractTemplate)


@dataclass
class Call:
    """Everything a handler may use: the caller, the installation and the request's identity."""

    runtime: Runtime
    services: Services
    caller: Caller
    command: ApiCommand
    raw: dict[str, str]
    remote_address: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    session_key: str | None = None
    base_url: str = ""  # how the client reached this server (links it is given start so)
    http_method: str = "GET"  # some limits differ by method (user data: 2 KB by GET, 32 KB by POST)
    # The account cleanup's calls: the removed account whose leftovers they take away, which
    # `account` and `domainid` may then name (no other call reaches a removed account).
    removed_owner: str = ""
    # A client's request (the gateway's): its ids and its answer's are the custom ids of renamed
    # resources. The server's own calls (account cleanup, the autoscaler) use resources' own ids.
    edge: bool = False
    # The renamed resources, read once per client request: what its ids mean and how its answer
    # names them.
    renames: Renames = field(default_factory=Renames)

    @property
    def store(self) -> Any:
        return self.runtime.store

    def now(self) -> datetime:
        return datetime.now(UTC)

    @contextmanager
    def read(self) -> Iterator[Any]:
        with self.runtime.db.read() as cursor:
            yield cursor

    def acting(self, job_id: str | None = None) -> Any:
        return acting(
            user_id=self.caller.user_id,
            account_id=self.caller.account_id,
            domain_id=self.caller.domain_id,
            command=self.command.name,
            job_id=job_id,
            remote_address=self.remote_address,
            request_id=self.request_id,
        )

    def write(self, handler: Callable[[Any, Any], Outcome], command: Any) -> Outcome:
        """Run a command as this caller, then wait until the read models show its effect.

        A synchronous command answers with its object as the read models show it, so it waits
        for them longer than a query would (`STRATUS_WRITE_VISIBLE_TIMEOUT`); if they are still
        behind then, the error names what was saved, so the client can look for it.
        """
        with self.acting():
            outcome = handler(self.store, command)
        self.settle(outcome.position, *((str(outcome.id),) if outcome.id else ()))
        return outcome

    def settle(self, position: int, *saved: str) -> None:
        """Read your writes for a synchronous command that saved through other means than
        `write`: wait as `write` does, and if the read models are still behind, name what was
        saved (`saved`, ids) in the error so the client can look for it."""
        visible = self.runtime.settings.write_visible_timeout
        try:
            shown = not position or self.runtime.runner.wait_for(position, visible)
        except ReadModelFailing as failing:
            log.error("saved %s, but %s", ", ".join(saved) or "a change", failing)
            raise DomainError(
                "The change was saved, but a read model failed to apply it: it is retried, and "
                "the server log names the failure",
                resource_ids=saved,
            ) from None
        if not shown:
            raise ResourceUnavailable(
                "The change was saved but is not visible yet; query again in a moment",
                resource_ids=saved,
            )

    def accepted(self, position: int) -> None:
        """Read your writes for an async command: wait (bounded) as `settle` does, but answer
        anyway. The command is committed and its job id is the client's handle on it; a client
        that polls the job before the read models show it is told it is pending."""
        try:
            shown = not position or self.runtime.runner.wait_for(
                position, self.runtime.settings.read_your_writes_timeout
            )
        except ReadModelFailing as failing:
            log.error("answering the job of event %d although %s", position, failing)
            return
        if not shown:
            log.warning("read models are behind position %d; answering its job anyway", position)

    def paging(self) -> Paging:
        return paging(self.raw, default_page_size=self.page_size(), command=self.command.name)

    def page_size(self) -> int:
        from api.cloudstack.configuration import current_value

        return int(current_value(self, "default.page.size"))


LIST_BASE = (
    Param("keyword", ParamType.STRING),
    Param("page", ParamType.INTEGER),
    Param("pagesize", ParamType.INTEGER),
)


def _made_or_changed(args: dict[str, Any], result: Any) -> str:
    """The id of what a command changed (its `id`) or made (its answer's id)."""
    if args.get("id"):
        return str(args["id"])
    return str(result.resource_id if isinstance(result, Submitted) else result["id"])


class Dispatcher:
    """Finds a command in the tables and runs it for a caller."""

    def __init__(self, tables: list[tuple[ApiCommand, ...]]) -> None:
        self.commands: dict[str, ApiCommand] = {}
        for table in tables:
            for command in table:
                key = command.name.lower()
                if key in self.commands:
                    raise ValueError(f"{command.name} is declared twice")
                self.commands[key] = command

    def find(self, name: str | None) -> ApiCommand:
        command = self.commands.get((name or "").lower())
        if command is None:
            raise UnknownCommand(name or "")
        return command

    def run(self, call: Call) -> dict[str, Any]:
        command = call.command
        require_role(call.caller, command.role)
        count_request(call.runtime.db, call.caller.account_id)
        args = parse(command.specs, call.raw, command=command.name)
        if command.is_list and command.paged:
            args["paging"] = call.paging()
        self.runtime_consistent(call)
        if call.edge:
            call.renames = renames(call)
            own_ids(command.specs, args, call.renames)
        wanted = wanted_rename(call, command.params, args)
        result = command.handler(call, args)
        if wanted is not None:
            rename(call, command.item_key, _made_or_changed(args, result), wanted, call.renames)
        if command.is_list and unapplied(args):
            raise InvalidParameter(f"{command.name} does not filter by tags yet")
        if command.shape == "list":
            with_tags(call, command.item_key, result.items)
            with_projects(call, result.items)
        elif command.shape == "object" and isinstance(result, dict):
            tagged = [result]
            with_tags(call, command.item_key, tagged)
            with_projects(call, tagged)
            result = tagged[0]
        return self.shape(command, result)

    def runtime_consistent(self, call: Call) -> None:
        if not call.runtime.runner.consistent(call.runtime.settings.read_your_writes_timeout):
            raise ResourceUnavailable("The read models are catching up; query again in a moment")

    def shape(self, command: ApiCommand, result: Any) -> dict[str, Any]:
        name = command.response_name or command.name
        if command.shape == "list":
            key = result.item_key or command.item_key
            return list_response(name, key, result.items, result.count)
        if command.shape == "success":
            return success_response(name)
        if command.shape == "async":
            return async_response(name, result.job_id, result.resource_id)
        if command.shape == "raw":
            return result
        if command.shape == "flat":
            return {response_key(name): result}
        return object_response(name, command.item_key, result)
