"""`stratus snapshots take-due [--at TIME]`: one pass of the snapshot scheduler, now.

The server's relay role runs the scheduler on its own; this takes what is due at once (after an
outage, say), as of now or of the given time. It makes the same one decision per policy and due
time as the servers' schedulers, so it never takes a snapshot twice beside them.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from entrypoint.installation import open_runtime
from entrypoint.snapshot_scheduler import make_scheduler
from stratus.settings import ConfigurationError, Settings


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("snapshots", help="recurring volume snapshots")
    verbs = parser.add_subparsers(dest="verb", required=True)
    take = verbs.add_parser("take-due", help="take the snapshots policies have due, and prune")
    take.add_argument("--at", help="ISO 8601 time to take them as of (default: now; UTC if bare)")


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--at: not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace, settings: Settings) -> int:
    moment = _moment(args.at)
    runtime = open_runtime(settings, projections=[])
    try:
        taken = make_scheduler(runtime, now=lambda: moment).pass_once()
    finally:
        runtime.close()
    for policy_id, snapshot_id in taken:
        print(f"took snapshot {snapshot_id} for policy {policy_id}")
    print(f"{len(taken)} snapshot(s) taken as of {moment.isoformat()}")
    return 0
