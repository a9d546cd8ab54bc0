"""`stratus audit`: read the log directly (read-only): who did what, when, and how things were."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson

from audit import export, timetravel, verify
from audit.history import history
from stratus.settings import ConfigurationError, Settings, Unavailable
from stratus.store.decoding import Decoder
from stratus.store.readonly import LogSource, open_readonly

_TABLE = ("id", "time", "resource_type", "resource_id", "event", "user_id", "command", "job_id")


def add_parser(commands: Any) -> None:
    audit = commands.add_parser("audit", help="audit the event log (read-only)")
    verbs = audit.add_subparsers(dest="verb", required=True)
    log = verbs.add_parser("log", help="events, filtered; --follow tails new ones")
    log.add_argument("--resource", type=UUID, help="resource (aggregate) id")
    log.add_argument("--type", help="resource type, e.g. Host")
    log.add_argument("--account", help="acting account id")
    log.add_argument("--user", help="acting user id")
    log.add_argument("--event", help="event name, e.g. Connected or Host.Connected")
    log.add_argument("--since", type=instant, help="ISO 8601 time (UTC if no offset)")
    log.add_argument("--until", type=instant, help="ISO 8601 time (UTC if no offset)")
    log.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    log.add_argument("--follow", action="store_true", help="keep printing new events")
    history = verbs.add_parser("history", help="every event of one resource, with who and how")
    history.add_argument("resource_id", type=UUID)
    history.add_argument("--json", action="store_true")
    at = verbs.add_parser("at", help="a resource, or a zone's members, as it was at an instant")
    at.add_argument("timestamp", type=instant)
    at.add_argument("resource_id", type=UUID, nargs="?")
    at.add_argument("--zone", type=UUID, help="a zone: its hosts, VMs and routers")
    exported = verbs.add_parser(
        "export",
        help="a signed JSON-lines export of a time range",
        description="Write the events of a time range, signed with an Ed25519 key of yours. "
        "--signing-key names its PEM file: when there is none there yet, a new key is made "
        "in that file (0600) and its fingerprint printed, to publish to your auditors. "
        "Nothing is written anywhere else.",
    )
    exported.add_argument(
        "--signing-key",
        type=Path,
        required=True,
        metavar="FILE",
        help="the Ed25519 private key (PEM); made there if the file does not exist",
    )
    exported.add_argument("--since", type=instant)
    exported.add_argument("--until", type=instant)
    exported.add_argument("--output", type=Path, help="file to write (default: stdout)")
    checked = verbs.add_parser("verify-export", help="check an export's signature and chain")
    checked.add_argument("file", type=Path)
    checked.add_argument("--fingerprint", help="the signer's key fingerprint to insist on")
    verbs.add_parser("verify", help="check the hash chain over the whole log")


def instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace, settings: Settings, out: IO[str] | None = None) -> int:
    """Run one audit verb; 0 when all is well, 1 when verification finds a problem."""
    out = out or sys.stdout
    if args.verb == "verify-export":
        ok, message = export.verify_export(args.file, args.fingerprint)
        print(("OK: " if ok else "FAILED: ") + message, file=out)
        return 0 if ok else 1
    with open_readonly(settings) as source:
        if args.verb == "log":
            return _log(source, args, out)
        if args.verb == "history":
            records = history(source, args.resource_id)
            if not records:
                raise Unavailable(f"no resource {args.resource_id} in the log")
            return _print_records(iter(records), args.json, out)
        if args.verb == "at":
            return _at(source, args, out)
        if args.verb == "export":
            return _export(source, settings, args, out)
        return _verify(source, out)


def _matches(record: dict[str, Any], args: argparse.Namespace) -> bool:
    moment = datetime.fromisoformat(record["time"]) if record["time"] else None
    event = f"{record['resource_type']}.{record['event']}"
    return (
        (not args.resource or record["resource_id"] == str(args.resource))
        and (not args.type or record["resource_type"].lower() == args.type.lower())
        and (not args.account or record["account_id"] == args.account)
        and (not args.user or record["user_id"] == args.user)
        and (not args.event or args.event in (record["event"], event))
        and (args.since is None or (moment is not None and moment >= args.since))
        and (args.until is None or (moment is not None and moment <= args.until))
    )


def _log(source: LogSource, args: argparse.Namespace, out: IO[str]) -> int:
    decoder, after = Decoder(), 0
    if not args.json:
        print(_row(_TABLE), file=out)
    while True:
        for raw in source.scan(after):
            record = decoder.record(raw)
            after = raw.id
            if _matches(record, args):
                _print(record, args.json, out)
        if not args.follow:
            return 0
        out.flush()
        time.sleep(1.0)


def _print_records(records: Iterator[dict[str, Any]], as_json: bool, out: IO[str]) -> int:
    if not as_json:
        print(_row(_TABLE), file=out)
    found = 0
    for record in records:
        _print(record, as_json, out)
        found += 1
    return 0 if found else 1


def _print(record: dict[str, Any], as_json: bool, out: IO[str]) -> None:
    if as_json:
        print(orjson.dumps(record).decode(), file=out)
    else:
        print(_row(tuple(str(record.get(k) or "-") for k in _TABLE)), file=out)


def _row(cells: tuple[str, ...]) -> str:
    widths = (8, 32, 14, 36, 24, 36, 24, 36)
    return " ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _at(source: LogSource, args: argparse.Namespace, out: IO[str]) -> int:
    decoder = Decoder()
    if args.zone is not None:
        found: Any = timetravel.zone_at(source, decoder, args.zone, args.timestamp)
    elif args.resource_id is not None:
        found = timetravel.resource_at(source, decoder, args.resource_id, args.timestamp)
    else:
        raise ConfigurationError("audit at needs a RESOURCE_ID or --zone ID")
    print(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode(), file=out)
    return 0 if found is not None else 1


def _export(source: LogSource, settings: Settings, args: argparse.Namespace, out: IO[str]) -> int:
    sink = _output(args.output)  # before the key is made: a wrong path leaves nothing behind
    try:
        key, made = export.signing_key(args.signing_key)
        fingerprint = export.fingerprint(key.public_key())
        if made:
            print(f"made a new signing key {args.signing_key} ({fingerprint})", file=sys.stderr)
        count = export.write_export(source, key, sink, export.Range(args.since, args.until))
    except BaseException:
        if args.output is not None:
            sink.close()
            args.output.unlink(missing_ok=True)
        raise
    if args.output is not None:
        sink.close()
    if args.output is not None:
        print(f"exported {count} events to {args.output}", file=out)
    print(f"signed with Ed25519 key {fingerprint}", file=sys.stderr)
    return 0


def _output(path: Path | None) -> IO[bytes]:
    if path is None:
        return sys.stdout.buffer
    try:
        return path.open("wb")
    except OSError as error:
        raise Unavailable(f"cannot write {path}: {error.strerror}") from None


def _verify(source: LogSource, out: IO[str]) -> int:
    started = time.perf_counter()
    report = verify.verify(source)
    seconds = time.perf_counter() - started
    if report.ok:
        print(
            f"OK: {report.checked} events verified in {seconds:.2f} s; chain head "
            f"#{report.head_id} {report.head_link.hex()}",
            file=out,
        )
        return 0
    print(f"TAMPERED: {report.findings[0]}", file=out)
    for finding in report.findings[1:]:
        print(f"  also: {finding}", file=out)
    return 1
