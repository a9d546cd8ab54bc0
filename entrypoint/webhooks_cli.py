"""`stratus webhooks add|list|remove`: the endpoints that receive the event feed over HTTP.

The signing secret is read from a file readable by its owner only (or from standard input with
`--secret-file -`), stored sealed with the installation's key, and never printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from entrypoint.installation import open_runtime
from stratus.feed import webhooks
from stratus.feed.service import status
from stratus.settings import ConfigurationError, Settings


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("webhooks", help="HTTP endpoints receiving the event feed")
    verbs = parser.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="register an endpoint")
    add.add_argument("name", help="letters, digits, '-' and '_'")
    add.add_argument("url", help="http:// or https:// URL receiving POSTs")
    add.add_argument(
        "--secret-file",
        required=True,
        help="file (mode 0600) holding the HMAC secret, at least 16 characters; - for stdin",
    )
    add.add_argument("--types", default="", help="comma-separated event types (default: all)")
    add.add_argument(
        "--from-start",
        action="store_true",
        help="deliver the whole history (default: only entries after registration)",
    )
    verbs.add_parser("list", help="registered endpoints and how far each has received")
    remove = verbs.add_parser("remove", help="unregister an endpoint")
    remove.add_argument("name")


def _secret(source: str) -> str:
    if source == "-":
        return sys.stdin.readline().strip()
    path = Path(source)
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(
                f"{path} must be readable by its owner only (mode 0600, found {mode:04o})"
            )
        return path.read_text().strip()
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}") from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    secret = _secret(args.secret_file) if args.verb == "add" else ""
    runtime = open_runtime(settings)
    try:
        if args.verb == "list":
            _print(status(runtime.db))
            return 0
        with runtime.db.transaction() as cursor:
            if args.verb == "remove":
                if not webhooks.remove(cursor, args.name):
                    raise ConfigurationError(f"no webhook named {args.name!r}")
                print(f"removed webhook {args.name}")
                return 0
            endpoint = webhooks.Endpoint(args.name, args.url, secret, webhooks.types_of(args.types))
            start = 0 if args.from_start else runtime.store.head()
            try:
                webhooks.add(cursor, endpoint, runtime.store.box.seal(secret), start_after=start)
            except webhooks.WebhookError as error:
                raise ConfigurationError(str(error)) from None
        print(f"added webhook {args.name}: entries after log sequence {start}")
        return 0
    finally:
        runtime.close()


def _print(rows: list[dict[str, object]]) -> None:
    print(f"{'name':<20} {'position':>10}  {'types':<24} url")
    for row in rows:
        types = row["event_types"] or "all"
        print(f"{row['name']!s:<20} {row['position'] or 0!s:>10}  {types!s:<24} {row['url']}")
