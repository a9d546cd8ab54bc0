"""How a simulated host answers one action (configureSimulator): an operator's setting that a
simulator adapter keeps on the host, as CloudStack 4.3's simulator keeps its mocks."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter
from domain.values import Secret

# CloudStack's agent commands, by the simulator action that does their work here.
AGENT_COMMANDS = {
    "StartCommand": "start_vm",
    "StopCommand": "stop_vm",
    "RebootCommand": "reboot_vm",
    "AttachVolumeCommand": "attach_volume",
    "AttachIsoCommand": "attach_iso",
    "MigrateCommand": "migrate_vm",
    "CreateVMSnapshotCommand": "create_vm_snapshot",
    "ScaleVmCommand": "scale_vm",
}
MAX_WAIT_SECONDS = 600.0


def mock_id(host_id: UUID, action: str) -> UUID:
    return uuid5(host_id, f"simulator-mock/{action}")


def parse_values(text: str) -> tuple[bool, float]:
    """4.3's `value`: `key:value` pairs separated by `;` — `enabled` (false: the action fails)
    and `wait` (milliseconds before it answers)."""
    enabled, wait = True, 0.0
    for pair in (p for p in text.split(";") if p.strip()):
        key, sep, value = pair.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in ("enabled", "wait"):
            raise InvalidParameter(
                f"Invalid simulator setting {pair!r}: use enabled:<true|false> and wait:<ms>"
            )
        if key == "enabled":
            if value.lower() not in ("true", "false"):
                raise InvalidParameter(
                    f"Invalid simulator setting {pair!r}: enabled is true or false"
                )
            enabled = value.lower() == "true"
        else:
            try:
                wait = int(value) / 1000
            except ValueError:
                raise InvalidParameter(
                    f"Invalid simulator setting {pair!r}: wait is milliseconds"
                ) from None
            if not 0 <= wait <= MAX_WAIT_SECONDS:
                raise InvalidParameter(f"wait must be 0 to {int(MAX_WAIT_SECONDS * 1000)} ms")
    return enabled, wait


class SimulatorMock(Aggregate):
    """One simulated host's answer to one action; only the result of the request in flight
    says whether the host took it."""

    @event("Created")
    def __init__(self, id: UUID, host_id: UUID, action: str) -> None:
        self.host_id, self.action = host_id, action
        self.enabled, self.wait_seconds = True, 0.0
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.applied = False

    def request(
        self,
        request_id: str,
        job_id: UUID | None,
        setting: tuple[bool, float],
        access: tuple[str, str, Secret],
    ) -> None:
        """Send the setting to the host (`access`: its URL, username and password)."""
        url, username, password = access
        self._requested(
            request_id=request_id,
            job_id=job_id,
            host_id=self.host_id,
            action=self.action,
            enabled=setting[0],
            wait_seconds=setting[1],
            url=url,
            username=username,
            password=password,
        )

    @event("Requested")
    def _requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        action: str,
        enabled: bool,
        wait_seconds: float,
        url: str,
        username: str,
        password: Secret,
    ) -> None:
        self.request_id, self.job_id = request_id, job_id
        self.enabled, self.wait_seconds = enabled, wait_seconds
        self.applied = False

    def is_current(self, request_id: str) -> bool:
        return request_id == self.request_id

    @event("Applied")
    def applied_on_host(self, request_id: str) -> None:
        self.request_id, self.applied = None, True

    @event("Failed")
    def failed(self, request_id: str, reason: str) -> None:
        self.request_id = None
