"""Keeping a process on the CPUs its operator gave it (`STRATUS_CPUS`).

A Stratus process runs its Python code one thread at a time (the interpreter lock), so it uses
about one CPU however many it may run on. What it may run on still matters: when its threads
hand work to each other across CPUs, every hand-off wakes the other CPU (an inter-processor
interrupt; on a virtual machine, an exit to the hypervisor) and moves the thread's memory to
that CPU's cache. With 32 API threads committing together that traffic is most of the cost:
on this project's 2-core machine a process held on one CPU recorded about twice the events per
second of the same process left to roam (`bench/write_path.py --cpus any` for the latter).

The set uses the notation of `taskset -c`: ``1``, ``0,2``, ``0-3``. It is applied when the
process starts, before it starts any thread, and every thread inherits it. Several processes on
one machine (API processes, an adapter, PostgreSQL) are best given CPUs of their own.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


class CpuSetError(ValueError):
    """A CPU list that cannot be read, or that names CPUs this process may not use."""


def parse_cpus(text: str) -> frozenset[int]:
    """The CPUs a ``taskset -c`` style list names (``0``, ``0,2``, ``1-3,6``)."""
    cpus: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise CpuSetError(f"{text!r} is not a CPU list such as 0, 0,2 or 0-3") from None
        if first < 0 or last < first:
            raise CpuSetError(f"{part!r} in {text!r} is not a CPU or an ascending range")
        cpus.update(range(first, last + 1))
    return frozenset(cpus)


def available_cpus() -> frozenset[int] | None:
    """The CPUs this process may run on, or None where the system cannot say (not Linux)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return frozenset(os.sched_getaffinity(0))


def check_cpus(cpus: frozenset[int]) -> frozenset[int]:
    """`cpus`, when this process may be held on them; otherwise a `CpuSetError` naming why."""
    allowed = available_cpus()
    if allowed is None:
        raise CpuSetError("this system cannot hold a process on chosen CPUs")
    outside = sorted(cpus - allowed)
    if outside:
        raise CpuSetError(
            f"CPU {', '.join(map(str, outside))} is not among this process's CPUs "
            f"({format_cpus(allowed)})"
        )
    return cpus


def hold_on(cpus: frozenset[int]) -> None:
    """Run the calling thread, and every thread it starts from now on, on `cpus` only."""
    os.sched_setaffinity(0, check_cpus(cpus))
    log.info("running on CPU %s", format_cpus(cpus))


def format_cpus(cpus: frozenset[int]) -> str:
    """The set back in ``taskset -c`` notation, runs folded into ranges."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][-1] + 1:
            runs[-1].append(cpu)
        else:
            runs.append([cpu])
    return ",".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)
