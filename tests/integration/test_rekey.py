"""Rotating the secret key: `stratus rekey` makes a new key current and retires the old one; the
old key's sealed values stay readable to processes that keep it as retired, new secrets are
sealed with the new key, and a process whose current key is retired is refused at start."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from entrypoint.cli import main
from entrypoint.installation import open_runtime
from stratus.settings import ConfigurationError, Settings, parse_database_url
from stratus.store.secrets import fingerprint
from tests.conftest import postgres_url
from tests.support.app import App, running_app

OLD = b"1" * 32
NEW = b"2" * 32
OLD_TEXT, NEW_TEXT = base64.b64encode(OLD).decode(), base64.b64encode(NEW).decode()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `stratus ARGS` in this process with only the given STRATUS_* settings."""

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        for name in (
            "STRATUS_DATA",
            "STRATUS_DATABASE_URL",
            "STRATUS_NATS_URL",
            "STRATUS_SECRET_KEY",
            "STRATUS_RETIRED_SECRET_KEYS",
        ):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]


def _call(app: App, params: dict[str, str]) -> dict[str, Any]:
    answer = app.http.get("/client/api", params=app.signed(params))
    assert answer.status_code == 200, answer.text
    return next(iter(orjson.loads(answer.content).values()))  # type: ignore[no-any-return]


def _sealed_keys(app: App) -> dict[str, str]:
    with app.runtime.db.read() as cursor:
        rows = cursor.execute("SELECT username, sealed_secret_key FROM users").fetchall()
    return {str(row["username"]): str(row["sealed_secret_key"]) for row in rows}


def test_rotating_the_key_keeps_old_secrets_readable_and_seals_new_ones_with_the_new_key(
    tmp_path: Path, cli
) -> None:
    data = tmp_path / "data"
    before = Settings(data_dir=data, secret_key=OLD_TEXT)
    with running_app(before) as app:
        user_id = _call(app, {"command": "listUsers", "username": "admin"})["user"][0]["id"]
        sealed_before = _sealed_keys(app)["admin"]
        webhook_secret = app.runtime.store.box.seal("hook-secret-1")  # a sealed credential
    assert sealed_before.startswith(fingerprint(OLD) + ":")

    # Rekey needs the store's current key among the retired ones, and a new current key.
    status, _, err = cli("rekey", STRATUS_DATA=str(data), STRATUS_SECRET_KEY=NEW_TEXT)
    assert status == 2
    assert f"the store's current key is {fingerprint(OLD)}" in _one_line(err)
    status, out, err = cli(
        "rekey",
        STRATUS_DATA=str(data),
        STRATUS_SECRET_KEY=NEW_TEXT,
        STRATUS_RETIRED_SECRET_KEYS=OLD_TEXT,
    )
    assert status == 0, err
    assert f"key {fingerprint(OLD)} retired" in out and fingerprint(NEW) in out
    assert OLD_TEXT not in out + err and NEW_TEXT not in out + err

    # A process whose current key is the retired one is refused, with one line.
    status, _, err = cli(
        "projections", "status", STRATUS_DATA=str(data), STRATUS_SECRET_KEY=OLD_TEXT
    )
    assert status == 2
    line = _one_line(err)
    assert f"key {fingerprint(OLD)} was retired" in line and fingerprint(NEW) in line

    # Restarted with the new key current and the old one retired: the admin's keys, sealed with
    # the old key, still sign requests; keys registered now are sealed with the new key.
    after = Settings(data_dir=data, secret_key=NEW_TEXT, retired_secret_keys=OLD_TEXT)
    with running_app(after) as app:
        assert _call(app, {"command": "listZones"}) is not None
        assert app.runtime.store.box.open(webhook_secret) == "hook-secret-1"
        keys = _call(app, {"command": "registerUserKeys", "id": user_id})["userkeys"]
        assert app.runtime.store.box.current == fingerprint(NEW)
        fresh = app.runtime.store.box.seal("hook-secret-2")
        assert fresh.startswith(fingerprint(NEW) + ":")
        app.admin.update(apikey=keys["apikey"], secretkey=keys["secretkey"])
        users = _call(app, {"command": "listUsers", "id": user_id})["user"]
        assert users[0]["apikey"] == keys["apikey"]
        assert _sealed_keys(app)["admin"] != sealed_before

    # Only the new key, no retired one: it starts, and reading an old secret fails naming the
    # key it was sealed with; new secrets open.
    runtime = open_runtime(Settings(data_dir=data, secret_key=NEW_TEXT), projections=[])
    try:
        assert runtime.store.box.open(fresh) == "hook-secret-2"
        with pytest.raises(ConfigurationError, match=f"sealed with key {fingerprint(OLD)}"):
            runtime.store.box.open(webhook_secret)
    finally:
        runtime.close()


def test_rekey_to_the_current_or_a_retired_key_is_refused(tmp_path: Path, cli) -> None:
    data = tmp_path / "data"
    with running_app(Settings(data_dir=data, secret_key=OLD_TEXT)):
        pass
    status, _, err = cli("rekey", STRATUS_DATA=str(data), STRATUS_SECRET_KEY=OLD_TEXT)
    assert status == 2 and "current key already" in _one_line(err)
    env = {"STRATUS_DATA": str(data), "STRATUS_RETIRED_SECRET_KEYS": OLD_TEXT}
    assert cli("rekey", STRATUS_SECRET_KEY=NEW_TEXT, **env)[0] == 0
    env["STRATUS_RETIRED_SECRET_KEYS"] = NEW_TEXT
    status, _, err = cli("rekey", STRATUS_SECRET_KEY=OLD_TEXT, **env)
    assert status == 2 and "retired key cannot be current again" in _one_line(err)
    status, _, err = cli("rekey", STRATUS_DATA=str(tmp_path / "none"), STRATUS_SECRET_KEY=NEW_TEXT)
    assert status == 1 and "no store" in _one_line(err)


def test_a_backup_carries_the_retired_keys_and_a_restore_checks_them(tmp_path: Path, cli) -> None:
    data = tmp_path / "data"
    with running_app(Settings(data_dir=data, secret_key=OLD_TEXT)) as app:
        old_secret = app.runtime.store.box.seal("sealed-before-rotation")
    env = {"STRATUS_DATA": str(data), "STRATUS_SECRET_KEY": NEW_TEXT}
    assert cli("rekey", STRATUS_RETIRED_SECRET_KEYS=OLD_TEXT, **env)[0] == 0

    status, _, err = cli("backup", str(tmp_path / "b"), STRATUS_RETIRED_SECRET_KEYS=OLD_TEXT, **env)
    assert status == 0, err
    manifest = orjson.loads((tmp_path / "b" / "manifest.json").read_bytes())
    assert len(manifest["retired_key_fingerprints"]) == 1
    assert (tmp_path / "b" / "retired.keys").stat().st_mode & 0o777 == 0o600

    # Restoring with retired keys that lack the backup's is refused, and leaves nothing.
    target = tmp_path / "restored"
    status, _, err = cli(
        "restore",
        str(tmp_path / "b"),
        STRATUS_DATA=str(target),
        STRATUS_SECRET_KEY=NEW_TEXT,
        STRATUS_RETIRED_SECRET_KEYS=base64.b64encode(b"3" * 32).decode(),
    )
    assert status == 2 and "lacks a retired key of this backup" in _one_line(err)
    assert not target.exists()

    # Without settings, the restore writes the backup's keys as the data directory's files; a
    # process there holds the new key current and the old one retired.
    status, _, err = cli("restore", str(tmp_path / "b"), STRATUS_DATA=str(target))
    assert status == 0, err
    assert (target / "retired.keys").stat().st_mode & 0o777 == 0o600
    runtime = open_runtime(Settings(data_dir=target), projections=[])
    try:
        assert runtime.store.box.current == fingerprint(NEW)
        assert runtime.store.box.open(old_secret) == "sealed-before-rotation"
    finally:
        runtime.close()


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


@pytest.mark.postgres
def test_rotation_on_postgresql_refuses_the_retired_key_and_reads_the_old_secrets(
    tmp_path: Path, fresh_schema: str, cli
) -> None:
    postgres = parse_database_url(fresh_schema)
    first = Settings(data_dir=tmp_path / "a", postgres=postgres, secret_key=OLD_TEXT)
    runtime = open_runtime(first, projections=[])
    sealed = runtime.store.box.seal("pre-shared-key-1")
    runtime.close()

    env = {"STRATUS_DATA": str(tmp_path / "b"), "STRATUS_DATABASE_URL": fresh_schema}
    status, _, err = cli(
        "rekey", STRATUS_SECRET_KEY=NEW_TEXT, STRATUS_RETIRED_SECRET_KEYS=OLD_TEXT, **env
    )
    assert status == 0, err
    with pytest.raises(ConfigurationError, match=f"key {fingerprint(OLD)} was retired"):
        open_runtime(first, projections=[])
    rotated = Settings(
        data_dir=tmp_path / "b",
        postgres=postgres,
        secret_key=NEW_TEXT,
        retired_secret_keys=OLD_TEXT,
    )
    runtime = open_runtime(rotated, projections=[])
    try:
        assert runtime.store.box.open(sealed) == "pre-shared-key-1"
    finally:
        runtime.close()
