"""The README's commands and the production guide's steps, run as written from a fresh clone.

The repository is cloned into a temporary directory (what is committed, as a new user gets it)
and the commands run there, with the clone's code. Installing into a new virtual environment is
what the README says first; here the clone's `.venv` is the one running the tests (set
STRATUS_TEST_INSTALL=1 to run the README's install line too, which needs the package index).
Then the README's `stratus serve` and its `cs` example; and the guide's distributed start on
PostgreSQL and NATS, one process per role in a directory of its own, sharing the key through
the environment file, with a user registering keys and deploying a VM through the API.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
import pytest
from cs import CloudStack

from stratus.settings import parse_database_url
from tests.conftest import postgres_url
from tests.e2e.servers import free_port
from tests.e2e.test_distributed import _drop_stream
from tests.e2e.test_security_groups_vpn import _basic_place
from tests.e2e.test_vms import _host
from tests.support.waiting import wait_until

REPOSITORY = Path(__file__).resolve().parents[2]
GUIDE_MARK = "<!-- run by tests/e2e/test_readme_and_guide.py -->"


@dataclass
class Clone:
    root: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A user's shell in the clone: the venv's bin first, none of the tests' settings."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
        base.update(
            HOME=str(self.home),
            PATH=f"{self.root / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=str(self.root),
        )
        return {**base, **extra}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Clone:
    if not (REPOSITORY / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    where = tmp_path_factory.mktemp("clone")
    root = where / "stratus"
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(root)], check=True)
    home = where / "home"
    home.mkdir()
    return Clone(root, home)


def _bash_blocks(markdown: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", markdown, flags=re.S)


def _install(clone: Clone, steps: list[str]) -> None:
    """The README's install steps, or the running venv in their place."""
    for step in steps:
        assert step.startswith("python3 -m venv") or "pip install" in step, step
    if os.environ.get("STRATUS_TEST_INSTALL") == "1":
        for step in steps:
            subprocess.run(step, shell=True, cwd=clone.root, env=clone.env(), check=True)
    else:
        (clone.root / ".venv").symlink_to(Path(sys.prefix))


def _launch(command: list[str], clone: Clone, cwd: Path, log: Path, **env: str) -> subprocess.Popen:
    """A command of the docs, in a session of its own so it ends with everything it started."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=clone.env(**env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _end(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _listening(log: Path, admin_file: Path, process: subprocess.Popen) -> dict[str, str]:
    def started() -> dict[str, str] | None:
        assert process.poll() is None, log.read_text(errors="replace")
        text = log.read_text(errors="replace")
        if "API listening on" in text and admin_file.exists():
            return orjson.loads(admin_file.read_bytes())
        return None

    return wait_until(started, timeout=120, what="the API to listen")


@pytest.fixture(scope="module")
def installed(clone: Clone) -> tuple[Clone, str]:
    """The clone installed as the README's first command says; its serve step is returned."""
    first = _bash_blocks((clone.root / "README.md").read_text())[0].strip()
    steps = [step.strip() for step in first.split("&&")]
    assert steps[-1].endswith("stratus serve"), steps
    _install(clone, steps[:-1])
    return clone, steps[-1]


def test_the_readme_serve_command_cs_example_and_backup_work_from_a_fresh_clone(
    installed: tuple[Clone, str], tmp_path: Path
) -> None:
    clone, serve = installed
    port = free_port()  # the README's --port: 8080 may be taken on a shared machine
    log = tmp_path / "serve.log"
    server = _launch([*shlex.split(serve), "--port", str(port)], clone, clone.root, log)
    try:
        admin = _listening(log, clone.root / "stratus-data" / "admin.json", server)
        assert admin["url"] == f"http://127.0.0.1:{port}/client/api"
        readme = (clone.root / "README.md").read_text()
        example = next(b for b in _bash_blocks(readme) if "cloudstack.ini" in b)
        if os.environ.get("STRATUS_TEST_INSTALL") != "1":  # the venv in use has its clients
            example = "\n".join(line for line in example.splitlines() if "pip install" not in line)
        done = subprocess.run(
            ["bash", "-e", "-c", example],
            cwd=clone.root,
            env=clone.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        accounts = orjson.loads(done.stdout)["account"]
        assert [a["name"] for a in accounts] == ["admin"]
        assert admin["secretkey"] not in log.read_text()

        backups = next(b for b in _bash_blocks(readme) if "stratus backup" in b)
        done = subprocess.run(
            ["bash", "-e", "-c", backups.replace("/backups", str(tmp_path / "backups"))],
            cwd=clone.root,
            env=clone.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert (clone.root / "restored" / "stratus.db").is_file()
        assert "stratus-api@.service" in done.stdout
    finally:
        _end(server)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A schema and a stream of this test's own on the machine's PostgreSQL and NATS."""
    url, nats_url = postgres_url(), os.environ.get("STRATUS_TEST_NATS_URL")
    if not url or not nats_url:
        pytest.skip("needs STRATUS_TEST_POSTGRES_URL and STRATUS_TEST_NATS_URL")
    tag = uuid.uuid4().hex[:10]
    yield {
        "STRATUS_DATABASE_URL": f"{url}?schema=guide_{tag}",
        "STRATUS_NATS_URL": nats_url,
        "STRATUS_BUS_PREFIX": f"guide{tag}",
        "STRATUS_NATS_STREAM": f"GUIDE{tag}",
    }
    with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "guide_{tag}" CASCADE')
    for stream in (f"GUIDE{tag}", f"GUIDE{tag}_EVENTS"):  # the bus's, and the event feed's
        _drop_stream(nats_url, stream)


def _guide_key(guide: str, clone: Clone) -> str:
    """The key made as the guide says, once for the whole cloud."""
    line = next(line for line in guide.splitlines() if line.startswith("openssl rand"))
    command = line.split("#")[0]
    made = subprocess.run(command, shell=True, env=clone.env(), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_the_guide_distributed_start_serves_a_user_and_deploys_a_vm(
    installed: tuple[Clone, str], services: dict[str, str], tmp_path: Path
) -> None:
    clone, _ = installed
    guide = (clone.root / "docs" / "production.md").read_text()
    steps = guide.split(GUIDE_MARK, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    env_file = tmp_path / "etc" / "stratus.env"
    env_file.parent.mkdir()
    settings = {**services, "STRATUS_SECRET_KEY": _guide_key(guide, clone)}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    env_file.chmod(0o600)
    port = free_port()
    script = (
        steps.replace("/etc/stratus/stratus.env", str(env_file))
        .replace("/var/lib/stratus", str(tmp_path / "var"))
        .replace("--port 8080", f"--port {port}")
    )
    log = tmp_path / "cloud.log"
    cloud = _launch(["bash", "-e", "-c", script + "wait\n"], clone, tmp_path, log)
    try:
        admin_keys = _listening(log, tmp_path / "var" / "api-8080" / "admin.json", cloud)
        url = f"http://127.0.0.1:{port}/client/api"
        admin = CloudStack(
            endpoint=url,
            key=admin_keys["apikey"],
            secret=admin_keys["secretkey"],
            poll_interval=0.1,
            job_timeout=120,
            timeout=120,
        )
        account = admin.createAccount(
            accounttype=0,
            username="guide-user",
            password=uuid.uuid4().hex,
            email="guide@example.org",
            firstname="Guide",
            lastname="User",
        )["account"]
        keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        user = CloudStack(
            endpoint=url,
            key=keys["apikey"],
            secret=keys["secretkey"],
            poll_interval=0.1,
            job_timeout=120,
            timeout=120,
        )
        assert [a["name"] for a in user.listAccounts()["account"]] == ["guide-user"]
        place = _basic_place(admin)
        _host(admin, place, "guide-h1", cores=8, memory=8)
        vm = user.deployVirtualMachine(
            zoneid=place.zone,
            serviceofferingid=place.small["id"],
            templateid=place.template,
            fetch_result=True,
        )["virtualmachine"]
        assert vm["state"] == "Running" and vm["account"] == "guide-user"
        output = log.read_text(errors="replace")
        assert "Traceback" not in output, output
        assert settings["STRATUS_SECRET_KEY"] not in output and keys["secretkey"] not in output
    finally:
        _end(cloud)
