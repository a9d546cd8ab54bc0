"""The fault campaign: every fault under concurrent deploys, then the invariants, as a table.

Run: .venv/bin/python bench/faults.py [--clients 16] [--deploys 150] [--hold 60] [--only NAME]

Each fault gets a fresh cloud of real processes driven through the HTTP API by `--clients`
threads deploying VMs onto three simulator hosts: the all-in-one embedded server (SQLite,
in-process bus) or the distributed roles (`api`, `projections`, `relay`, a simulator adapter).
A third of `--deploys` are answered before the fault, a third while it is in effect, a third
after recovery. Faults: kill -9 of the embedded server and of each distributed role and the
adapter (restarted after their third), a PostgreSQL restart, a NATS restart (stopped by its
pid, started again on the same store), and a slow host (every action on one host held 12 s,
longer than the stuck-job timeout the clouds run with, `--job-timeout`).

Servers: the campaign never touches the machine's shared PostgreSQL or NATS. It starts its own,
on free ports in temporary directories: a PostgreSQL cluster made by `initdb` from the newest
`/usr/lib/postgresql/*/bin` (as the `postgres` user when run as root), restarted with
`pg_ctl restart -m fast` (what `pg_ctlcluster … restart` does), and `nats-server -js` with its
own store directory. Both are removed at the end.

The columns: answers by class (ok, refused: a CloudStack refusal, outage: a retryable answer to
the fault itself, other: anything else), accepted jobs, then the figures that must be 0: jobs
not terminal within the hold (late), unknown to the cloud (lost), deploys done twice (dup),
ghost VMs (running on the simulator, not in the cloud), VMs the cloud runs that the simulator
does not (missing), orphan jobs/VMs, leaked host memory (MiB), read models that differ from a
rebuild, and `stratus audit verify`. `unacked` counts VMs made for a deploy whose client was
not told so (no answer, or an error). Each broken invariant is listed under the table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.faults.campaign import FAULTS, Figures, Settings, run_fault, table
from tests.support.faults.servers import Nats, Postgres


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--deploys", type=int, default=150, help="deploy answers per fault")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds jobs have to finish")
    parser.add_argument("--job-timeout", type=float, default=8.0)
    parser.add_argument("--only", action="append", help="run only faults whose name has this")
    args = parser.parse_args()
    settings = Settings(args.clients, args.deploys, args.hold, args.job_timeout)
    chosen = [f for f in FAULTS if not args.only or any(o in f.name for o in args.only)]
    servers = None
    if any(f.mode == "distributed" for f in chosen):
        servers = (Postgres().start(), Nats().start())
    rows: list[Figures] = []
    try:
        for fault in chosen:
            started = time.monotonic()
            rows.append(run_fault(fault, settings, servers))
            print(f"{fault.name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        for server in servers or ():
            server.stop()
    print(table(rows))
    broken = 0
    for row in rows:
        for line in row.failures() + row.world.notes + row.other_answers[:5]:
            print(f"  {row.fault}: {line}")
        broken += bool(row.failures())
    print(f"\n{len(rows) - broken} of {len(rows)} faults held every invariant")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
