"""`STRATUS_CPUS` holds a serving process, and every thread it runs, on the CPUs named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")


def test_a_server_given_a_cpu_runs_all_its_threads_there(tmp_path: Path) -> None:
    cpu = min(os.sched_getaffinity(0))
    server = start_server(tmp_path / "data", {"STRATUS_CPUS": str(cpu)})
    try:
        assert server.client().listZones() == {}  # serving as usual
        tasks = Path(f"/proc/{server.process.pid}/task")
        threads = list(tasks.iterdir())
        assert len(threads) > 1
        for thread in threads:
            status = (thread / "status").read_text()
            allowed = next(
                line for line in status.splitlines() if line.startswith("Cpus_allowed_list")
            )
            assert allowed.split(":")[1].strip() == str(cpu)
        assert f"running on CPU {cpu}" in server.output()
    finally:
        stop_server(server)
