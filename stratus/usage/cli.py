"""`stratus usage replay`: rebuild usage records from the event log (read-only) to a file.

Output is sorted and carries no time of its own, so two replays of one log, over the same
dates, write identical bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from stratus.auditing.source import open_readonly
from stratus.settings import Settings
from stratus.usage.replay import LogFacts, read_log, records_between, rendered

COLUMNS = (
    "startdate",
    "enddate",
    "usagetype",
    "usageid",
    "name",
    "account",
    "accountid",
    "domain",
    "domainid",
    "zoneid",
    "virtualmachineid",
    "offeringid",
    "templateid",
    "type",
    "cpunumber",
    "cpuspeed",
    "memory",
    "rawusage",
    "usage",
    "description",
)


def add_parser(commands: Any) -> None:
    usage = commands.add_parser("usage", help="usage records from the event log (read-only)")
    verbs = usage.add_subparsers(dest="verb", required=True)
    replay = verbs.add_parser("replay", help="rebuild usage records from the event log")
    replay.add_argument("--from", dest="first", type=date.fromisoformat, help="first day")
    replay.add_argument("--to", dest="last", type=date.fromisoformat, help="last day")
    replay.add_argument("--out", type=Path, help="file to write (default: stdout)")
    replay.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")


def run(
    args: argparse.Namespace,
    settings: Settings,
    out: IO[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Replay the log and write the records; progress and the summary go to stderr."""
    with open_readonly(settings) as source:
        facts = read_log(source, lambda n: print(f"read {n} events…", file=sys.stderr))
    items = _items(facts, args, now or datetime.now(UTC))
    text = to_csv(items) if args.format == "csv" else to_jsonl(items)
    if args.out is not None:
        args.out.write_bytes(text.encode())
    else:
        (out or sys.stdout).write(text)
    print(summary(facts, items), file=sys.stderr)
    return 0


def _items(facts: LogFacts, args: argparse.Namespace, now: datetime) -> list[dict[str, Any]]:
    first = args.first or facts.first_day()
    if first is None:
        return []
    last = args.last or now.astimezone(facts.zone).date()
    return rendered(records_between(facts, first, last, now), facts)


def to_jsonl(items: list[dict[str, Any]]) -> str:
    return "".join(orjson.dumps(item).decode() + "\n" for item in items)


def to_csv(items: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({name: item.get(name, "") for name in COLUMNS})
    return buffer.getvalue()


def summary(facts: LogFacts, items: list[dict[str, Any]]) -> str:
    kinds = Counter(item["usagetype"] for item in items)
    per_type = ", ".join(f"type {kind}: {kinds[kind]}" for kind in sorted(kinds)) or "none"
    return (
        f"{facts.events_read} events read, {len(facts.vm_events)} VM events; "
        f"{len(items)} records ({per_type}); range {facts.range_minutes} min, "
        f"zone {facts.zone.key}"
    )
