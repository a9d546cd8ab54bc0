"""A real Stratus server in a subprocess (`stratus serve`), started and stopped for real clients."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
from cs import CloudStack

from tests.conftest import OFFLINE_MIRROR, TEST_KEY


@dataclass
class Server:
    url: str
    data_dir: Path
    admin: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]

    def client(self, key: str | None = None, secret: str | None = None, **options) -> CloudStack:
        return CloudStack(
            endpoint=self.url,
            key=key or self.admin["apikey"],
            secret=secret or self.admin["secretkey"],
            poll_interval=0.05,
            job_timeout=30,
            **options,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, env_extra: dict[str, str], role: str = "all") -> Server:
    """Start `stratus serve` on a port the system picks, and learn it from the server's log."""
    env = dict(
        os.environ,
        STRATUS_DATA=str(data_dir),
        STRATUS_SECRET_KEY=TEST_KEY,
        STRATUS_BUILTIN_IMAGE_MIRROR=OFFLINE_MIRROR,
    )
    env.update(env_extra)
    log = data_dir.parent / f"server-{uuid.uuid4().hex[:8]}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoint.cli", "serve", "--port", "0", "--role", role],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    admin_file = data_dir / "admin.json"
    deadline = time.monotonic() + 120  # a loaded shared machine starts a server slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        port = _bound_port(log)
        if port and admin_file.exists():
            admin = orjson.loads(admin_file.read_bytes())
            url = f"http://127.0.0.1:{port}/client/api"
            return Server(url, data_dir, admin, process, log, dict(env_extra))
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def _bound_port(log: Path) -> int | None:
    found = re.search(
        r"API listening on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace")
    )
    return int(found.group(1)) if found else None


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
