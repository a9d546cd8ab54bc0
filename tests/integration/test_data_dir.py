"""The data directory holds password hashes and keys: only the operator's user may read it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.support.app import running_app
from tests.support.counters import Counter


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The usual umask, which leaves new files readable by everyone unless Stratus says no."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(directory: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(directory.stat().st_mode)}
    for entry in directory.iterdir():
        found[entry.name] = stat.S_IMODE(entry.stat().st_mode)
    return found


def _install(data_dir: Path) -> dict[str, int]:
    """Start an installation once (a key file of its own, the admin's credentials, the store)."""
    with running_app(Settings(data_dir=data_dir)) as app:
        app.http.get("/client/api", params=app.signed({"command": "listAccounts"}))
        return _modes(data_dir)


def test_a_new_installation_is_readable_by_its_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    modes = _install(tmp_path / "data")
    for name in ("stratus.db-wal", "stratus.db-shm", "stratus.db", "secret.key", "admin.json"):
        assert name in modes
    assert modes.pop(".") == 0o700
    assert modes == dict.fromkeys(modes, 0o600)


def test_an_existing_installation_is_tightened_when_it_starts(
    tmp_path: Path, permissive_umask: None
) -> None:
    data_dir = tmp_path / "data"
    _install(data_dir)
    data_dir.chmod(0o755)
    for entry in data_dir.iterdir():
        if entry.name != "secret.key":
            entry.chmod(0o644)
    modes = _install(data_dir)
    assert modes.pop(".") == 0o700
    assert modes == dict.fromkeys(modes, 0o600)


def _events_seen_by_another_process(path: Path) -> int:
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print(c.execute('SELECT count(*) FROM stored_events').fetchone()[0]); c.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_another_process_reads_every_commit_of_a_running_embedded_store(
    sqlite_settings: Settings,
) -> None:
    """Making the store private must not release SQLite's locks in the serving process: another
    process would then take itself for the last reader and remove the WAL still in use."""
    runtime = open_runtime(sqlite_settings, projections=[])
    try:
        runtime.store.save(Counter(name="first"))
        first = _events_seen_by_another_process(sqlite_settings.sqlite_path)
        runtime.store.save(Counter(name="second"))
        assert _events_seen_by_another_process(sqlite_settings.sqlite_path) == first + 1
    finally:
        runtime.close()
