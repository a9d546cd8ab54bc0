"""An NFS image store, through the directory where its export is mounted.

Exports cannot be mounted inside this machine's sandbox, so a directory stands in for the
mounted export: ``nfs://<host>/<path>`` is read and written under ``<mounts>/<host>/<path>``,
where `mounts` is ``STRATUS_NFS_MOUNTS`` (default ``$STRATUS_DATA/nfs-mounts``). On a real
secondary storage host that directory is where the export is mounted; the adapter never mounts
anything itself, and an export whose directory is missing is reported as not mounted. This is
the only stand-in among the stores.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from adapters.image_stores import CHUNK, StoreError, StoreSpec, checked_path


def mounts_root(configured: str | None = None) -> Path:
    """Where exports are mounted: the argument, else ``STRATUS_NFS_MOUNTS``, else under the
    data directory."""
    chosen = configured or os.environ.get("STRATUS_NFS_MOUNTS")
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("STRATUS_DATA") or "./stratus-data") / "nfs-mounts"


def export_dir(url: str, root: Path) -> Path:
    """The directory an export's URL is mounted at under `root`."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path.strip("/")
    if not host or not path or ".." in path.split("/"):
        raise StoreError(f"{url} does not name an NFS export (nfs://host/path)")
    return root / host / path


class NfsStore:
    """Objects are files under the export's mount point, written to a temporary name and
    renamed into place when complete."""

    def __init__(self, spec: StoreSpec, mounts: str | None = None) -> None:
        self.url = spec.url
        self.base = export_dir(spec.url, mounts_root(mounts))
        if not self.base.is_dir():
            raise StoreError(f"the NFS export {spec.url} is not mounted on this adapter")

    def _file(self, path: str) -> Path:
        return self.base / checked_path(path)

    def put(self, path: str, blocks: Iterable[bytes]) -> int:
        target = self._file(path)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        written = 0
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as sink:
                for block in blocks:
                    sink.write(block)
                    written += len(block)
            os.replace(partial, target)
        except OSError as error:
            raise StoreError(
                f"cannot write to the NFS export {self.url}: {error.strerror}"
            ) from None
        finally:
            partial.unlink(missing_ok=True)
        return written

    def read(self, path: str) -> Iterator[bytes]:
        try:
            source = self._file(path).open("rb")
        except OSError:
            raise StoreError(f"{path} is not on the NFS export {self.url}") from None
        with source:
            while block := source.read(CHUNK):
                yield block

    def size(self, path: str) -> int | None:
        target = self._file(path)
        return target.stat().st_size if target.is_file() else None

    def delete(self, path: str) -> bool:
        target = self._file(path)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        except OSError as error:
            raise StoreError(
                f"cannot delete from the NFS export {self.url}: {error.strerror}"
            ) from None
        with contextlib.suppress(OSError):  # the object's own directory, once empty
            target.parent.rmdir()
        return True

    def close(self) -> None:
        return None
