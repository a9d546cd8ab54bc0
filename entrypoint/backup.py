"""`stratus backup DEST` and `stratus restore SRC`: a consistent copy of an installation.

A backup is a directory, 0700, of 0600 files: the store (`stratus.db`, copied by SQLite's
online backup API while the server runs; on PostgreSQL `stratus.pgdump`, made by `pg_dump` in
one snapshot), the key that seals its secrets (`secret.key`) and the keys retired by `stratus
rekey` that sealed older ones (`retired.keys`, when the process has any), the audit export
signing key and the admin's first-start credentials when they exist, and `manifest.json`
written last: format, Stratus version, time, position (the last event in the copy), schema
migration level, the keys' fingerprints and each file's size and SHA-256. Without its keys a
backup's sealed secrets (API secret keys, hypervisor passwords, pre-shared keys) are lost for
good.

A restore goes into a data directory that does not exist or is empty, all at once (assembled
beside it, then renamed into place), after checking every file against the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
import psycopg

from stratus.datadir import DIRECTORY_MODE, FILE_MODE
from stratus.migrate import available
from stratus.settings import ConfigurationError, PostgresSettings, Settings
from stratus.store.chain import EVENTS_TABLE
from stratus.store.secrets import RETIRED_KEYS_FILE, load_or_create_key, load_retired_keys

FORMAT = "stratus-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE_FILE = "stratus.db"
DUMP_FILE = "stratus.pgdump"
KEY_FILE = "secret.key"
EXTRA_FILES = ("audit-signing.key", "admin.json")  # copied as they are, when they exist


@dataclass(frozen=True)
class Copied:
    """What a backup holds, for its manifest."""

    store: str
    position: int
    migration: int


def backup(settings: Settings, destination: Path) -> dict[str, Any]:
    """Write a backup of the installation `settings` names into `destination`."""
    key = _current_key(settings)
    _fresh_directory(destination, "backup destination")
    created = not destination.exists()
    destination.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    try:
        return _write_backup(settings, destination, key)
    except BaseException:  # a half-made backup is no backup: leave the directory as it was
        for entry in destination.iterdir():
            entry.unlink()
        if created:
            destination.rmdir()
        raise


def _write_backup(settings: Settings, destination: Path, key: bytes) -> dict[str, Any]:
    os.chmod(destination, DIRECTORY_MODE)
    if settings.postgres is None:
        copied = _copy_sqlite(settings.sqlite_path, destination / STORE_FILE)
    else:
        copied = _dump_postgres(settings.postgres, destination / DUMP_FILE)
    _write_private(destination / KEY_FILE, base64.b64encode(key) + b"\n")
    retired = load_retired_keys(settings)
    if retired:
        _write_private(destination / RETIRED_KEYS_FILE, _key_lines(retired))
    for name in EXTRA_FILES:
        source = settings.data_dir / name
        if source.is_file():
            _write_private(destination / name, source.read_bytes())
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "stratus_version": stratus_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": copied.store,
        "position": copied.position,
        "migration": copied.migration,
        "key_fingerprint": key_fingerprint(key),
        "retired_key_fingerprints": [key_fingerprint(old) for old in retired],
        "files": {
            entry.name: _describe(entry)
            for entry in sorted(destination.iterdir())
            if entry.name != MANIFEST
        },
    }
    if settings.postgres is not None:
        manifest["schema"] = settings.postgres.schema
    _write_private(destination / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def restore(settings: Settings, source: Path) -> dict[str, Any]:
    """Put the backup in `source` in place as the installation `settings` names."""
    manifest = read_manifest(source)
    key = base64.b64decode((source / KEY_FILE).read_bytes().strip())
    given = load_or_create_key(settings) if settings.secret_key else key
    if key_fingerprint(given) != manifest["key_fingerprint"]:
        raise ConfigurationError(
            "STRATUS_SECRET_KEY is not the key of this backup: unset it to use the "
            "backup's secret.key, or set it to that key"
        )
    retired = _retired_keys(settings, source, manifest)
    newest = max(m.version for m in available("postgres" if settings.postgres else "sqlite"))
    if manifest["migration"] > newest:
        raise ConfigurationError(
            f"{source} was made by a newer Stratus ({manifest['stratus_version']}, schema "
            f"{manifest['migration']}); this one knows schema {newest}: upgrade first"
        )
    if manifest["store"] == "sqlite" and settings.postgres is not None:
        raise ConfigurationError(
            f"{source} holds an embedded (SQLite) store: unset STRATUS_DATABASE_URL to restore it"
        )
    if manifest["store"] == "postgresql" and settings.postgres is None:
        raise ConfigurationError(
            f"{source} holds a PostgreSQL dump: set STRATUS_DATABASE_URL to the database to "
            "restore it into"
        )
    _fresh_directory(settings.data_dir, "STRATUS_DATA")
    if settings.postgres is not None:
        _restore_postgres(settings.postgres, source / DUMP_FILE, manifest["schema"])
    _place(settings, source, manifest, key, retired)
    return manifest


def _retired_keys(settings: Settings, source: Path, manifest: dict[str, Any]) -> list[bytes]:
    """The backup's retired keys, checked against its manifest and against the retired keys the
    restoring process is given (which must include them all)."""
    if RETIRED_KEYS_FILE not in manifest["files"]:
        return []
    lines = (source / RETIRED_KEYS_FILE).read_bytes().split()
    retired = [base64.b64decode(line) for line in lines]
    if [key_fingerprint(old) for old in retired] != manifest.get("retired_key_fingerprints"):
        raise ConfigurationError(f"{source / RETIRED_KEYS_FILE} is not the backup's retired keys")
    if settings.retired_secret_keys:
        given = {key_fingerprint(old) for old in load_retired_keys(settings)}
        for old in retired:
            if key_fingerprint(old) not in given:
                raise ConfigurationError(
                    "STRATUS_RETIRED_SECRET_KEYS lacks a retired key of this backup "
                    f"(fingerprint {key_fingerprint(old)}): what it sealed would not open; "
                    "unset it to use the backup's retired.keys, or add that key"
                )
    return retired


def _key_lines(keys: list[bytes]) -> bytes:
    return b"".join(base64.b64encode(one) + b"\n" for one in keys)


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every file it lists is there, whole."""
    path = source / MANIFEST
    try:
        manifest = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigurationError(f"{source} is not a Stratus backup (no {MANIFEST})") from None
    except (OSError, orjson.JSONDecodeError) as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ConfigurationError(f"{path} is not a Stratus backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ConfigurationError(f"{path}: unknown backup format {manifest.get('format_version')}")
    for name, described in manifest["files"].items():
        entry = source / name
        if not entry.is_file() or _describe(entry) != described:
            raise ConfigurationError(f"{entry} is missing or not the file the backup made")
    if KEY_FILE not in manifest["files"]:
        raise ConfigurationError(f"{source} holds no {KEY_FILE}")
    return manifest


def stratus_version() -> str:
    try:
        return metadata.version("stratus")
    except metadata.PackageNotFoundError:
        return "unknown"


def key_fingerprint(key: bytes) -> str:
    """Names a key without revealing it (a one-way hash of 256 random bits)."""
    return hashlib.sha256(b"stratus secret key\x00" + key).hexdigest()[:32]


def _current_key(settings: Settings) -> bytes:
    if not settings.secret_key and not settings.key_file.exists():
        raise ConfigurationError(
            f"no key to back up: STRATUS_SECRET_KEY is not set and {settings.key_file} "
            "does not exist (set STRATUS_DATA)"
        )
    return load_or_create_key(settings)  # reads it; it exists


def _fresh_directory(path: Path, what: str) -> None:
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"{what} {path} is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise ConfigurationError(f"{what} {path} is not empty")


def _copy_sqlite(store: Path, target: Path) -> Copied:
    """The online backup API, in one step: one read transaction, so one consistent moment,
    while the server keeps writing (in WAL mode a reader holds no writer back)."""
    if not store.is_file():
        raise ConfigurationError(f"no event store at {store} (set STRATUS_DATA)")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    try:
        source = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            position = copy.execute(
                f"SELECT coalesce(max(rowid), 0) FROM {EVENTS_TABLE['sqlite']}"
            ).fetchone()[0]
            migration = copy.execute(
                "SELECT coalesce(max(version), 0) FROM stratus_migrations"
            ).fetchone()[0]
        finally:
            copy.close()
            source.close()
    except sqlite3.Error as error:
        raise ConfigurationError(f"cannot copy the event store {store}: {error}") from None
    if check != "ok":
        raise ConfigurationError(f"the copy of {store} fails SQLite's check: {check}")
    return Copied("sqlite", int(position), int(migration))


def _dump_postgres(pg: PostgresSettings, target: Path) -> Copied:
    """`pg_dump` of the installation's schema in a snapshot this process exported, so the
    position in the manifest is the last event of exactly that dump."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise ConfigurationError(
            f"pg_dump is not on the PATH: install the PostgreSQL client (the server's version "
            f"or newer), or dump schema {pg.schema!r} of database {pg.dbname!r} yourself with "
            "pg_dump --format=custom and keep the key beside it"
        )
    events = f'"{pg.schema}".{EVENTS_TABLE["postgres"]}'
    try:
        with psycopg.connect(pg.conninfo) as connection:
            connection.read_only = True
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with connection.transaction():
                snapshot = _one(connection, "SELECT pg_export_snapshot()")
                position = 0  # a store no process has opened yet holds no events table
                if _one(connection, "SELECT to_regclass(%s) IS NOT NULL", (events,)):
                    position = _one(
                        connection, f"SELECT coalesce(max(notification_id), 0) FROM {events}"
                    )
                migration = _one(
                    connection,
                    f'SELECT coalesce(max(version), 0) FROM "{pg.schema}".stratus_migrations',
                )
                _run_client(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-owner",
                        f"--snapshot={snapshot}",
                        f"--schema={pg.schema}",
                        f"--file={target}",
                    ],
                    pg,
                )
    except psycopg.Error as error:
        raise ConfigurationError(f"cannot read PostgreSQL: {_first_line(error)}") from None
    os.chmod(target, FILE_MODE)
    return Copied("postgresql", int(position), int(migration))


def _restore_postgres(pg: PostgresSettings, dump: Path, schema: str) -> None:
    """`pg_restore` in one transaction into the backup's schema, made here when missing: the
    dump's own `CREATE SCHEMA` is left out, as a fresh database already has `public`."""
    if pg.schema != schema:
        raise ConfigurationError(
            f"the backup holds schema {schema!r}; restore it into that schema "
            f"(STRATUS_DATABASE_URL ...?schema={schema}), not {pg.schema!r}"
        )
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise ConfigurationError("pg_restore is not on the PATH: install the PostgreSQL client")
    try:
        with psycopg.connect(pg.conninfo, autocommit=True) as connection:
            tables = _one(
                connection,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
            if tables:
                raise ConfigurationError(
                    f"schema {schema!r} of database {pg.dbname!r} is not empty"
                )
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    except psycopg.Error as error:
        raise ConfigurationError(f"cannot connect to PostgreSQL: {_first_line(error)}") from None
    contents = _run_client([pg_restore, "--list", str(dump)], pg)
    kept = [line for line in contents.splitlines() if not _creates_schema(line, schema)]
    with tempfile.NamedTemporaryFile("w", suffix=".list") as listing:
        listing.write("\n".join(kept) + "\n")
        listing.flush()
        _run_client(
            [
                pg_restore,
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={listing.name}",
                f"--dbname={pg.dbname}",
                str(dump),
            ],
            pg,
        )


def _creates_schema(line: str, schema: str) -> bool:
    """A line of `pg_restore --list` making or commenting on the schema itself."""
    words = line.split(";", 1)[-1].split()
    return words[2:5] in (["SCHEMA", "-", schema], ["COMMENT", "-", "SCHEMA"])


def _run_client(command: list[str], pg: PostgresSettings) -> str:
    """A PostgreSQL client program, given the password in its environment, never its argv."""
    env = dict(
        os.environ,
        PGHOST=pg.host,
        PGPORT=str(pg.port),
        PGDATABASE=pg.dbname,
        PGUSER=pg.user,
    )
    if pg.password:
        env["PGPASSWORD"] = pg.password
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no message"]
        reason = next((line for line in lines if "error" in line), lines[-1])
        raise ConfigurationError(f"{Path(command[0]).name} failed: {reason}")
    return done.stdout


def _place(
    settings: Settings, source: Path, manifest: dict[str, Any], key: bytes, retired: list[bytes]
) -> None:
    """Assemble the data directory beside its place, then rename it there in one step."""
    target = settings.data_dir.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    try:
        os.chmod(staging, DIRECTORY_MODE)
        names = [STORE_FILE] if manifest["store"] == "sqlite" else []
        names += [name for name in EXTRA_FILES if name in manifest["files"]]
        for name in names:
            _copy_private(source / name, staging / name)
        if not settings.secret_key:
            _write_private(staging / KEY_FILE, base64.b64encode(key) + b"\n")
        if retired and not settings.retired_secret_keys:
            _write_private(staging / RETIRED_KEYS_FILE, _key_lines(retired))
        if target.exists():
            target.rmdir()  # empty: checked before
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_private(source: Path, target: Path) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as sink, source.open("rb") as origin:
        shutil.copyfileobj(origin, sink, 1 << 20)
        sink.flush()
        os.fsync(sink.fileno())


def _write_private(path: Path, body: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as sink:
        sink.write(body)
        sink.flush()
        os.fsync(sink.fileno())


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as origin:
        for block in iter(lambda: origin.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _one(connection: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = connection.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def _first_line(error: BaseException) -> str:
    return (str(error).strip() or type(error).__name__).splitlines()[0]
