"""The secondary storage worker: image bytes written to and removed from a zone's image store.

CloudStack's secondary storage VM fetches a registered template or ISO into the zone's image
store and removes it again when the image is deleted. Here the adapter that fetches a zone's
images does that work when the request names an image store: it streams the image from its
URL (`adapters.fetch`, under the request's limits), checks its checksum and format on the way,
and writes it with the store's client (`adapters.image_stores`). In front of an object store
the image passes through the zone's staging store and stays there as a cached copy, as 4.3
does with an NFS staging store before S3.

Nothing is half-made: a download that fails, a checksum that does not match, or a store that
fails midway leaves no object, and a copy to the object store that fails removes the staging
copy it came from.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from adapters import HypervisorError
from adapters import fetch as fetching
from adapters.image_checks import digest_for, verify, virtual_size
from adapters.image_stores import ImageStoreClient, StoreSpec, open_store
from adapters.requests import param

log = logging.getLogger(__name__)

HEAD = 512  # bytes of an image read for its format and virtual size


def image_path(template_id: str, url: str, folder: str = "template/tmpl") -> str:
    """Where an image is kept in a store: ``template/tmpl/<template id>/<file of its URL>``
    (an uploaded volume's under ``volumes/<volume id>/``, as 4.3 keeps them apart)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "image"
    return f"{folder}/{template_id}/{name}"


def _path_of(params: Mapping[str, Any], url: str) -> str:
    """A template's (or ISO's) place, or an uploaded volume's when the request names none."""
    if params.get("template_id"):
        return image_path(str(params["template_id"]), url)
    return image_path(str(param(params, "volume_id")), url, "volumes")


class _Checked:
    """The image's blocks, hashed and measured as they pass; the checksum is verified after
    the last block, so a mismatch fails the write before the store keeps anything."""

    def __init__(self, blocks: Iterator[bytes], checksum: str, image_format: str) -> None:
        self._blocks, self._checksum, self._format = blocks, checksum, image_format
        self._digest = digest_for(checksum)
        self.head, self.size, self.virtual_size = b"", 0, 0

    def __iter__(self) -> Iterator[bytes]:
        for block in self._blocks:
            if len(self.head) < HEAD:
                self.head += block[: HEAD - len(self.head)]
            if self._digest is not None:
                self._digest.update(block)
            self.size += len(block)
            yield block
        if self._digest is not None:
            verify(self._digest, self._checksum)
        if self._format.upper() != "ISO":
            self.virtual_size = virtual_size(self.head, self.size, self._format)
        else:
            self.virtual_size = self.size


def _spec(params: Mapping[str, Any], key: str, secrets: Mapping[str, Any]) -> StoreSpec | None:
    raw = params.get(key)
    if not raw:
        return None
    return StoreSpec.from_params(raw, secrets.get(key) or {})


def store_image(
    params: Mapping[str, Any], secrets: Mapping[str, Any], policy: fetching.FetchPolicy
) -> dict[str, Any]:
    """Fetch the request's image into its image store (through its staging store when it
    names one); the answer says where it is and how large."""
    holder = _spec(params, "store", secrets)
    if holder is None:
        raise HypervisorError("the request names no image store")
    staging = _spec(params, "staging", secrets)
    url = str(param(params, "url"))
    path = _path_of(params, url)
    with contextlib.closing(fetching.stream(url, policy)) as blocks:
        checked = _Checked(blocks, str(params.get("checksum") or ""), str(param(params, "format")))
        _write(holder, staging, path, checked)
    return {
        "size": checked.virtual_size,
        "physical_size": checked.size,
        "store_id": holder.store_id,
        "cache_store_id": staging.store_id if staging else "",
        "path": path,
    }


def store_snapshot(
    params: Mapping[str, Any], secrets: Mapping[str, Any], blocks: Iterable[bytes]
) -> dict[str, Any]:
    """Write a volume snapshot's copy to the request's image store (4.3's
    `snapshot.backup.rightafter`), at ``snapshots/<snapshot id>/<snapshot name>``."""
    holder = _spec(params, "store", secrets)
    if holder is None:
        raise HypervisorError("the request names no image store")
    staging = _spec(params, "staging", secrets)
    path = f"snapshots/{param(params, 'snapshot_id')}/{param(params, 'snapshot_name')}"
    measured = _Measured(blocks)
    _write(holder, staging, path, measured)
    return {
        "store_id": holder.store_id,
        "cache_store_id": staging.store_id if staging else "",
        "path": path,
        "physical_size": measured.size,
    }


class _Measured:
    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks, self.size = blocks, 0

    def __iter__(self) -> Iterator[bytes]:
        for block in self._blocks:
            self.size += len(block)
            yield block


def _write(
    holder: StoreSpec, staging: StoreSpec | None, path: str, blocks: Iterable[bytes]
) -> None:
    if staging is None:
        with _opened(holder) as store:
            store.put(path, blocks)
    else:
        _through_staging(staging, holder, path, blocks)


def _through_staging(
    staging: StoreSpec, holder: StoreSpec, path: str, image: Iterable[bytes]
) -> None:
    with _opened(staging) as cache:
        cache.put(path, image)
        try:
            with _opened(holder) as store:
                store.put(path, cache.read(path))
        except BaseException:
            with contextlib.suppress(HypervisorError):
                cache.delete(path)
            raise


def read_image(where: Mapping[str, Any], secrets: Mapping[str, Any]) -> Iterator[bytes]:
    """The bytes kept at `where["path"]` in `where["store"]` (a snapshot's copy), block by
    block."""
    spec = StoreSpec.from_params(where["store"], secrets)
    with _opened(spec) as store:
        yield from store.read(str(param(where, "path")))


def remove_image(params: Mapping[str, Any], secrets: Mapping[str, Any]) -> dict[str, Any]:
    """Remove a deleted image's bytes from its store and the staging store's cached copy."""
    path = str(param(params, "path"))
    removed = []
    for key in ("store", "staging"):
        spec = _spec(params, key, secrets)
        if spec is not None:
            with _opened(spec) as store:
                if store.delete(path):
                    removed.append(spec.store_id)
    log.info("removed %s from %d store(s)", path, len(removed))
    return {
        "store_id": str(params.get("store_id") or ""),
        "cache_store_id": str(params.get("cache_store_id") or ""),
        "removed_from": removed,
    }


@contextlib.contextmanager
def _opened(spec: StoreSpec) -> Iterator[ImageStoreClient]:
    client = open_store(spec)
    try:
        yield client
    finally:
        client.close()
