"""Statistics read from hypervisors: a router's network byte counters and a VM's disk counters.

Each router and each VM has one statistics aggregate whose id derives from the resource's. It
records a reading only when a counter moved and only when the reading is newer than the last
one, so an idle resource or a redelivered result adds nothing to the log. Readings are kept
apart from the router and VM aggregates: those are loaded by every command on them, and a
reading every few minutes would lengthen their histories and race their commands.

Counters are cumulative, as the router or the hypervisor reports them, within an *epoch*: a
short text the adapter reports with them that changes whenever they start again from zero (a
boot of the router or VM, or a restarted adapter that keeps running totals). `counter_delta`
is the arithmetic the usage extractors use.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("2b7e51a4-93c6-4d0f-8e1a-5c4f7d2e9b30")

# The four counters of one volume, in the order a disk reading lists them.
DISK_COUNTERS = ("io_read", "io_write", "bytes_read", "bytes_write")


def statistics_id(resource_id: UUID) -> UUID:
    """The statistics aggregate of a router or a VM."""
    return uuid5(_NAMESPACE, str(resource_id))


def counter_delta(previous: int | None, current: int) -> int:
    """What a counter counted since the previous reading of the same epoch (None: there is
    none). A counter lower than before was reset all the same: all of it is new, as CloudStack
    counts it."""
    if previous is None or current < previous:
        return current
    return current - previous


def _checked(values: list[int] | tuple[int, ...], size: int) -> list[int]:
    counters = [int(value) for value in values]
    if len(counters) != size or any(value < 0 for value in counters):
        raise InvalidParameter(f"A reading needs {size} counters of zero or more")
    return counters


class NetworkStatistics(Aggregate):
    """The last reading of a router's counters of its guest network."""

    @event("Created")
    def __init__(self, id: UUID, router_id: UUID) -> None:
        self.router_id = router_id
        self.read_at_ms: int | None = None
        self.last: tuple[str, str, int, int] | None = None  # network, epoch, sent, received

    def record(
        self, network_id: UUID, epoch: str, sent: int, received: int, read_at_ms: int
    ) -> bool:
        """Record a reading taken at `read_at_ms`; False when it is older or the same."""
        sent, received = _checked([sent, received], 2)
        if self.read_at_ms is not None and read_at_ms <= self.read_at_ms:
            return False
        if self.last == (str(network_id), epoch, sent, received):
            return False
        self._read(
            router_id=self.router_id,
            network_id=network_id,
            epoch=epoch,
            sent=sent,
            received=received,
            read_at_ms=read_at_ms,
        )
        return True

    @event("Read")
    def _read(
        self,
        router_id: UUID,
        network_id: UUID,
        epoch: str,
        sent: int,
        received: int,
        read_at_ms: int,
    ) -> None:
        """Bytes the network's guests sent and received through the router in `epoch`."""
        self.read_at_ms = read_at_ms
        self.last = (str(network_id), epoch, sent, received)


class DiskStatistics(Aggregate):
    """The last reading of each volume of a VM: I/O operations and bytes, read and written."""

    @event("Created")
    def __init__(self, id: UUID, vm_id: UUID) -> None:
        self.vm_id = vm_id
        self.read_at_ms: int | None = None
        self.epoch: str | None = None
        self.last: dict[str, list[int]] = {}

    def record(self, volumes: dict[str, list[int]], epoch: str, read_at_ms: int) -> bool:
        """Record the volumes whose counters moved (all of them in a new epoch); False when
        none did or the reading is older."""
        if self.read_at_ms is not None and read_at_ms <= self.read_at_ms:
            return False
        last = self.last if epoch == self.epoch else {}
        moved = {
            str(volume_id): counters
            for volume_id, values in sorted(volumes.items())
            if (counters := _checked(values, len(DISK_COUNTERS))) != last.get(str(volume_id))
        }
        if not moved:
            return False
        self._read(vm_id=self.vm_id, volumes=moved, epoch=epoch, read_at_ms=read_at_ms)
        return True

    @event("Read")
    def _read(
        self, vm_id: UUID, volumes: dict[str, list[int]], epoch: str, read_at_ms: int
    ) -> None:
        """Counters of the volumes that moved, by volume id, in `DISK_COUNTERS` order."""
        if epoch != self.epoch:
            self.epoch, self.last = epoch, {}
        self.read_at_ms = read_at_ms
        self.last.update(volumes)
