"""Process settings: read from the environment once at start, then passed down, never re-read."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from stratus.cpus import CpuSetError, check_cpus, parse_cpus

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names it and is shown to the operator as is.

    The command line exits 2 on it (the operator's mistake); on an `Unavailable` 1.
    """

    exit_code = 2


class Unavailable(ConfigurationError):
    """What the command needs cannot be had: a service that does not answer, a file or
    directory that cannot be read or written, a data directory another server holds."""

    exit_code = 1


# A PostgreSQL schema name as Stratus accepts it: an unquoted identifier, so it can be named
# in SQL and in `search_path` without quoting rules to get wrong.
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True)
class PostgresSettings:
    """Where the PostgreSQL event store and read models live."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False, default="")
    schema: str = "public"

    def __post_init__(self) -> None:
        schema_name(self.schema, "the PostgreSQL schema")

    @property
    def conninfo(self) -> str:
        parts = {
            "host": self.host,
            "port": str(self.port),
            "dbname": self.dbname,
            "user": self.user,
        }
        if self.password:
            parts["password"] = self.password
        return " ".join(f"{k}='{_escape_conninfo(v)}'" for k, v in parts.items())


@dataclass(frozen=True)
class Settings:
    """Everything a Stratus process needs to know about its surroundings."""

    data_dir: Path
    postgres: PostgresSettings | None = None
    nats_url: str | None = None
    secret_key: str | None = field(repr=False, default=None)
    retired_secret_keys: str | None = field(repr=False, default=None)  # comma-separated base64
    host: str = "127.0.0.1"
    port: int = 8080
    command_retries: int = 5
    read_your_writes_timeout: float = 5.0
    write_visible_timeout: float = 60.0  # a synchronous command's wait for its object
    group_commit: bool = True
    bus_prefix: str = "stratus"
    nats_stream: str = "STRATUS"
    bus_ack_wait: float = 30.0
    nats_max_age: float = 7 * 24 * 3600.0  # seconds a message stays in the stream (0: forever)
    heartbeat_interval: float = 10.0
    heartbeat_timeout: float = 35.0
    host_down_timeout: float = 90.0
    hypervisor_job_timeout: float = 600.0  # a hypervisor job no adapter answered then fails
    aggregate_cache: int = 10_000  # aggregates kept in memory per process; 0 turns it off
    job_query_hold: float = 0.02  # seconds a poll of a pending job waits for it to finish
    cpus: frozenset[int] | None = None  # the CPUs a serving process is held on (stratus/cpus.py)
    require_signature_expiry: bool = False  # signed requests need signatureversion=3 + expires
    log_format: str = "text"  # "json": one JSON object per log line, one line per API request
    health_port: int | None = None  # the operations listener (/health/*, /metrics); None: off
    metrics_allow: tuple[IpNetwork, ...] = LOOPBACK  # who may read /metrics
    metrics_cache: float = 5.0  # seconds the read-model families of /metrics are reused
    ready_max_lag: int = 1000  # events a read model may trail the log and still be ready

    @property
    def embedded(self) -> bool:
        return self.postgres is None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "stratus.db"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("STRATUS_DATA") or "./stratus-data")
        return cls(
            data_dir=data_dir,
            postgres=_postgres_from_env(env),
            nats_url=_nats_from_env(env),
            secret_key=env.get("STRATUS_SECRET_KEY") or None,
            retired_secret_keys=env.get("STRATUS_RETIRED_SECRET_KEYS") or None,
            command_retries=_int(env, "STRATUS_COMMAND_RETRIES", 5, minimum=1),
            read_your_writes_timeout=_float(env, "STRATUS_READ_YOUR_WRITES_TIMEOUT", 5.0),
            write_visible_timeout=_float(env, "STRATUS_WRITE_VISIBLE_TIMEOUT", 60.0),
            group_commit=env.get("STRATUS_GROUP_COMMIT", "on").lower() not in ("off", "0", "no"),
            bus_prefix=_token(env, "STRATUS_BUS_PREFIX", "stratus"),
            nats_stream=_token(env, "STRATUS_NATS_STREAM", "STRATUS"),
            bus_ack_wait=_float(env, "STRATUS_BUS_ACK_WAIT", 30.0),
            nats_max_age=_float(env, "STRATUS_NATS_MAX_AGE", 7 * 24 * 3600.0),
            heartbeat_interval=_float(env, "STRATUS_HEARTBEAT_INTERVAL", 10.0),
            heartbeat_timeout=_float(env, "STRATUS_HEARTBEAT_TIMEOUT", 35.0),
            host_down_timeout=_float(env, "STRATUS_HOST_DOWN_TIMEOUT", 90.0),
            hypervisor_job_timeout=_float(env, "STRATUS_HYPERVISOR_JOB_TIMEOUT", 600.0),
            aggregate_cache=_int(env, "STRATUS_AGGREGATE_CACHE", 10_000, minimum=0),
            job_query_hold=_float(env, "STRATUS_JOB_QUERY_HOLD", 0.02),
            cpus=_cpus(env, "STRATUS_CPUS"),
            require_signature_expiry=_flag(env, "STRATUS_REQUIRE_SIGNATURE_EXPIRY", False),
            log_format=_choice(env, "STRATUS_LOG_FORMAT", ("text", "json")),
            health_port=_port(env, "STRATUS_HEALTH_PORT"),
            metrics_allow=_networks(env, "STRATUS_METRICS_ALLOW"),
            metrics_cache=_float(env, "STRATUS_METRICS_CACHE", 5.0),
            ready_max_lag=_int(env, "STRATUS_READY_MAX_LAG", 1000, minimum=0),
        )


def _escape_conninfo(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _postgres_from_env(env: Mapping[str, str]) -> PostgresSettings | None:
    url = env.get("STRATUS_DATABASE_URL")
    if url:
        return parse_database_url(url)
    if env.get("POSTGRES_DBNAME") or env.get("POSTGRES_HOST"):
        for name in ("POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_USER"):
            if not env.get(name):
                raise ConfigurationError(f"{name} is required when PostgreSQL is configured")
        return PostgresSettings(
            host=env["POSTGRES_HOST"],
            port=_int(env, "POSTGRES_PORT", 5432, minimum=1),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env.get("POSTGRES_PASSWORD", ""),
            schema=schema_name(env.get("POSTGRES_SCHEMA") or "public", "POSTGRES_SCHEMA"),
        )
    return None


def parse_database_url(url: str) -> PostgresSettings:
    """Parse postgresql://user:password@host:port/dbname?schema=S into settings."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as error:
        raise ConfigurationError(f"STRATUS_DATABASE_URL is not a valid URL: {error}") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigurationError(
            "STRATUS_DATABASE_URL must start with postgresql:// "
            f"(got scheme {parts.scheme or 'none'!r})"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname:
        raise ConfigurationError("STRATUS_DATABASE_URL must name a host and a database")
    schema = "public"
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if key == "schema" and value:
            schema = schema_name(unquote(value), "the schema in STRATUS_DATABASE_URL")
    return PostgresSettings(
        host=parts.hostname,
        port=port,
        dbname=dbname,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        schema=schema,
    )


def schema_name(name: str, source: str) -> str:
    """`name` if it is a plain identifier (letters, digits, '_'; not starting with a digit)."""
    if not _SCHEMA_NAME.fullmatch(name):
        raise ConfigurationError(
            f"{source} must be a plain name: letters, digits and '_', not starting with a digit, "
            f"at most 63 (got {name!r})"
        )
    return name


def _nats_from_env(env: Mapping[str, str]) -> str | None:
    url = env.get("STRATUS_NATS_URL")
    if not url:
        return None
    if not url.startswith(("nats://", "tls://")):
        raise ConfigurationError(f"STRATUS_NATS_URL must start with nats:// (got {url!r})")
    return url


def _token(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.replace("_", "").replace("-", "").isalnum():
        raise ConfigurationError(f"{name} may hold only letters, digits, '-' and '_'")
    return value


def make_bus_options(settings: Settings) -> dict[str, Any]:
    """What the bus factory needs from the settings (the stream only exists on NATS)."""
    options: dict[str, Any] = {"prefix": settings.bus_prefix, "ack_wait": settings.bus_ack_wait}
    if settings.nats_url:
        options["stream"] = settings.nats_stream
        options["max_age"] = settings.nats_max_age
    return options


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer (got {raw!r})") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum} (got {value})")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "yes", "1"):
        return True
    if raw in ("off", "false", "no", "0"):
        return False
    raise ConfigurationError(f"{name} must be on or off (got {raw!r})")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number (got {raw!r})") from None


def _cpus(env: Mapping[str, str], name: str) -> frozenset[int] | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return check_cpus(parse_cpus(raw))
    except CpuSetError as error:
        raise ConfigurationError(f"{name}: {error}") from None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first is the default), case-insensitive."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)} (got {raw!r})")
    return raw


def _port(env: Mapping[str, str], name: str) -> int | None:
    if not (env.get(name) or "").strip():
        return None
    value = _int(env, name, 0, minimum=0)
    if value > 65535:
        raise ConfigurationError(f"{name} must be a port number, 0 to 65535 (got {value})")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[IpNetwork, ...]:
    """Comma-separated addresses or CIDR blocks; loopback when unset."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return LOOPBACK
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in raw.split(",")
            if part.strip()
        )
    except ValueError as error:
        raise ConfigurationError(f"{name}: {error}") from None
