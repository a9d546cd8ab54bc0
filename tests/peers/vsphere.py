"""Builds govmomi's vSphere simulator (tests/peers/vcsim/main.go) once per machine and runs it.

The build uses Debian's Go and govmomi source offline (packages `golang-go` and
`golang-github-vmware-govmomi-dev`); the binary is cached under $STRATUS_TEST_CACHE/vcsim
(default ~/.cache/stratus-test/vcsim), keyed by a hash of main.go and the Go version.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.peers.model import HostShape

SOURCE = Path(__file__).with_name("vcsim") / "main.go"
GOPATH = Path("/usr/share/gocode")
GOVMOMI = GOPATH / "src/github.com/vmware/govmomi/simulator"
APT_PACKAGES = ("golang-go", "golang-github-vmware-govmomi-dev")
_build_lock = threading.Lock()


class SimulatorUnavailable(Exception):
    """Go or the govmomi source is missing; the message says what to install."""


@dataclass(frozen=True)
class RunningSimulator:
    url: str  # http://127.0.0.1:<port>/sdk
    tmpdir: Path  # where the simulator keeps its datastores


def _cache_dir() -> Path:
    root = os.environ.get("STRATUS_TEST_CACHE") or Path.home() / ".cache" / "stratus-test"
    return Path(root) / "vcsim"


def missing_prerequisites() -> str | None:
    """Why the simulator cannot be built here, or None when it can."""
    if shutil.which("go") is None or not GOVMOMI.is_dir():
        return "the vSphere simulator needs `apt-get install " + " ".join(APT_PACKAGES) + "`"
    return None


def build() -> Path:
    """The simulator's binary, built on first use; SimulatorUnavailable without Go or govmomi."""
    reason = missing_prerequisites()
    if reason:
        raise SimulatorUnavailable(reason)
    version = subprocess.run(["go", "version"], capture_output=True, text=True, check=True).stdout
    key = hashlib.sha256(SOURCE.read_bytes() + version.encode()).hexdigest()[:16]
    binary = _cache_dir() / f"vcsim-{key}"
    with _build_lock:
        if not binary.exists():
            _compile(binary)
    return binary


def _compile(binary: Path) -> None:
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(SOURCE, Path(work) / "main.go")
        environment = {
            **os.environ,
            "GO111MODULE": "off",
            "GOPATH": str(GOPATH),
            "GOCACHE": str(binary.parent / "gocache"),
        }
        partial = binary.with_suffix(".partial")
        result = subprocess.run(
            ["go", "build", "-o", str(partial), "."],
            cwd=work,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            # A broken build is a failure to report, not a reason to skip.
            raise RuntimeError(f"go build of the vSphere simulator failed:\n{result.stderr}")
        # Renaming makes the cached binary appear whole, even to a parallel test run.
        partial.replace(binary)


@contextmanager
def running(
    shape: HostShape, username: str, password: str, *, esx: bool = False, timeout: float = 30.0
) -> Iterator[RunningSimulator]:
    """Starts the simulator on a free port of 127.0.0.1 and stops it afterwards."""
    binary = build()
    arguments = [
        str(binary), "-l", "127.0.0.1:0", "-user", username, "-pass", password,
        "-sockets", str(shape.sockets), "-cores", str(shape.cores),
        "-mhz", str(shape.mhz), "-memory", str(shape.memory_bytes),
    ]  # fmt: skip
    if esx:
        arguments.append("-esx")
    with tempfile.TemporaryDirectory(prefix="stratus-vcsim-") as tmpdir:
        environment = {**os.environ, "TMPDIR": tmpdir}
        process = subprocess.Popen(
            arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment, text=True
        )
        try:
            url = _read_url(process, timeout)
            yield RunningSimulator(url=url, tmpdir=Path(tmpdir))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _read_url(process: subprocess.Popen[str], timeout: float) -> str:
    """Waits, bounded, for the line in which the simulator announces its URL."""
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("URL="):
                found.append(line.removeprefix("URL=").strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        process.kill()
        raise RuntimeError(f"the vSphere simulator did not start within {timeout} s")
    return found[0]


def datastore_capacity(directory: Path) -> int:
    """What the simulator reports as a datastore's capacity: the size of its filesystem."""
    stat = os.statvfs(directory)
    return stat.f_blocks * stat.f_bsize
