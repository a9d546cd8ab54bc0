"""Usage metering from domain events (pure, no I/O): CloudStack's usage types and the registry
that says which facts each event topic contributes.

Usage is read from the events themselves, never from a read model. Each event class that
matters registers an *extractor*; the extractor gets the event's fields as plain values and
tells a `Ledger` (domain/usage_ledger.py) what started or stopped being used. Adding a usage
type is one small module of extractors (domain/usage_vm.py, domain/usage_storage.py, …) that
`load_extractors` imports.

Plain fields: the event's attributes under their own names, with UUIDs as text, nested dicts
as dicts, `originator_id` as text and `at` the event's timestamp in epoch milliseconds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

if TYPE_CHECKING:
    from domain.usage_ledger import Ledger

RUNNING_VM = 1
ALLOCATED_VM = 2
IP_ADDRESS = 3
NETWORK_BYTES_SENT = 4
NETWORK_BYTES_RECEIVED = 5
VOLUME = 6
TEMPLATE = 7
ISO = 8
SNAPSHOT = 9
SECURITY_GROUP = 10
LOAD_BALANCER_POLICY = 11
PORT_FORWARDING_RULE = 12
NETWORK_OFFERING = 13
VPN_USERS = 14
VM_DISK_IO_READ = 21
VM_DISK_IO_WRITE = 22
VM_DISK_BYTES_READ = 23
VM_DISK_BYTES_WRITE = 24
VM_SNAPSHOT = 25

MS_PER_HOUR = 3_600_000
GIB = 1024**3

USAGE_TYPES: tuple[tuple[int, str], ...] = (
    (RUNNING_VM, "Running Vm Usage"),
    (ALLOCATED_VM, "Allocated Vm Usage"),
    (IP_ADDRESS, "IP Address Usage"),
    (NETWORK_BYTES_SENT, "Network Usage (Bytes Sent)"),
    (NETWORK_BYTES_RECEIVED, "Network Usage (Bytes Received)"),
    (VOLUME, "Volume Usage"),
    (TEMPLATE, "Template Usage"),
    (ISO, "ISO Usage"),
    (SNAPSHOT, "Snapshot Usage"),
    (SECURITY_GROUP, "Security Group Usage"),
    (LOAD_BALANCER_POLICY, "Load Balancer Usage"),
    (PORT_FORWARDING_RULE, "Port Forwarding Usage"),
    (NETWORK_OFFERING, "Network Offering Usage"),
    (VPN_USERS, "VPN users usage"),
    (VM_DISK_IO_READ, "VM Disk usage(I/O Read)"),
    (VM_DISK_IO_WRITE, "VM Disk usage(I/O Write)"),
    (VM_DISK_BYTES_READ, "VM Disk usage(Bytes Read)"),
    (VM_DISK_BYTES_WRITE, "VM Disk usage(Bytes Write)"),
    (VM_SNAPSHOT, "VM Snapshot storage usage"),
)

# Types measured in bytes (a sum of amounts); every other type is measured in time.
BYTE_TYPES = frozenset(
    {
        NETWORK_BYTES_SENT,
        NETWORK_BYTES_RECEIVED,
        VM_DISK_IO_READ,
        VM_DISK_IO_WRITE,
        VM_DISK_BYTES_READ,
        VM_DISK_BYTES_WRITE,
    }
)

Extractor = Callable[["Ledger", Mapping[str, Any]], None]

# Event topic → what that event contributes. Filled by the modules in EXTRACTOR_MODULES.
EXTRACTORS: dict[str, Extractor] = {}
# The types some registered extractor produces (listUsageTypes lists all of them anyway).
PRODUCED: set[int] = set()
# Topics whose every extractor touches only the event's own resource (its originator): the
# spans it opens or ends are that resource's, and what it looks up in the ledger is too. A
# replay split into partitions of resources reads such an event in its resource's partition
# only; every other topic is read by every partition.
BY_ORIGINATOR: dict[str, bool] = {}
# Topics whose extractors read only some of the event's fields (`originator_id` and `at` are
# always there): the rest need not be decoded. A topic missing here needs all of them.
READS: dict[str, frozenset[str]] = {}

# Modules whose import registers extractors, in the order their facts apply when two of them
# read one topic. A module whose aggregates do not exist (yet) is skipped.
EXTRACTOR_MODULES = (
    "domain.usage_settings",
    "domain.usage_vm",
    "domain.usage_storage",
    "domain.usage_network",
    "domain.usage_rules",
    "domain.usage_snapshots",
    "domain.usage_access",
    "domain.usage_statistics",
)


def facts_of(
    *event_classes: type,
    produces: tuple[int, ...] = (),
    by_originator: bool = False,
    reads: tuple[str, ...] | None = None,
) -> Callable[[Extractor], Extractor]:
    """Register `extractor` as what these event classes contribute to usage (`by_originator`:
    it touches the event's own resource only, see BY_ORIGINATOR; `reads`: the only fields it
    reads besides `originator_id` and `at`, see READS)."""

    def register(extractor: Extractor) -> Extractor:
        for event_class in event_classes:
            topic = get_topic(event_class)
            earlier = EXTRACTORS.get(topic)
            EXTRACTORS[topic] = extractor if earlier is None else _both(earlier, extractor)
            BY_ORIGINATOR[topic] = by_originator and BY_ORIGINATOR.get(topic, True)
            # None: an extractor registered earlier reads every field.
            declared = frozenset() if earlier is None else READS.get(topic)
            READS.pop(topic, None)
            if reads is not None and declared is not None:
                READS[topic] = declared | set(reads)
        PRODUCED.update(produces)
        return extractor

    return register


def _both(first: Extractor, then: Extractor) -> Extractor:
    """Two modules' facts from one topic (a VM's stop ends its running time and its NICs')."""

    def extract(ledger: Ledger, fields: Mapping[str, Any]) -> None:
        first(ledger, fields)
        then(ledger, fields)

    return extract


def load_extractors() -> dict[str, Extractor]:
    """Every registered extractor, by topic (a module whose aggregates are missing is skipped)."""
    for module in EXTRACTOR_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return EXTRACTORS


def hours_text(hours: Decimal) -> str:
    """Hours as Java's DecimalFormat("#.######") prints them (half-even, no leading zero).

    The usage server's pattern has no mandatory integer digit, so half an hour is ".5": the
    same string CloudStack clients already parse.
    """
    rounded = hours.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    text = format(rounded, "f").rstrip("0").rstrip(".")
    if text.startswith("0."):
        text = text[1:]
    return text or "0"


def raw_usage(usage_type: int, quantity: int) -> str:
    """The record's raw usage: hours for time-based types, bytes for the byte counters."""
    if usage_type in BYTE_TYPES:
        return str(quantity)
    return hours_text(Decimal(quantity) / MS_PER_HOUR)
