"""Which secret key a store's sealed values are written with, and the check every process makes.

Every process of one cloud must seal and open with the same key. The first process to open a
store records the fingerprint of its key there (making the key, and its key file, when it has
none); every process after it must hold that key, or it refuses to start with one line. A store
that already holds events but no fingerprint (made before this rule) takes the first key it is
opened with, and is never given a new one.

Rotation (`stratus rekey`) makes another key the store's current one and records the old one as
retired. The log is never rewritten: values sealed with a retired key stay sealed with it, so
processes keep retired keys in their ring (STRATUS_RETIRED_SECRET_KEYS) to open them; a process
whose current key is retired, or unknown to the store, is refused at start.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from stratus.db import Database
from stratus.settings import ConfigurationError, Settings, Unavailable
from stratus.store.chain import EVENTS_TABLE
from stratus.store.secrets import (
    fingerprint,
    load_key,
    load_retired_keys,
    new_key,
    write_key_file,
)

log = logging.getLogger(__name__)


def store_key(settings: Settings, db: Database) -> bytes:
    """This process's key, checked against the store's; made and recorded for a new store."""
    key = load_key(settings)
    recorded = recorded_fingerprint(db)
    if recorded is None:
        made = key is None
        if made:
            if _holds_events(db):
                raise ConfigurationError(
                    "the store holds sealed data but this process has no key: set "
                    f"STRATUS_SECRET_KEY (or put the key file at {settings.key_file})"
                )
            key = new_key()
            write_key_file(settings.key_file, key)
        assert key is not None
        recorded = _record(db, fingerprint(key))
        if made and recorded != fingerprint(key):  # another process made the store's key first
            settings.key_file.unlink()
            key = None
        elif made:
            log.info("new store: its key is in %s (fingerprint %s)", settings.key_file, recorded)
    _check(settings, db, key, recorded)
    assert key is not None
    return key


def rekey(settings: Settings, db: Database) -> tuple[str, str]:
    """Make this process's current key the store's, retiring the store's current key, which the
    process must hold among its retired keys. Returns (retired, current) fingerprints."""
    key = load_key(settings)
    if key is None:
        raise ConfigurationError(
            "no new key: set STRATUS_SECRET_KEY (or the key file) to the new key, and "
            "STRATUS_RETIRED_SECRET_KEYS to the store's current key"
        )
    new = fingerprint(key)
    recorded = recorded_fingerprint(db)
    if recorded is None:
        raise Unavailable("this store has no key yet: start it once before rotating its key")
    if new == recorded:
        raise ConfigurationError(f"key {new} is the store's current key already: nothing to do")
    if new in retired_fingerprints(db):
        raise ConfigurationError(f"key {new} was retired: a retired key cannot be current again")
    held = {fingerprint(old) for old in load_retired_keys(settings)}
    if recorded not in held:
        raise ConfigurationError(
            f"the store's current key is {recorded}: give it in STRATUS_RETIRED_SECRET_KEYS "
            "(the processes need it to open what it sealed)"
        )
    now = datetime.now(UTC).isoformat()
    with db.transaction() as cursor:
        cursor.execute(
            "INSERT INTO stratus_retired_keys (fingerprint, retired_at) VALUES (%s, %s)",
            (recorded, now),
        )
        cursor.execute(
            "UPDATE stratus_secret_key SET fingerprint = %s, recorded_at = %s WHERE id = 1",
            (new, now),
        )
    return recorded, new


def retired_fingerprints(db: Database) -> dict[str, str]:
    """The store's retired keys: fingerprint -> when it was retired."""
    with db.read() as cursor:
        rows = cursor.execute("SELECT fingerprint, retired_at FROM stratus_retired_keys").fetchall()
    return {str(row["fingerprint"]): str(row["retired_at"]) for row in rows}


def _check(settings: Settings, db: Database, key: bytes | None, recorded: str) -> None:
    if key is None:
        raise ConfigurationError(
            f"this store's data is sealed with key {recorded} and this process has no key: "
            "set STRATUS_SECRET_KEY to the store's key (every process of a cloud needs the same)"
        )
    if fingerprint(key) != recorded:
        retired = retired_fingerprints(db).get(fingerprint(key))
        if retired is not None:
            raise ConfigurationError(
                f"key {fingerprint(key)} was retired at {retired} (stratus rekey): this store's "
                f"current key is {recorded}; keep the old key in STRATUS_RETIRED_SECRET_KEYS"
            )
        source = "STRATUS_SECRET_KEY" if settings.secret_key else f"key file {settings.key_file}"
        raise ConfigurationError(
            f"{source} holds key {fingerprint(key)}, but this store's data is sealed with key "
            f"{recorded}: every process of a cloud needs the store's key"
        )


def recorded_fingerprint(db: Database) -> str | None:
    with db.read() as cursor:
        row = cursor.execute("SELECT fingerprint FROM stratus_secret_key WHERE id = 1").fetchone()
    return None if row is None else str(row["fingerprint"])


def _record(db: Database, mark: str) -> str:
    """Record `mark` unless a fingerprint is there already; the one recorded either way."""
    with db.transaction() as cursor:
        cursor.execute(
            "INSERT INTO stratus_secret_key (id, fingerprint, recorded_at) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            (mark, datetime.now(UTC).isoformat()),
        )
    found = recorded_fingerprint(db)
    assert found is not None
    return found


def _holds_events(db: Database) -> bool:
    table = EVENTS_TABLE[db.dialect]
    with db.read() as cursor:
        if db.dialect == "sqlite":
            exists = cursor.execute(
                "SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = %s", (table,)
            ).fetchone()
        else:
            exists = cursor.execute("SELECT to_regclass(%s) AS one", (table,)).fetchone()
            exists = exists if exists and exists["one"] else None
        if not exists:
            return False
        return cursor.execute(f"SELECT 1 AS one FROM {table} LIMIT 1").fetchone() is not None
