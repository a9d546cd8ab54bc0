"""An SMB/CIFS image store (Hyper-V's secondary storage), reached with `smbprotocol`.

``cifs://<host>[:<port>]/<share>[/<folder>]?user=<user>[&domain=<domain>]``, the password
sealed apart. Each client keeps its own connection cache, so a store's session is never
shared with another store's (or with other credentials for the same server).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import smbclient
from smbprotocol.exceptions import LogonFailure, SMBException, SMBOSError

from adapters import AuthenticationError
from adapters.image_stores import CHUNK, StoreError, StoreSpec, checked_path

TIMEOUT = 30  # seconds to connect


class SmbStore:
    """Objects are files on the share, written to a temporary name and renamed when whole."""

    def __init__(self, spec: StoreSpec) -> None:
        parts = urlsplit(spec.url)
        options = dict(parse_qsl(parts.query))
        folders = [p for p in parts.path.split("/") if p]
        if not parts.hostname or not folders:
            raise StoreError(f"{spec.url} does not name an SMB share (cifs://host/share/path)")
        self.url = spec.url
        self.host, self.port = parts.hostname, parts.port or 445
        user = options.get("user") or spec.details.get("user", "")
        if options.get("domain"):
            user = f"{options['domain']}\\{user}"
        self.root = "\\\\" + "\\".join([self.host, *folders])
        self._cache: dict[str, Any] = {}
        self._kw: dict[str, Any] = {"port": self.port, "connection_cache": self._cache}
        try:
            smbclient.register_session(
                self.host,
                username=user,
                password=spec.secrets.get("password", ""),
                connection_timeout=TIMEOUT,
                **self._kw,
            )
            smbclient.makedirs(self.root, exist_ok=True, **self._kw)
        except LogonFailure:
            self.close()
            raise AuthenticationError(
                f"the SMB share {spec.url} refused the user and password"
            ) from None
        except (SMBException, OSError, ValueError) as error:
            self.close()
            raise StoreError(f"cannot reach the SMB share {spec.url}: {_reason(error)}") from None

    def _remote(self, path: str) -> str:
        return self.root + "\\" + checked_path(path).replace("/", "\\")

    def put(self, path: str, blocks: Iterable[bytes]) -> int:
        target = self._remote(path)
        folder, name = target.rsplit("\\", 1)
        partial = f"{folder}\\.{name}.{uuid.uuid4().hex}.part"
        written = 0
        try:
            smbclient.makedirs(folder, exist_ok=True, **self._kw)
            with smbclient.open_file(partial, mode="wb", **self._kw) as sink:
                for block in blocks:
                    sink.write(block)
                    written += len(block)
            smbclient.replace(partial, target, **self._kw)
        except (SMBException, OSError) as error:
            raise StoreError(
                f"cannot write to the SMB share {self.url}: {_reason(error)}"
            ) from None
        finally:
            with contextlib.suppress(SMBException, OSError):
                smbclient.remove(partial, **self._kw)
        return written

    def read(self, path: str) -> Iterator[bytes]:
        try:
            source = smbclient.open_file(self._remote(path), mode="rb", **self._kw)
        except (SMBException, OSError):
            raise StoreError(f"{path} is not on the SMB share {self.url}") from None
        with source:
            while block := source.read(CHUNK):
                yield block

    def size(self, path: str) -> int | None:
        try:
            return int(smbclient.stat(self._remote(path), **self._kw).st_size)
        except (SMBException, OSError):
            return None

    def delete(self, path: str) -> bool:
        target = self._remote(path)
        try:
            smbclient.remove(target, **self._kw)
        except SMBOSError as error:
            if error.errno == 2:  # ENOENT: already gone
                return False
            raise StoreError(
                f"cannot delete from the SMB share {self.url}: {_reason(error)}"
            ) from None
        except (SMBException, OSError) as error:
            raise StoreError(
                f"cannot delete from the SMB share {self.url}: {_reason(error)}"
            ) from None
        with contextlib.suppress(SMBException, OSError):  # the object's own folder, once empty
            smbclient.rmdir(target.rsplit("\\", 1)[0], **self._kw)
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            smbclient.reset_connection_cache(connection_cache=self._cache)


def _reason(error: BaseException) -> str:
    """A short reason: the error's class and, for an OS error, its text (never a credential:
    smbprotocol's texts carry none)."""
    if isinstance(error, SMBOSError):
        return error.strerror or type(error).__name__
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__
