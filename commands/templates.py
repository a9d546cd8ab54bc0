"""Commands on templates, the routes that ask adapters to download them into each zone, and the
handler that records the adapters' answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Address
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome, change
from domain.account import Account
from domain.domains import Domain
from domain.errors import InvalidParameter, NotFound
from domain.infrastructure import Zone
from domain.storage import ImageStore
from domain.template import (
    ExtractRequest,
    FetchLimits,
    Owner,
    Permissions,
    StoreTarget,
    Template,
    TemplateSpec,
    check_image,
)
from stratus.addresses import is_allowed, is_local, is_local_name, literal_address, parse_sites
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

DOWNLOAD = "download_template"
REMOVE = "delete_image"
LOOPBACK = IPv4Address("127.0.0.1")  # what `localhost` names


@dataclass(frozen=True)
class RegisterTemplate:
    spec: TemplateSpec
    account_id: UUID
    zone_ids: Sequence[UUID]  # every zone for a cross-zone template
    template_id: UUID = field(default_factory=uuid.uuid4)
    limits: FetchLimits = field(default_factory=FetchLimits)
    store_kinds: dict[UUID, str] = field(default_factory=dict)  # an ISO's fetcher per zone
    stores: dict[UUID, StoreChoice] = field(default_factory=dict)  # where each zone's bytes go


@dataclass(frozen=True)
class StoreChoice:
    """The image store a zone's copy is written to and, in front of an object store, the
    staging store it passes through."""

    store_id: UUID
    staging_id: UUID | None = None


def store_choice(found: tuple[str, str | None] | None) -> StoreChoice | None:
    """The choice `projections.storage.image_destination` answered: (store, staging) ids."""
    if found is None:
        return None
    store_id, staging_id = found
    return StoreChoice(UUID(store_id), UUID(staging_id) if staging_id else None)


def _described(image_store: ImageStore) -> dict[str, Any]:
    return {
        "id": str(image_store.id),
        "provider": image_store.provider,
        "url": image_store.url,
        "details": dict(image_store.details),
    }


def store_target(store: Any, choice: StoreChoice | None) -> StoreTarget | None:
    """The stores a choice names, with the keeping store's sealed credentials; None without
    a choice (the adapter keeps the image in its own store, as before image stores)."""
    if choice is None:
        return None
    holder = store.get(ImageStore, choice.store_id, what="image store")
    staging = {}
    if choice.staging_id is not None:
        staging = _described(store.get(ImageStore, choice.staging_id, what="image store"))
    return StoreTarget(_described(holder), dict(holder.credentials), staging)


def check_host(url: str, limits: FetchLimits) -> None:
    """4.3 refuses a URL whose host is a loopback, link-local, unspecified or multicast
    address (an operator's allowed internal site excepted). Only what the URL spells is
    judged: a name is left to the adapter, which checks every address it resolves to."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (reading it is the check: a port outside 0-65535 raises)
    except ValueError:
        raise InvalidParameter(f"Invalid URL {url}") from None
    host = parts.hostname or ""
    address = LOOPBACK if is_local_name(host) else literal_address(host)
    if address is None or not is_local(address):
        return
    if not is_allowed(address, parse_sites(limits.allowed_internal_sites)):
        raise InvalidParameter("Illegal host specified in url")


def _owner(store: Any, account_id: UUID) -> Owner:
    account = store.get(Account, account_id, what="account")
    domain = store.get(Domain, account.domain_id, what="domain")
    return Owner(account.id, domain.id, domain.path)


def _live_zones(store: Any, zone_ids: Sequence[UUID]) -> list[UUID]:
    for zone_id in zone_ids:
        if store.get(Zone, zone_id, what="zone").removed:
            raise NotFound(f"Unable to find zone with id {zone_id}", resource_ids=(str(zone_id),))
    return list(zone_ids)


def register_template(store: Any, command: RegisterTemplate) -> Outcome:
    """Record the template and ask for its download into each zone."""
    hypervisor, image_format = check_image(command.spec.hypervisor, command.spec.format)
    spec = asdict(command.spec) | {"hypervisor": hypervisor, "format": image_format}
    owner = asdict(_owner(store, command.account_id))
    zones = _live_zones(store, command.zone_ids)
    template = Template(spec, owner, id=command.template_id)
    check_host(command.spec.url, command.limits)  # once the URL's form is known to be good
    for zone_id in zones:
        kind = command.store_kinds.get(zone_id, "")
        target = store_target(store, command.stores.get(zone_id))
        template.request_download(zone_id, uuid.uuid4().hex, command.limits, kind, target)
    return Outcome(store.last_position(store.save(template)), template.id)


@dataclass(frozen=True)
class CopyTemplate:
    template_id: UUID
    source_zone_id: UUID
    destination_zone_id: UUID
    limits: FetchLimits = field(default_factory=FetchLimits)
    store_kind: str = ""  # for an ISO: the kind keeping the destination zone's images
    store: StoreChoice | None = None  # where the destination zone's bytes go


def copy_template(store: Any, command: CopyTemplate) -> Outcome:
    """Ask for the image in another zone (fetched again from its URL)."""
    _live_zones(store, (command.destination_zone_id,))
    request = (uuid.uuid4().hex, command.limits)
    target = store_target(store, command.store)
    return change(
        store,
        Template,
        command.template_id,
        lambda t: t.copy_to(
            command.source_zone_id, command.destination_zone_id, request, command.store_kind, target
        ),
        what="template",
    )


@dataclass(frozen=True)
class PrepareTemplate:
    template_id: UUID
    zone_id: UUID
    limits: FetchLimits = field(default_factory=FetchLimits)
    store: StoreChoice | None = None


def prepare_template(store: Any, command: PrepareTemplate) -> Outcome:
    """Ask for a template in a zone where it is not (or where its download failed)."""
    _live_zones(store, (command.zone_id,))
    request_id = uuid.uuid4().hex
    target = store_target(store, command.store)
    return change(
        store,
        Template,
        command.template_id,
        lambda t: t.request_download(command.zone_id, request_id, command.limits, target=target),
        what="template",
    )


@dataclass(frozen=True)
class ExtractTemplate:
    template_id: UUID
    request: ExtractRequest


def extract_template(store: Any, command: ExtractTemplate) -> Outcome:
    """Offer a template (or ISO) for download from a zone where it is ready."""
    return change(
        store,
        Template,
        command.template_id,
        lambda t: t.extract(command.request),
        what="template",
    )


@dataclass(frozen=True)
class SetPermissions:
    template_id: UUID
    permissions: Permissions


def set_permissions(store: Any, command: SetPermissions) -> Outcome:
    return change(
        store,
        Template,
        command.template_id,
        lambda t: t.set_permissions(command.permissions),
        what="template",
    )


@dataclass(frozen=True)
class UpdateTemplate:
    template_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


def update_template(store: Any, command: UpdateTemplate) -> Outcome:
    return change(
        store, Template, command.template_id, lambda t: t.update(command.changes), what="template"
    )


def delete_template(store: Any, template_id: UUID, zone_id: UUID | None = None) -> Outcome:
    return change(store, Template, template_id, lambda t: t.delete(zone_id), what="template")


def on_download_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter's answer: the zone's copy is complete (with its sizes) or failed (why)."""

    def attempt() -> Outcome:
        template = store.get(Template, UUID(result.target_id), what="template")
        zone_id = template.zone_of(result.request_id)
        if zone_id is None:
            return Outcome(0, template.id)  # a stale or repeated result changes nothing
        holders: list[ImageStore] = []
        if result.ok:
            size, physical = reported_sizes(result.data)
            template.download_completed(
                zone_id=zone_id, request_id=result.request_id, size=size, physical=physical
            )
            holders = _record_store(store, template, zone_id, result.data)
        else:
            reason = result.error or "the image store did not answer"
            template.download_failed(zone_id=zone_id, request_id=result.request_id, reason=reason)
        return Outcome(store.last_position(store.save(template, *holders)), template.id)

    result_outcome: Outcome = store.run(attempt)
    return result_outcome


def _record_store(
    store: Any, template: Template, zone_id: UUID, data: dict[str, Any]
) -> list[ImageStore]:
    """The stores an adapter wrote the zone's bytes to now hold the image."""
    store_id = str(data.get("store_id") or "")
    if not store_id:
        return []
    cache_id = str(data.get("cache_store_id") or "")
    template.stored_in(zone_id, store_id, str(data.get("path") or ""), cache_id)
    holders = []
    for held_by in (store_id, cache_id):
        if held_by:
            image_store = store.get(ImageStore, UUID(held_by), what="image store")
            image_store.hold(template.id)
            holders.append(image_store)
    return holders


def on_removal_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter removed a deleted image's bytes: its stores no longer hold it. A removal
    that failed leaves them holding it (deleteImageStore is refused while they do)."""

    def attempt() -> Outcome:
        if not result.ok:
            return Outcome(0, None)
        let_go = []
        for held_by in (result.data.get("store_id"), result.data.get("cache_store_id")):
            if held_by:
                image_store = store.get(ImageStore, UUID(str(held_by)), what="image store")
                image_store.let_go(UUID(result.target_id))
                let_go.append(image_store)
        if not let_go:
            return Outcome(0, None)
        return Outcome(store.last_position(store.save(*let_go)), None)

    outcome: Outcome = store.run(attempt)
    return outcome


def reported_sizes(data: dict[str, Any]) -> tuple[int, int]:
    try:
        size = int(data.get("size", 0))
        return size, int(data.get("physical_size", size))
    except (TypeError, ValueError):
        raise InvalidParameter("the adapter reported sizes that are not numbers") from None


def give_up_downloads(
    store: Any,
    waiting: Sequence[tuple[str, str]],
    quiet: Callable[[UUID | None, str], bool],
    reason: str,
) -> int:
    """Fail the downloads in flight (template, zone) that no adapter of their kind has been
    alive to take; returns how many. An adapter that answers later is still heard."""
    failed = 0
    for template_id, zone_id in waiting:
        template = store.get(Template, UUID(template_id), what="template")
        request = template.request_in(UUID(zone_id))
        kind = template.kind_in(UUID(zone_id))
        if request is None or not quiet(None, kind.lower()):
            continue
        if _abandon(store, template.id, UUID(zone_id), request, reason).position:
            failed += 1
    return failed


def _abandon(store: Any, template_id: UUID, zone_id: UUID, request_id: str, reason: str) -> Outcome:
    return change(
        store,
        Template,
        template_id,
        lambda t: t.abandon_download(zone_id, request_id, reason),
        what="template",
    )


RESULT_HANDLERS = {DOWNLOAD: on_download_result, REMOVE: on_removal_result}


def sealed_store(box: Any, e: Any) -> str | None:
    """The image store's credentials for the adapter, sealed; None for no store."""
    if not e.store:
        return None
    if box is None:
        raise InvalidParameter("an image store's credentials need the cloud's key to travel")
    secrets = {key: value.reveal() for key, value in e.store_secrets.items()}
    user = str(e.store.get("details", {}).get("accesskey") or "")
    password = next(iter(secrets.values()), "")
    return seal_credentials(box, e.store["url"], user, password, secrets={"store": secrets})


def removal(e: Any, box: Any, prefix: str) -> Outgoing:
    """A `delete_image` request for an `ImageRemovalRequested` (of a template's copy or of a
    snapshot): to the kind that wrote it, with the stores' secrets sealed."""
    request = WorkRequest(
        request_id=e.request_id,
        hypervisor=e.kind.lower(),
        action=REMOVE,
        target_id=str(e.originator_id),
        params={
            "path": e.path,
            "store_id": e.store_id,
            "cache_store_id": e.cache_store_id,
            "store": e.store,
            "staging": e.staging,
        },
        sealed_credentials=sealed_store(box, e),
        **origin(e),
    )
    return work(request, prefix)


def template_routes(box: Any = None, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """A requested download becomes a `download_template` request to the template's kind;
    a deleted copy whose bytes are in an image store, a `delete_image` request.

    No host credentials travel: the adapter fetches the image from its URL into the zone's
    image store (the one the request names, its credentials sealed with `box`), under the fetch
    limits recorded with the request.
    """

    def remove(e: Any) -> Outgoing:
        return removal(e, box, prefix)

    def download(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=DOWNLOAD,
            target_id=str(e.originator_id),
            params={
                "template_id": str(e.originator_id),
                "zone_id": str(e.zone_id),
                "url": e.url,
                "format": e.image_format,
                "checksum": e.checksum,
                "allowed_internal_sites": e.allowed_internal_sites,
                "max_size_gb": e.max_size_gb,
                **({"store": e.store, "staging": e.staging} if e.store else {}),
            },
            sealed_credentials=sealed_store(box, e),
            **origin(e),
        )
        return work(request, prefix)

    events: Any = Template  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(Template.DownloadRequested): download,
        get_topic(events.ImageRemovalRequested): remove,
    }


OUTBOX_ROUTES = template_routes
