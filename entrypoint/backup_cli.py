"""`stratus backup DEST` and `stratus restore SRC` (entrypoint/backup.py does the work)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from entrypoint.backup import backup, restore
from stratus.settings import Settings


def add_parser(commands: Any) -> None:
    made = commands.add_parser(
        "backup",
        help="a consistent copy of the store and its key, while the server runs",
        description="Copy the installation STRATUS_DATA (or STRATUS_DATABASE_URL) names into "
        "DEST, a new or empty directory: the store, the key that seals its secrets and a "
        "manifest. Keep DEST as safe as the key: without it every sealed secret is lost.",
    )
    made.add_argument("destination", type=Path, metavar="DEST")
    put = commands.add_parser(
        "restore",
        help="put a backup in place as a fresh installation",
        description="Restore the backup in SRC into STRATUS_DATA, which must not exist or be "
        "empty (on PostgreSQL also into the backup's schema, which must be empty).",
    )
    put.add_argument("source", type=Path, metavar="SRC")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backup":
        manifest = backup(settings, args.destination)
        print(
            f"backed up {manifest['store']} store at position {manifest['position']} "
            f"(schema {manifest['migration']}) with its key into {args.destination}"
        )
        print("keep this backup as safe as the key: it holds the key to every sealed secret")
        return 0
    manifest = restore(settings, args.source)
    where = settings.data_dir if settings.postgres is None else settings.postgres.schema
    print(
        f"restored the backup of {manifest['created']} (position {manifest['position']}) "
        f"into {where}; start the server on it"
    )
    return 0
