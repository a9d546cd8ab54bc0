"""Messages exchanged with hypervisor adapters over the bus: the only code adapters share with us.

Work goes out on `<prefix>.work.<hypervisor>.<action>`, results come back on
`<prefix>.results.<hypervisor>`, heartbeats on `<prefix>.heartbeats.<hypervisor>`; the prefix
is `stratus` unless STRATUS_BUS_PREFIX says otherwise. Payloads are
orjson-encoded dicts; credentials travel sealed with the cloud's secret key, never in clear text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import orjson

DEFAULT_PREFIX = "stratus"
WORK = "work"
RESULTS = "results"
HEARTBEATS = "heartbeats"


@dataclass(frozen=True)
class WorkRequest:
    """Ask an adapter to do one action; `request_id` makes redelivery harmless.

    `job_id` and `origin_request_id` name the job and the API request the work was asked for;
    the adapter hands them back unchanged in its result, so the audit trail can follow them.
    """

    request_id: str
    hypervisor: str
    action: str
    target_id: str
    params: dict[str, Any] = field(default_factory=dict)
    sealed_credentials: str | None = None
    job_id: str | None = None
    origin_request_id: str | None = None

    def subject(self, prefix: str = DEFAULT_PREFIX) -> str:
        return f"{prefix}.{WORK}.{self.hypervisor.lower()}.{self.action}"


# Set in a failed result's `data` when no adapter answered and the server gave up on the
# request (the stuck-job sweeper): an adapter may still do the work later.
ABANDONED = "abandoned"


@dataclass(frozen=True)
class WorkResult:
    """What an adapter reports back about one request."""

    request_id: str
    hypervisor: str
    action: str
    target_id: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    job_id: str | None = None
    origin_request_id: str | None = None

    def subject(self, prefix: str = DEFAULT_PREFIX) -> str:
        return f"{prefix}.{RESULTS}.{self.hypervisor.lower()}"


@dataclass(frozen=True)
class Heartbeat:
    """An adapter saying that the hosts it manages are alive."""

    worker: str
    hypervisor: str
    host_ids: tuple[str, ...] = ()

    def subject(self, prefix: str = DEFAULT_PREFIX) -> str:
        return f"{prefix}.{HEARTBEATS}.{self.hypervisor.lower()}"


def encode(message: WorkRequest | WorkResult | Heartbeat) -> bytes:
    return orjson.dumps(asdict(message))


def decode_request(payload: bytes) -> WorkRequest:
    return WorkRequest(**_known(WorkRequest, orjson.loads(payload)))


def decode_result(payload: bytes) -> WorkResult:
    return WorkResult(**_known(WorkResult, orjson.loads(payload)))


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    """The fields this version knows: a message from an older or newer version still decodes
    (fields it lacks take their defaults, fields added later are left out)."""
    if not isinstance(data, dict):
        raise TypeError(f"a {kind.__name__} is an object, not {type(data).__name__}")
    names = {f.name for f in fields(kind)}
    return {key: value for key, value in data.items() if key in names}


def decode_heartbeat(payload: bytes) -> Heartbeat:
    data = orjson.loads(payload)
    data["host_ids"] = tuple(data.get("host_ids", ()))
    return Heartbeat(**data)


def seal_credentials(
    box: Any, url: str, username: str, password: str, *, secrets: dict[str, Any] | None = None
) -> str:
    """Credentials for an adapter, sealed with the cloud's key (`box` is a SecretBox). Secrets
    the action itself needs (a VPN's pre-shared key and users) travel in the same seal."""
    opened: dict[str, Any] = {"url": url, "username": username, "password": password}
    if secrets:
        opened["secrets"] = secrets
    return box.seal(orjson.dumps(opened).decode())


def open_credentials(box: Any, sealed: str) -> dict[str, Any]:
    """The adapter side: url, username, password (and any secrets), in memory only."""
    return orjson.loads(box.open(sealed))
