"""`stratus usage replay|verify`: usage records rebuilt from the event log (read-only).

Replay output is sorted and carries no time of its own, so two replays of one log over the
same dates write identical bytes. A file is written beside its name and renamed into place
when complete: a replay killed midway leaves no partial file, and running it again writes
the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from api.cloudstack.usage_records import record_fields
from billing.decode import MAX_PARTITIONS
from billing.parallel import ReadOnlyLog, replay_log
from billing.replay import Replay
from billing.verify import verify
from domain.usage_periods import to_ms
from stratus.settings import Settings, Unavailable

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
    "size",
    "virtualsize",
    "issourcenat",
    "issystem",
    "networkid",
    "isdefault",
    "rawusage",
    "usage",
    "description",
)


def add_parser(commands: Any) -> None:
    usage = commands.add_parser("usage", help="usage records from the event log")
    verbs = usage.add_subparsers(dest="verb", required=True)
    again = verbs.add_parser("replay", help="rebuild usage records from the event log")
    again.add_argument("--from", dest="first", type=date.fromisoformat, help="first day")
    again.add_argument("--to", dest="last", type=date.fromisoformat, help="last day")
    again.add_argument("--out", type=Path, help="file to write (default: stdout)")
    again.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    check = verbs.add_parser("verify", help="compare the stored usage records with a fresh replay")
    for verb in (again, check):
        verb.add_argument(
            "--workers",
            type=_workers,
            help=f"processes to replay on, 1-{MAX_PARTITIONS} (default: one per CPU, "
            "on a log big enough to repay them)",
        )


def run(
    args: argparse.Namespace,
    settings: Settings,
    out: IO[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Run `usage replay` or `usage verify`; progress and the summary go to stderr."""
    log = ReadOnlyLog(settings)
    if args.verb == "verify":
        report = verify(log, progress=_progress_bar(), workers=args.workers)
        print(report.text(), file=out or sys.stdout)
        return 0 if report.equal else 1
    clock = now or datetime.now(UTC)
    partial = _partial(args.out) if args.out is not None else None  # a wrong path fails first
    try:
        result = replay_log(log, to_ms(clock), progress=_progress_bar(), workers=args.workers)
        items = _items(result, args)
        text = to_csv(items) if args.format == "csv" else to_jsonl(items)
        if partial is not None:
            partial.write_bytes(text.encode())
            os.replace(partial, args.out)
        else:
            (out or sys.stdout).write(text)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    print(summary(result, items), file=sys.stderr)
    return 0


def _workers(text: str) -> int:
    count = int(text)
    if not 1 <= count <= MAX_PARTITIONS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_PARTITIONS}")
    return count


def _items(result: Replay, args: argparse.Namespace) -> list[dict[str, Any]]:
    zone = ZoneInfo(result.calendar.settings_at(result.now)[1])
    first = last = None
    if args.first is not None:
        first = to_ms(datetime.combine(args.first, time(), tzinfo=zone))
    if args.last is not None:
        last = to_ms(datetime.combine(args.last + timedelta(days=1), time(), tzinfo=zone))
    labels = result.ledger.labels
    return [record_fields(p, head, used, labels) for p, head, used in result.records(first, last)]


def _partial(path: Path) -> Path:
    """The file a replay is written to before it is renamed to `path`, made now to know
    that it can be (a replay of a big log takes minutes)."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.touch()
    except OSError as error:
        raise Unavailable(f"cannot write {path}: {error.strerror}") from None
    return partial


def to_jsonl(items: list[dict[str, Any]]) -> str:
    return "".join(orjson.dumps(item).decode() + "\n" for item in items)


def to_csv(items: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({name: item.get(name, "") for name in COLUMNS})
    return buffer.getvalue()


def summary(result: Replay, items: list[dict[str, Any]]) -> str:
    kinds = Counter(item["usagetype"] for item in items)
    per_type = ", ".join(f"type {kind}: {kinds[kind]}" for kind in sorted(kinds)) or "none"
    minutes, zone = result.calendar.settings_at(result.now)
    return (
        f"{result.events_read} usage events read; {len(items)} records ({per_type}); "
        f"range {minutes} min, zone {zone}"
    )


def _progress_bar(stream: IO[str] | None = None) -> Callable[[int, int, int], None]:
    """A one-line bar on stderr: how far through the log, and how many events so far."""
    out = stream or sys.stderr

    def show(position: int, head: int, read: int) -> None:
        share = position / head if head else 1.0
        filled = int(share * 30)
        bar = "#" * filled + "." * (30 - filled)
        end = "\n" if position >= head else ""
        out.write(f"\r[{bar}] {share:6.1%} {read:,} usage events{end}")
        out.flush()

    return show
