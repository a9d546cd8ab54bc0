"""A Stratus cloud of real processes for the campaign: the all-in-one embedded server (SQLite,
in-process bus, the simulator in the same process), or the distributed roles (`api`,
`projections`, `relay` and a simulator adapter on PostgreSQL and NATS). The API listens on one
port for the cloud's whole life, so clients keep their URL across a killed and restarted `api`.
Simulated hosts keep their VMs in `hypervisor/` (``STRATUS_SIMULATOR_STATE``): the hypervisor
outlives any Stratus process, as a real one does.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from tests.conftest import OFFLINE_MIRROR, TEST_KEY
from tests.support.faults.servers import free_port, wait_for

EMBEDDED_ROLES = ("all",)
DISTRIBUTED_ROLES = ("api", "projections", "relay", "adapter")


@dataclass
class Cloud:
    """The processes of one cloud; `kill` one role with SIGKILL and `start_role` it again."""

    root: Path
    env: dict[str, str]
    roles: tuple[str, ...]
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/api"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def hypervisor_dir(self) -> Path:
        return self.root / "hypervisor"

    @property
    def admin(self) -> dict[str, str]:
        return orjson.loads((self.data_dir / "admin.json").read_bytes())

    @property
    def process_env(self) -> dict[str, str]:
        return dict(
            os.environ,
            STRATUS_DATA=str(self.data_dir),
            STRATUS_SECRET_KEY=TEST_KEY,
            STRATUS_BUILTIN_IMAGE_MIRROR=OFFLINE_MIRROR,
            STRATUS_SIMULATOR_STATE=str(self.hypervisor_dir),
            **self.env,
        )

    def start(self) -> Cloud:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for role in self.roles:
            self.start_role(role)
        if "projections" in self.roles:
            wait_for(self.caught_up, 90, "the projections process caught up", interval=0.5)
        return self

    def caught_up(self) -> bool:
        """Every read model has a position and none lags the log (`stratus projections status`)."""
        done = self.cli("projections", "status", timeout=60)
        rows = [row.split() for row in done.stdout.splitlines()[1:] if row.strip()]
        return (
            done.returncode == 0
            and bool(rows)
            and all(int(row[1]) > 0 and int(row[3]) == 0 for row in rows)
        )

    def start_role(self, role: str) -> None:
        argv = ["adapter", "simulator"] if role == "adapter" else ["serve", "--role", role]
        if role in ("all", "api"):
            argv += ["--port", str(self.port)]
        with (self.root / f"{role}.log").open("ab") as sink:
            self.processes[role] = subprocess.Popen(
                [sys.executable, "-m", "entrypoint.cli", *argv],
                env=self.process_env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        if role in ("all", "api"):
            wait_for(self.answers, 90, f"the {role} process answering HTTP", interval=0.2)

    def answers(self) -> bool:
        for role, process in self.processes.items():
            if process.poll() is not None:
                log = (self.root / f"{role}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {role} process exited:\n{log}")
        try:
            httpx.get(self.url, timeout=2)
        except httpx.HTTPError:
            return False
        return (self.data_dir / "admin.json").exists()

    def busy_hosts(self) -> set[str]:
        """Simulated hosts acting right now: an action holds its host's file lock throughout."""
        busy = set()
        for path in self.hypervisor_dir.glob("*.lock"):
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy.add(path.stem)
            finally:
                os.close(fd)  # closing the descriptor lets the lock go
        return busy

    def exited(self) -> list[str]:
        """The roles whose process ended without being told to: each one a crash."""
        return [role for role, process in self.processes.items() if process.poll() is not None]

    def kill(self, role: str) -> None:
        """kill -9: no clean-up of any kind runs in the process."""
        process = self.processes.pop(role)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        for role in reversed(list(self.processes)):
            process = self.processes.pop(role)
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A `stratus` operator command against this cloud (its exit code is the caller's)."""
        return subprocess.run(
            [sys.executable, "-m", "entrypoint.cli", *args],
            env=self.process_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def embedded_cloud(root: Path) -> Cloud:
    return Cloud(root, {}, EMBEDDED_ROLES)


def distributed_cloud(root: Path, postgres_url: str, nats_url: str) -> Cloud:
    tag = uuid.uuid4().hex[:10]
    env = {
        "STRATUS_DATABASE_URL": f"{postgres_url}?schema=f_{tag}",
        "STRATUS_NATS_URL": nats_url,
        "STRATUS_BUS_PREFIX": f"f{tag}",
        "STRATUS_NATS_STREAM": f"F{tag}",
    }
    return Cloud(root, env, DISTRIBUTED_ROLES)
