"""`stratus rekey`: make a new secret key the store's current one, retiring the old one.

Run with the new key current (STRATUS_SECRET_KEY or the key file) and the store's current key
in STRATUS_RETIRED_SECRET_KEYS. Nothing sealed is rewritten: what the old key sealed stays
sealed with it, so every process keeps it among its retired keys.
"""

from __future__ import annotations

import argparse

from stratus.migrate import migrate
from stratus.runtime import open_db, store_exists
from stratus.settings import Settings, Unavailable
from stratus.store.data_key import rekey


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    commands.add_parser(
        "rekey",
        help="make STRATUS_SECRET_KEY the store's current key, retiring the store's current key "
        "(given in STRATUS_RETIRED_SECRET_KEYS)",
    )


def run(settings: Settings) -> int:
    if not store_exists(settings):
        where = settings.sqlite_path if settings.embedded else "the configured PostgreSQL schema"
        raise Unavailable(f"no store at {where}: nothing to rekey (is STRATUS_DATA right?)")
    db = open_db(settings)
    try:
        migrate(db, settings.postgres.schema if settings.postgres else None)
        retired, current = rekey(settings, db)
    finally:
        db.close()
    print(f"key {retired} retired; the store's current key is now {current}")
    print(
        "restart every process with the new key and the retired one in STRATUS_RETIRED_SECRET_KEYS"
    )
    return 0
