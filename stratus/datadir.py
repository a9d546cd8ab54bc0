"""The data directory: Stratus's own, 0700, and every file Stratus writes in it 0600.

It holds the SQLite store (password hashes, sealed secrets, API keys) with its WAL and
shared-memory files, the key file and the admin's credentials, so nobody but the operator's user
may read any of it, whatever the umask. An installation made before this rule is tightened at
start; key files are the exception, refused elsewhere rather than mended, since a key that others
could read must be replaced, not hidden.
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from stratus.settings import Unavailable

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> None:
    """Create `path` (0700) if missing, and take group and others off it and its files."""
    try:
        path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        _tighten(path, DIRECTORY_MODE)
        for entry in path.iterdir():
            # Subdirectories (the KVM adapter's images) hold nothing secret and keep their modes.
            if entry.is_file() and not entry.is_symlink() and entry.suffix != ".key":
                _tighten(entry, FILE_MODE)
    except OSError as error:
        raise Unavailable(f"cannot use {path} as the data directory: {_reason(error)}") from None


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 if missing, so whatever opens it next keeps that mode.

    A file that exists is never opened here: closing any descriptor of a file drops every
    POSIX lock this process holds on it, and SQLite's locks on its database are such locks.
    Dropped, another connection takes itself for the last one and removes the WAL that this
    process's connections still write to, and their commits are lost to every other reader.
    """
    private_directory(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return  # private_directory has tightened it already
    except OSError as error:
        raise Unavailable(f"cannot create {path}: {_reason(error)}") from None


LOCK_FILE = "stratus.lock"


def hold(path: Path) -> int:
    """Take the data directory for this process's lifetime: one server per embedded store.

    An OS lock (flock) on a file of its own, never on the store's file, so that it is released
    when the process ends however it ends, and closing it cannot touch SQLite's locks. Returns
    the descriptor to keep open; another process holding it is one line, exit 1.
    """
    private_directory(path)
    lock = path / LOCK_FILE
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as error:
        raise Unavailable(f"cannot create {lock}: {_reason(error)}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise Unavailable(
            f"another Stratus server is running on the data directory {path}"
        ) from None
    return descriptor


def _reason(error: OSError) -> str:
    if isinstance(error, FileExistsError):
        return "it exists and is not a directory"
    return error.strerror or str(error)


def _tighten(path: Path, most: int) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~most:
        os.chmod(path, mode & most)
