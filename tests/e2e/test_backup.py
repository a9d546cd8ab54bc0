"""`stratus backup` of a running cloud and `stratus restore` into a fresh installation.

A backup taken while clients write restores into a fresh data directory (on PostgreSQL, a fresh
database) whose log is the original's up to the backup's position, whose read models equal the
original's row for row, and whose log verifies; a server started on it answers the same
tenants with the same keys.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg

from entrypoint.installation import open_runtime
from projections.listed import KEPT_COLUMN
from stratus.settings import Settings, parse_database_url
from tests.conftest import TEST_KEY, postgres_url
from tests.e2e.factories import make_tenant
from tests.e2e.servers import Server, start_server, stop_server
from tests.e2e.test_security_groups_vpn import _basic_place
from tests.e2e.test_vms import _host


def _stratus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entrypoint.cli", *args],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(server: Server) -> dict[str, str]:
    return {**server.env, "STRATUS_DATA": str(server.data_dir), "STRATUS_SECRET_KEY": TEST_KEY}


@contextmanager
def _fresh_target(server: Server, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Where a restore goes: a new data directory, and on PostgreSQL a new database too."""
    env = {"STRATUS_DATA": str(tmp_path / "restored" / "data")}
    url = server.env.get("STRATUS_DATABASE_URL")
    if url is None:
        yield env
        return
    base = parse_database_url(postgres_url() or "")
    database = f"restore_{uuid.uuid4().hex[:10]}"
    schema = url.partition("?schema=")[2]
    with psycopg.connect(base.conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        host = f"{base.user}@{base.host}:{base.port}"
        yield {**env, "STRATUS_DATABASE_URL": f"postgresql://{host}/{database}?schema={schema}"}
    finally:
        with psycopg.connect(base.conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _read_models(env: dict[str, str]) -> dict[str, list[Any]]:
    """Every read model's rows and position (the API's kept JSON, a cache the API fills as it
    lists, and when a position last moved are left out), once each has read the whole log: a
    server stopped while its runner was between two read models has left the last events to
    the next start."""
    runtime = open_runtime(Settings.from_env(env), migrate_now=False)
    try:
        runtime.runner.catch_up()
        tables = [t for p in runtime.runner.projections.values() for t in p.tables]
        with runtime.db.read() as cursor:
            rows = {
                table: sorted(
                    (
                        tuple(sorted((k, v) for k, v in dict(row).items() if k != KEPT_COLUMN))
                        for row in cursor.execute(f"SELECT * FROM {table}").fetchall()
                    ),
                    key=repr,
                )
                for table in tables
            }
            positions = cursor.execute("SELECT name, position FROM projection_positions").fetchall()
            rows["projection_positions"] = sorted(tuple(dict(r).items()) for r in positions)
        return rows
    finally:
        runtime.close()


def _log(env: dict[str, str]) -> list[tuple[int, str, int, bytes]]:
    from stratus.store.readonly import open_readonly

    with open_readonly(Settings.from_env(env)) as source:
        return [(e.id, str(e.originator_id), e.version, e.state) for e in source.scan()]


def test_a_backup_of_a_running_cloud_restores_every_read_model_and_its_keys(
    server: Server, tmp_path: Path
) -> None:
    admin = server.client(timeout=120)
    place = _basic_place(admin)
    _host(admin, place, "bk1", cores=16, memory=16)
    tenant = make_tenant(server, admin)
    tenant.client.createSSHKeyPair(name="backup-pair")
    vm = tenant.client.deployVirtualMachine(
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        fetch_result=True,
    )["virtualmachine"]
    env = _env(server)

    # An online backup under writes: a consistent moment of a log that keeps growing.
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            make_tenant(server, admin)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        online = _stratus(env, "backup", str(tmp_path / "online"))
    finally:
        stop.set()
        writer.join()
    assert online.returncode == 0, online.stderr

    # A backup of the quiet cloud, still running, to compare with it row for row.
    done = _stratus(env, "backup", str(tmp_path / "quiet"))
    assert done.returncode == 0, done.stderr
    assert "backed up" in done.stdout and TEST_KEY not in done.stdout
    stop_server(server)
    manifest = orjson.loads((tmp_path / "quiet" / "manifest.json").read_bytes())
    assert stat.S_IMODE((tmp_path / "quiet").stat().st_mode) == 0o700
    for entry in (tmp_path / "quiet").iterdir():
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600, entry.name
    original_log = _log(env)
    assert manifest["position"] == original_log[-1][0]
    if "STRATUS_DATABASE_URL" not in env:
        _refusals(env, tmp_path / "quiet", tmp_path)

    for name in ("online", "quiet"):
        with _fresh_target(server, tmp_path / name) as target:
            restored = _stratus(target, "restore", str(tmp_path / name))
            assert restored.returncode == 0, restored.stderr
            data = Path(target["STRATUS_DATA"])
            assert stat.S_IMODE(data.stat().st_mode) == 0o700
            copied = _log(target)
            position = orjson.loads((tmp_path / name / "manifest.json").read_bytes())["position"]
            assert copied == original_log[: len(copied)] and copied[-1][0] == position
            verified = _stratus(target, "audit", "verify")
            assert verified.returncode == 0, verified.stdout + verified.stderr
            if name == "online":
                continue
            assert _read_models(target) == _read_models(env)
            # Started on the restored copy, with the backup's key file: the same keys work.
            own_key = {k: v for k, v in target.items() if k != "STRATUS_DATA"}
            again = start_server(data, {**own_key, "STRATUS_SECRET_KEY": ""})
            try:
                own = again.client(tenant.client.key, tenant.client.secret)
                listed = own.listVirtualMachines()["virtualmachine"]
                assert [v["id"] for v in listed] == [vm["id"]]
                assert [k["name"] for k in own.listSSHKeyPairs()["sshkeypair"]] == ["backup-pair"]
            finally:
                stop_server(again)


def _refusals(env: dict[str, str], backup: Path, tmp_path: Path) -> None:
    """Each mistake is one line and exit 2, and leaves nothing behind."""
    refused = _stratus(env, "backup", str(backup))
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    nowhere = {"STRATUS_DATA": str(tmp_path / "nowhere"), "STRATUS_SECRET_KEY": TEST_KEY}
    no_store = _stratus(nowhere, "backup", str(tmp_path / "never"))
    assert no_store.returncode == 2 and "no event store" in no_store.stderr
    assert not (tmp_path / "never").exists()

    in_use = _stratus(env, "restore", str(backup))
    assert in_use.returncode == 2 and "is not empty" in in_use.stderr

    fresh = tmp_path / "fresh"
    another = base64.b64encode(b"z" * 32).decode()
    wrong = _stratus(
        {"STRATUS_DATA": str(fresh), "STRATUS_SECRET_KEY": another}, "restore", str(backup)
    )
    assert wrong.returncode == 2 and "not the key of this backup" in wrong.stderr

    broken = tmp_path / "broken"
    shutil.copytree(backup, broken)
    with (broken / "stratus.db").open("r+b") as store:
        store.seek(200)
        byte = store.read(1)[0]
        store.seek(200)
        store.write(bytes([byte ^ 0xFF]))  # a byte changed on the way
    damaged = _stratus({"STRATUS_DATA": str(fresh)}, "restore", str(broken))
    assert damaged.returncode == 2 and "not the file the backup made" in damaged.stderr
    missing = _stratus({"STRATUS_DATA": str(fresh)}, "restore", str(tmp_path))
    assert missing.returncode == 2 and "not a Stratus backup" in missing.stderr
    assert not fresh.exists()
