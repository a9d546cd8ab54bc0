"""Operating Stratus from the command line: one secret key per store, one server per embedded
data directory, and every mistake or failure one line naming it (exit 2 usage, 1 failure)."""

from __future__ import annotations

import base64
import configparser
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest

from commands.identity import Bootstrap, bootstrap
from entrypoint.cli import main
from entrypoint.installation import open_runtime
from stratus.datadir import hold
from stratus.settings import ConfigurationError, Settings, parse_database_url
from tests.conftest import TEST_KEY, postgres_url
from tests.support.app import running_app

OTHER_KEY = base64.b64encode(b"o" * 32).decode()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `stratus ARGS` in this process with only the given STRATUS_* settings; returns
    (exit status, stdout, stderr)."""

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        for name in ("STRATUS_DATA", "STRATUS_DATABASE_URL", "STRATUS_NATS_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("STRATUS_SECRET_KEY", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as stop:  # argparse refusing an argument
            status = int(stop.code or 0)
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 or lines[0].startswith("usage:"), err
    return lines[-1]


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    """A STRATUS_DATABASE_URL on a schema nobody made yet (dropped afterwards)."""
    url = postgres_url()
    if not url:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{url}?schema={schema}"
    with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# One secret key per store ----------------------------------------------------------------------


@pytest.mark.postgres
def test_a_process_without_the_store_key_is_refused_instead_of_making_its_own(
    tmp_path: Path, fresh_schema: str
) -> None:
    first = Settings(data_dir=tmp_path / "api", postgres=parse_database_url(fresh_schema))
    open_runtime(first, projections=[]).close()  # makes the store, and its key file
    made = (tmp_path / "api" / "secret.key").read_text().strip()

    elsewhere = Settings(data_dir=tmp_path / "projections", postgres=first.postgres)
    with pytest.raises(ConfigurationError, match=r"sealed with key .* this process has no key"):
        open_runtime(elsewhere, projections=[])
    assert not (tmp_path / "projections" / "secret.key").exists()

    wrong = Settings(data_dir=elsewhere.data_dir, postgres=first.postgres, secret_key=OTHER_KEY)
    with pytest.raises(ConfigurationError, match=r"STRATUS_SECRET_KEY holds key .* sealed with"):
        open_runtime(wrong, projections=[])

    shared = Settings(data_dir=elsewhere.data_dir, postgres=first.postgres, secret_key=made)
    open_runtime(shared, projections=[]).close()  # the store's key, handed over: it starts


def test_a_valid_key_that_is_not_the_store_key_is_refused_at_start(tmp_path: Path, cli) -> None:
    data = str(tmp_path / "data")
    with running_app(Settings(data_dir=Path(data))):
        pass  # first start: the store is made and sealed with the key file's key
    status, _, err = cli("projections", "status", STRATUS_DATA=data, STRATUS_SECRET_KEY=OTHER_KEY)
    assert status == 2
    assert "STRATUS_SECRET_KEY holds key" in _one_line(err)
    assert OTHER_KEY not in err


def test_a_store_with_data_but_no_key_is_never_given_a_new_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    runtime = open_runtime(settings, projections=[])
    bootstrap(runtime.store, Bootstrap(admin_password="pw-of-the-admin-1"))
    with runtime.db.transaction() as cursor:  # as a store made before keys were recorded
        cursor.execute("DELETE FROM stratus_secret_key")
    runtime.close()
    (tmp_path / "data" / "secret.key").unlink()
    with pytest.raises(ConfigurationError, match="holds sealed data but this process has no key"):
        open_runtime(settings, projections=[])
    assert not (tmp_path / "data" / "secret.key").exists()


def test_an_unexpected_error_before_a_command_is_logged_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_app(Settings(data_dir=tmp_path / "data", secret_key=TEST_KEY)) as app:
        with app.runtime.db.transaction() as cursor:  # a sealed value nobody can open
            cursor.execute("UPDATE users SET sealed_secret_key = %s", ("AAAA",))
        with caplog.at_level(logging.ERROR, logger="api.app"):
            answer = app.http.get("/client/api", params=app.signed({"command": "listZones"}))
    assert answer.status_code == 530
    failures = [r for r in caplog.records if r.name == "api.app" and r.exc_info]
    assert failures, "a 530 was answered with nothing logged"
    assert app.admin["secretkey"] not in caplog.text


# One server per embedded data directory -----------------------------------------------------------


def test_a_second_server_on_one_data_directory_is_refused(tmp_path: Path, cli) -> None:
    data = tmp_path / "data"
    held = hold(data)  # as a running server holds it
    try:
        status, _, err = cli("serve", "--port", "0", STRATUS_DATA=str(data))
    finally:
        os.close(held)
    assert status == 1
    assert "another Stratus server is running on the data directory" in _one_line(err)
    assert not (data / "stratus.db").exists()


# One line per mistake ----------------------------------------------------------------------------


def test_a_data_directory_that_is_a_file_or_cannot_be_made_is_one_line(tmp_path: Path, cli) -> None:
    (tmp_path / "file").write_text("")
    for where in (tmp_path / "file", tmp_path / "file" / "below", Path("/proc/no-stratus-here")):
        status, _, err = cli("migrate", STRATUS_DATA=str(where))
        assert status == 1
        assert f"cannot use {where} as the data directory" in _one_line(err)


def test_a_port_out_of_range_is_refused_before_the_store_is_made(tmp_path: Path, cli) -> None:
    status, _, err = cli("serve", "--port", "99999", STRATUS_DATA=str(tmp_path / "data"))
    assert status == 2
    assert "a port is 0-65535" in _one_line(err)
    assert not (tmp_path / "data").exists()


def test_embedded_store_refuses_the_distributed_roles(tmp_path: Path, cli) -> None:
    for role in ("api", "projections", "relay", "events"):
        status, _, err = cli("serve", "--role", role, STRATUS_DATA=str(tmp_path / "data"))
        assert status == 2
        assert f"serve --role {role} needs STRATUS_DATABASE_URL" in _one_line(err)
    assert not (tmp_path / "data").exists()


def test_an_unquotable_schema_name_is_refused(cli) -> None:
    url = 'postgresql://postgres@127.0.0.1:5432/test?schema=a"b'
    status, _, err = cli("migrate", STRATUS_DATABASE_URL=url)
    assert status == 2
    assert "schema in STRATUS_DATABASE_URL must be a plain name" in _one_line(err)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_nats_is_one_line_for_an_adapter(tmp_path: Path, cli) -> None:
    status, _, err = cli(
        "adapter",
        "simulator",
        STRATUS_DATA=str(tmp_path),
        STRATUS_SECRET_KEY=TEST_KEY,
        STRATUS_NATS_URL=f"nats://127.0.0.1:{_closed_port()}",
    )
    assert status == 1
    assert "cannot connect to NATS" in _one_line(err)


@pytest.mark.postgres
def test_postgresql_failures_say_why(cli) -> None:
    base = parse_database_url(postgres_url() or "")
    cases = {
        f"postgresql://{base.user}@127.0.0.1:{_closed_port()}/test": "Connection refused",
        f"postgresql://{base.user}@{base.host}:{base.port}/no_such_db_here": "does not exist",
        f"postgresql://no_such_role_here@{base.host}:{base.port}/{base.dbname}": "does not exist",
    }
    for url, reason in cases.items():
        status, _, err = cli("migrate", STRATUS_DATABASE_URL=url)
        assert status == 1
        line = _one_line(err)
        assert line.startswith("stratus: cannot connect to PostgreSQL") and reason in line


def test_projections_status_without_a_store_makes_none(tmp_path: Path, cli) -> None:
    status, _, err = cli("projections", "status", STRATUS_DATA=str(tmp_path / "none"))
    assert status == 1
    assert "no store at" in _one_line(err)
    assert not (tmp_path / "none").exists()


@pytest.mark.postgres
def test_projections_status_without_a_postgresql_store_makes_none(
    tmp_path: Path, fresh_schema: str, cli
) -> None:
    status, _, err = cli(
        "projections", "status", STRATUS_DATA=str(tmp_path), STRATUS_DATABASE_URL=fresh_schema
    )
    assert status == 1 and "no store at" in _one_line(err)
    schema = fresh_schema.rpartition("=")[2]
    with psycopg.connect(parse_database_url(postgres_url() or "").conninfo) as connection:
        found = connection.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert found is None


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """An embedded installation started once (its admin, a few events)."""
    data = tmp_path / "data"
    with running_app(Settings(data_dir=data)):
        pass
    return data


def test_audit_mistakes_are_one_line_and_write_nothing(
    installed: Path, tmp_path: Path, cli
) -> None:
    data = {"STRATUS_DATA": str(installed)}
    status, _, err = cli("audit", "log", "--resource", "not-a-uuid", **data)
    assert status == 2 and "invalid UUID value" in _one_line(err)
    status, _, err = cli("audit", "verify-export", "/nonexistent", **data)
    assert status == 1 and "cannot read /nonexistent" in _one_line(err)
    key = tmp_path / "signing.pem"
    status, _, err = cli(
        "audit", "export", "--signing-key", str(key), "--output", "/no/dir/x", **data
    )
    assert status == 1 and "cannot write /no/dir/x" in _one_line(err)
    assert not key.exists()
    unknown = str(uuid.uuid4())
    status, out, err = cli("audit", "history", unknown, **data)
    assert status == 1 and out == "" and f"no resource {unknown} in the log" in _one_line(err)


def test_audit_export_signs_with_the_named_key_and_writes_nothing_else(
    installed: Path, tmp_path: Path, cli
) -> None:
    before = sorted(p.name for p in installed.iterdir())
    key, exported = tmp_path / "signing.pem", tmp_path / "audit.jsonl"
    data = {"STRATUS_DATA": str(installed)}
    status, _, err = cli("audit", "export", "--output", str(exported), **data)
    assert status == 2 and "--signing-key" in err  # never a key made somewhere unsaid
    status, _, err = cli(
        "audit", "export", "--signing-key", str(key), "--output", str(exported), **data
    )
    assert status == 0 and f"made a new signing key {key}" in err
    assert key.stat().st_mode & 0o777 == 0o600
    status, _, err = cli(
        "audit", "export", "--signing-key", str(key), "--output", str(exported), **data
    )
    assert status == 0 and "made a new" not in err  # the same key, used again
    assert cli("audit", "verify-export", str(exported), **data)[0] == 0
    added = {p.name for p in installed.iterdir()} - set(before)
    assert added <= {"stratus.db-shm", "stratus.db-wal"}  # SQLite's own, for the reader


def test_audit_at_prints_nested_values_as_json(installed: Path, cli) -> None:
    data = {"STRATUS_DATA": str(installed)}
    status, out, _ = cli("audit", "log", "--json", "--type", "Account", **data)
    account = orjson.loads(out.splitlines()[0])["resource_id"]
    status, out, _ = cli("audit", "at", "2999-01-01T00:00:00", account, **data)
    assert status == 0
    state = orjson.loads(out)["state"]

    def reprs(value: object) -> list[str]:
        if isinstance(value, dict):
            return [r for v in value.values() for r in reprs(v)]
        if isinstance(value, list):
            return [r for v in value for r in reprs(v)]
        return [value] if isinstance(value, str) and "(" in value and "=" in value else []

    assert state and reprs(state) == []


def test_usage_replay_to_an_unwritable_place_fails_before_replaying(installed: Path, cli) -> None:
    status, _, err = cli("usage", "replay", "--out", "/no/dir/u.csv", STRATUS_DATA=str(installed))
    assert status == 1
    assert "cannot write /no/dir/u.csv" in _one_line(err)  # no progress bar: nothing was read


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    stratus = subprocess.Popen(  # the command reference: more than a pipe holds
        [sys.executable, "-m", "entrypoint.cli", "api", "docs"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "STRATUS_DATA": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert stratus.stdout is not None and stratus.stderr is not None
    stratus.stdout.readline()
    stratus.stdout.close()  # as `| head -1` does
    errors = stratus.stderr.read().decode()
    assert stratus.wait(timeout=60) == 0
    assert errors == ""


def test_client_config_prints_the_admin_ini(installed: Path, cli) -> None:
    status, out, _ = cli("client-config", STRATUS_DATA=str(installed))
    assert status == 0
    ini = configparser.ConfigParser()
    ini.read_string(out)
    admin = orjson.loads((installed / "admin.json").read_bytes())
    assert dict(ini["cloudstack"]) == {
        "endpoint": admin["url"],
        "key": admin["apikey"],
        "secret": admin["secretkey"],
    }
    status, _, err = cli("client-config", STRATUS_DATA=str(installed.parent / "elsewhere"))
    assert status == 1 and "start the server once" in _one_line(err)


def test_catching_up_the_read_models_reports_progress(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = open_runtime(Settings(data_dir=tmp_path / "data", secret_key=TEST_KEY))
    try:
        bootstrap(runtime.store, Bootstrap(admin_password="pw-of-the-admin-1"))
        runtime.runner.batch_size = 2
        with caplog.at_level(logging.INFO, logger="stratus.projection"):
            runtime.runner.catch_up(report_every=0)
    finally:
        runtime.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "stratus.projection"]
    assert any(m.startswith("catching up the read models to event") for m in messages)
    assert any(m.startswith("read model identity: at event") for m in messages)
    assert messages[-1].startswith("read models caught up in")
