"""CPU lists in `taskset -c` notation, and holding a process on them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stratus.cpus import CpuSetError, format_cpus, parse_cpus


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("0", {0}), ("0,2", {0, 2}), ("1-3", {1, 2, 3}), (" 0-1, 4 ", {0, 1, 4}), ("2,2", {2})],
)
def test_lists_read_as_taskset_reads_them(text: str, cpus: set[int]) -> None:
    assert parse_cpus(text) == cpus


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "3-1", "1,,2", "0x1"])
def test_what_is_not_a_cpu_list_is_refused(text: str) -> None:
    with pytest.raises(CpuSetError):
        parse_cpus(text)


def test_lists_are_written_back_with_ranges_folded() -> None:
    assert format_cpus(frozenset({0, 1, 2, 5, 7, 8})) == "0-2,5,7-8"
    assert format_cpus(frozenset({3})) == "3"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")
def test_a_held_process_and_the_threads_it_starts_run_on_its_cpus_only() -> None:
    first = min(os.sched_getaffinity(0))
    script = (
        "import os, threading\n"
        "from stratus.cpus import hold_on\n"
        f"hold_on(frozenset({{{first}}}))\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))\n"
        "t.start(); t.join()\n"
        "print(sorted(os.sched_getaffinity(0)), sorted(seen[0]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"[{first}] [{first}]"
