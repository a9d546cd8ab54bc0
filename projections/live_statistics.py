"""The latest statistics shown in list answers: each running VM's disk counters and the bytes
each router moved for its account. Kept from the statistics aggregates' readings
(`domain/statistics.py`); usage bills from the same readings through the ledger, not from here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.statistics import DISK_COUNTERS, DiskStatistics, NetworkStatistics, counter_delta
from domain.vm import VirtualMachine
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

DISK: Any = DiskStatistics  # events made by the library's decorator: type checkers cannot see them
NETWORK: Any = NetworkStatistics
VM: Any = VirtualMachine


class LiveStatisticsProjection(Projection):
    """Keeps `vm_disk_figures` (a VM's volumes in its current run) and `router_traffic`."""

    name = "live_statistics"
    summary = "latest disk counters of VMs, bytes moved by routers"
    tables = ("vm_disk_figures", "router_traffic")

    @on(DISK.Read)
    def disk_read(self, e: Any, c: Cursor, t: Tables) -> None:
        vm_id = str(e.vm_id)
        # A new epoch (the VM started again) starts every counter again from zero.
        c.execute(
            f"DELETE FROM {t.vm_disk_figures} WHERE vm_id = %s AND epoch <> %s", (vm_id, e.epoch)
        )
        for volume_id, counters in e.volumes.items():
            c.execute(
                f"INSERT INTO {t.vm_disk_figures} (vm_id, volume_id, epoch, io_read, io_write, "
                "bytes_read, bytes_write) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (vm_id, volume_id) DO UPDATE SET epoch = excluded.epoch, "
                "io_read = excluded.io_read, io_write = excluded.io_write, "
                "bytes_read = excluded.bytes_read, bytes_write = excluded.bytes_write",
                (vm_id, str(volume_id), e.epoch, *(int(n) for n in counters)),
            )

    @on(VM.Expunged)
    def vm_gone(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.vm_disk_figures} WHERE vm_id = %s", (str(e.originator_id),))

    @on(NETWORK.Read)
    def network_read(self, e: Any, c: Cursor, t: Tables) -> None:
        router_id = str(e.router_id)
        last = c.execute(
            f"SELECT epoch, last_sent, last_received FROM {t.router_traffic} WHERE router_id = %s",
            (router_id,),
        ).fetchone()
        same_run = last is not None and last["epoch"] == e.epoch
        sent = counter_delta(int(last["last_sent"]) if same_run else None, int(e.sent))
        received = counter_delta(int(last["last_received"]) if same_run else None, int(e.received))
        c.execute(
            f"INSERT INTO {t.router_traffic} (router_id, network_id, epoch, last_sent, "
            "last_received, total_sent, total_received) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (router_id) DO UPDATE SET network_id = excluded.network_id, "
            "epoch = excluded.epoch, last_sent = excluded.last_sent, "
            "last_received = excluded.last_received, "
            f"total_sent = {t.router_traffic}.total_sent + excluded.total_sent, "
            f"total_received = {t.router_traffic}.total_received + excluded.total_received",
            (router_id, str(e.network_id), e.epoch, int(e.sent), int(e.received), sent, received),
        )


def disk_figures(cursor: Cursor, vm_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """The latest disk counters of these VMs, summed over their volumes, by VM id: the keys of
    `DISK_COUNTERS`. A VM never read has none."""
    if not vm_ids:
        return {}
    among, params = in_list(cursor, "vm_id", list(vm_ids))
    sums = ", ".join(f"sum({name}) AS {name}" for name in DISK_COUNTERS)
    rows = cursor.execute(
        f"SELECT vm_id, {sums} FROM vm_disk_figures WHERE {among} GROUP BY vm_id", params
    ).fetchall()
    return {row["vm_id"]: {name: int(row[name]) for name in DISK_COUNTERS} for row in rows}


def account_traffic(cursor: Cursor, account_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Bytes sent and received by these accounts' routers (a router is its guest network's
    owner's, as usage charges it), by account id. An account none of whose routers was ever
    read has none."""
    if not account_ids:
        return {}
    among, params = in_list(cursor, "s.account_id", list(account_ids))
    rows = cursor.execute(
        "SELECT s.account_id, sum(r.total_sent) AS sent, sum(r.total_received) AS received "
        "FROM router_traffic AS r JOIN system_vms AS s ON s.id = r.router_id "
        f"WHERE {among} GROUP BY s.account_id",
        params,
    ).fetchall()
    return {row["account_id"]: (int(row["sent"]), int(row["received"])) for row in rows}


READ_MODELS = (LiveStatisticsProjection,)
