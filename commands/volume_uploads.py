"""uploadVolume: a data disk made from an image at a URL, fetched by an adapter into the zone's
image store as template downloads are, then attachable.

The volume is recorded `UploadOp` with its `UploadRequested` in one commit, and held by the image
store it goes to; the relay sends `download_volume` to an adapter of the zone's image kind; its
answer makes the volume `Uploaded` at the image's virtual size (or `UploadError`). Attaching it
copies it to primary storage: the store lets it go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome
from commands.templates import StoreChoice, removal, reported_sizes, sealed_store, store_target
from domain.errors import InvalidParameter, NotFound
from domain.storage import ImageStore
from domain.volume import Upload, UploadRequest, Volume, VolumeState, VolumeType
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult
from stratus.outbox import Outgoing, Route, origin, work

DOWNLOAD_VOLUME = "download_volume"


@dataclass(frozen=True)
class UploadVolume:
    volume_id: UUID
    name: str
    account_id: UUID
    domain_id: UUID
    zone_id: UUID
    upload: Upload
    request: UploadRequest
    store: StoreChoice | None = None  # the image store its bytes are written to (none: kept
    # by the fetching adapter, as before uploads were written to stores)


def upload_volume(store: Any, command: UploadVolume) -> Outcome:
    """Record the volume, waiting for its image, and ask for the fetch; the image store named
    (the caller chose one of the zone's) holds it."""

    def attempt() -> Outcome:
        volume = Volume(
            command.volume_id,
            command.name,
            VolumeType.DATADISK,
            command.account_id,
            command.domain_id,
            command.zone_id,
            0,
            None,
            None,
            None,
            upload=command.upload.facts(),
        )
        kept = _image_store(store, command.upload.store_id)
        volume.request_upload(command.request, store_target(store, command.store))
        kept.hold(volume.id)
        return Outcome(store.last_position(store.save(volume, kept)), volume.id)

    result: Outcome = store.run(attempt)
    return result


def _image_store(store: Any, store_id: UUID | None) -> ImageStore:
    if store_id is None:
        raise InvalidParameter("An uploaded volume needs an image store of its zone")
    kept: ImageStore = store.get(ImageStore, store_id, what="image store")
    if kept.removed:
        raise InvalidParameter(f"Image store {kept.name} has been removed")
    return kept


def leave_image_store(store: Any, volume: Volume) -> list[Any]:
    """The image store to save beside an uploaded volume that left it (attached, so copied to
    primary storage, or deleted). Bytes kept there are removed first: the store lets the
    volume go when the adapter answers that removal (`commands.templates.on_removal_result`)."""
    if volume.upload is None or (volume.on_secondary and not volume.removed):
        return []
    if volume.remove_image():
        return []
    store_id = volume.upload.get("store_id")
    if store_id is None:
        return []
    try:
        kept: ImageStore = store.get(ImageStore, UUID(str(store_id)), what="image store")
    except NotFound:
        return []
    if volume.id not in kept.held_ids:
        return []
    kept.let_go(volume.id)
    return [kept]


def on_upload_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter's answer to the fetch in flight; any other answer changes nothing."""

    def attempt() -> Outcome:
        volume: Volume = store.get(Volume, UUID(result.target_id), what="volume")
        if not volume.upload_in_flight(result.request_id):
            return Outcome(0, volume.id)
        if result.ok:
            size, physical = reported_sizes(result.data)
            volume.finish_upload(result.request_id, size, physical)
            if result.data.get("store_id"):
                path, cache = str(result.data.get("path") or ""), result.data.get("cache_store_id")
                volume.stored_in(str(result.data["store_id"]), path, str(cache or ""))
        else:
            reason = result.error or "the image could not be fetched"
            volume.fail_upload(result.request_id, reason)
        changed = [volume]
        if volume.state == VolumeState.UPLOAD_ERROR:
            changed += leave_image_store(store, volume)  # a failed upload keeps nothing
        return Outcome(store.last_position(store.save(*changed)), volume.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def give_up_uploads(
    store: Any,
    waiting: Sequence[str],
    quiet: Callable[[UUID | None, str], bool],
    reason: str,
) -> int:
    """Fail the uploads in flight (volume ids) that no adapter of their kind has been alive to
    fetch; returns how many. An adapter that answers later is not heard: the volume is in
    UploadError and its owner uploads it again."""
    failed = 0
    for volume_id in waiting:
        volume: Volume = store.get(Volume, UUID(volume_id), what="volume")
        request = volume.request_id
        if request is None or not volume.upload_in_flight(request):
            continue
        if not quiet(None, volume.upload_kind.lower()):
            continue
        result = WorkResult(request, volume.upload_kind.lower(), DOWNLOAD_VOLUME, volume_id, False)
        if on_upload_result(store, replace(result, error=reason)).position:
            failed += 1
    return failed


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {
    DOWNLOAD_VOLUME: on_upload_result
}


def upload_routes(box: Any = None, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """A requested upload becomes `download_volume` for the zone's image kind. No host
    credentials travel: the adapter fetches the image into the zone's image store (named in
    the request, its credentials sealed with `box`), under the fetch limits recorded with the
    request. Removing the bytes is a `delete_image` request, as for templates."""

    def download(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.kind.lower(),
            action=DOWNLOAD_VOLUME,
            target_id=str(e.originator_id),
            params={
                "volume_id": str(e.originator_id),
                "zone_id": str(e.zone_id),
                "url": e.url,
                "format": e.image_format,
                "checksum": e.checksum,
                "allowed_internal_sites": e.allowed_internal_sites,
                "max_size_gb": e.max_size_gb,
                **({"store": e.store, "staging": e.staging} if _store_of(e) else {}),
            },
            sealed_credentials=sealed_store(box, e) if _store_of(e) else None,
            **origin(e),
        )
        return work(request, prefix)

    volume: Any = Volume  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(volume.UploadRequested): download,
        get_topic(volume.ImageRemovalRequested): lambda e: removal(e, box, prefix),
    }


OUTBOX_ROUTES = upload_routes


def _store_of(e: Any) -> dict[str, Any]:
    """The image store an upload is written to; none in uploads requested before."""
    return getattr(e, "store", None) or {}
