"""Image stores as the secondary storage worker reaches them: one client protocol, one
implementation per provider (`nfs`, `smb`, `s3`; Swift is refused by name).

A store is described by a `StoreSpec`: its provider, URL (without credentials), details and
secrets (the S3 secret key, the SMB password), which exist in clear only in the worker's memory
and are never part of a text a client builds. Objects are named by slash-separated relative
paths (``template/tmpl/<template id>/<file>``), the layout CloudStack's stores use.

`put` writes an object from an iterator of blocks, whole or not at all: if the iterator
raises (a failed download, a checksum that does not match) or the store fails midway, no
object of that name is left behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters import HypervisorError

CHUNK = 1 << 20


class StoreError(HypervisorError):
    """The image store could not do what was asked (unreachable, missing share or bucket);
    the text names the store without credentials and is safe to show an operator."""


@dataclass(frozen=True)
class StoreSpec:
    """One image store as a work request names it."""

    store_id: str
    provider: str  # NFS, SMB, S3, Swift
    url: str  # as shown: no credentials
    details: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_params(cls, raw: Any, secrets: Mapping[str, Any] | None) -> StoreSpec:
        """The store a request's parameters describe (`id`, `provider`, `url`, `details`)
        with the secrets opened from its seal."""
        if not isinstance(raw, dict) or not raw.get("provider") or not raw.get("url"):
            raise StoreError("the request names no image store")
        return cls(
            str(raw.get("id") or ""),
            str(raw["provider"]),
            str(raw["url"]),
            {str(k): str(v) for k, v in dict(raw.get("details") or {}).items()},
            {str(k): str(v) for k, v in dict(secrets or {}).items()},
        )


class ImageStoreClient(Protocol):
    """What the secondary storage worker does with a store."""

    def put(self, path: str, blocks: Iterable[bytes]) -> int:
        """Write the object whole (or leave nothing); returns the bytes written."""
        ...

    def read(self, path: str) -> Iterator[bytes]:
        """The object's bytes, block by block; StoreError when it is not there."""
        ...

    def size(self, path: str) -> int | None:
        """The object's size in bytes, None when it is not there."""
        ...

    def delete(self, path: str) -> bool:
        """Remove the object (and nothing else); False when it was not there."""
        ...

    def close(self) -> None: ...


def open_store(spec: StoreSpec, *, nfs_mounts: str | None = None) -> ImageStoreClient:
    """A connected client of the store's provider; Swift is refused by name."""
    provider = spec.provider.lower()
    if provider == "nfs":
        from adapters.image_stores.nfs import NfsStore

        return NfsStore(spec, nfs_mounts)
    if provider == "smb":
        from adapters.image_stores.smb import SmbStore

        return SmbStore(spec)
    if provider == "s3":
        from adapters.image_stores.s3 import S3Store

        return S3Store(spec)
    if provider == "swift":
        raise StoreError(
            "Swift image stores are recorded but not reached yet: no adapter writes to Swift; "
            "use an S3 store for objects"
        )
    raise StoreError(f"unknown image store provider {spec.provider}")


def checked_path(path: str) -> str:
    """A relative object path of plain parts: no empty part, no `.` or `..`, no backslash."""
    parts = path.split("/")
    if not path or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise StoreError(f"not a valid object path in an image store: {path!r}")
    return path
