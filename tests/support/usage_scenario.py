"""A scripted usage scenario: VM events with chosen times, and the hours they must give.

Times are wall-clock times in Europe/Berlin (UTC+1 in January), so day boundaries of the
aggregation zone differ from UTC ones. `EXPECTED` was worked out by hand from the script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from domain.vm import Compute, VirtualMachine

BERLIN = ZoneInfo("Europe/Berlin")
NS = UUID("6f1c0d1e-7a43-4b8e-9a51-2f3e4d5c6b7a")
ACCOUNT, DOMAIN, ZONE = uuid5(NS, "account"), uuid5(NS, "domain"), uuid5(NS, "zone")
CUSTOM, SMALL, LARGE = uuid5(NS, "custom"), uuid5(NS, "small"), uuid5(NS, "large")
TEMPLATE = uuid5(NS, "template")


def berlin(text: str) -> datetime:
    """An instant given as Berlin wall-clock time, `yyyy-mm-dd HH:MM`."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def shape(offering: UUID, cpus: int, mhz: int, memory: int, *, custom: bool) -> dict[str, Any]:
    return Compute(offering, cpus, mhz, memory, custom, TEMPLATE, "KVM", 20).facts()


WEB_A = shape(CUSTOM, 2, 1000, 2048, custom=True)
WEB_B = shape(CUSTOM, 4, 1000, 4096, custom=True)
DB_SMALL = shape(SMALL, 1, 500, 512, custom=False)
DB_LARGE = shape(LARGE, 2, 1000, 1024, custom=False)


@dataclass
class VmScript:
    """Builds one VM's events in order, each at the instant given."""

    name: str
    vm_id: UUID = field(init=False)
    events: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.vm_id = uuid5(NS, self.name)

    def _base(self, at: str) -> dict[str, Any]:
        version = len(self.events) + 1
        return {"originator_id": self.vm_id, "originator_version": version, "timestamp": berlin(at)}

    def deploy(self, at: str, compute: dict[str, Any]) -> VmScript:
        self.events.append(
            VirtualMachine.Deployed(
                **self._base(at),
                originator_topic="domain.vm:VirtualMachine",
                name=self.name,
                display_name=self.name,
                instance_name=f"i-2-{len(self.name)}-VM",
                owner_account_id=ACCOUNT,
                owner_domain_id=DOMAIN,
                zone_id=ZONE,
                guest_os_id="linux",
                compute=compute,
            )
        )
        return self

    def then(self, kind: type, at: str, compute: dict[str, Any], **extra: Any) -> VmScript:
        if kind is not VirtualMachine.Recovered:  # the only one that names no request
            extra["request_id"] = "r"
        self.events.append(kind(**self._base(at), compute=compute, **extra))
        return self


def scenario() -> list[Any]:
    """Every event of the scenario, in the order a log would hold them."""
    web = (
        VmScript("web")
        .deploy("2026-01-10 22:00", WEB_A)
        .then(VirtualMachine.Started, "2026-01-10 23:00", WEB_A, host_id=None)
        .then(VirtualMachine.Stopped, "2026-01-11 02:30", WEB_A)
        .then(VirtualMachine.Scaled, "2026-01-11 03:00", WEB_B)
        .then(VirtualMachine.Started, "2026-01-11 06:00", WEB_B, host_id=None)
        .then(VirtualMachine.Destroyed, "2026-01-12 12:00", WEB_B)
    )
    db = (
        VmScript("db")
        .deploy("2026-01-11 08:00", DB_SMALL)
        .then(VirtualMachine.Started, "2026-01-11 08:15", DB_SMALL, host_id=None)
        .then(VirtualMachine.Scaled, "2026-01-11 20:15", DB_LARGE)
        .then(VirtualMachine.Stopped, "2026-01-12 01:00", DB_LARGE)
        .then(VirtualMachine.Destroyed, "2026-01-12 06:00", DB_LARGE)
        .then(VirtualMachine.Expunged, "2026-01-12 06:30", DB_LARGE)
    )
    return sorted(web.events + db.events, key=lambda e: e.timestamp)


# (day, usage type, vm name, offering, cpu number): raw usage, as CloudStack prints it.
EXPECTED = {
    ("2026-01-10", 2, "web", CUSTOM, 2): "2",
    ("2026-01-10", 1, "web", CUSTOM, 2): "1",
    ("2026-01-11", 2, "web", CUSTOM, 2): "3",
    ("2026-01-11", 2, "web", CUSTOM, 4): "21",
    ("2026-01-11", 1, "web", CUSTOM, 2): "2.5",
    ("2026-01-11", 1, "web", CUSTOM, 4): "18",
    ("2026-01-12", 2, "web", CUSTOM, 4): "12",
    ("2026-01-12", 1, "web", CUSTOM, 4): "12",
    ("2026-01-11", 2, "db", SMALL, 1): "12.25",
    ("2026-01-11", 2, "db", LARGE, 2): "3.75",
    ("2026-01-11", 1, "db", SMALL, 1): "12",
    ("2026-01-11", 1, "db", LARGE, 2): "3.75",
    ("2026-01-12", 2, "db", LARGE, 2): "6",
    ("2026-01-12", 1, "db", LARGE, 2): "1",
}
