"""A scripted usage scenario: VM events with chosen times, and the hours they must give.

Times are wall-clock times in Europe/Berlin (UTC+1 in January), so day boundaries of the
aggregation zone differ from UTC ones. `EXPECTED` was worked out by hand from the script.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from domain.compute import Compute
from domain.configuration import Configuration
from domain.network_rule_checks import Rule, RuleKind
from domain.network_rules import ApplyTarget, NetworkRules
from domain.template import Template, TemplateSpec, os_type_id
from domain.values import Secret
from domain.vm import HostAccess, VirtualMachine
from domain.volume import Volume, root_volume_id

BERLIN = ZoneInfo("Europe/Berlin")
NS = UUID("6f1c0d1e-7a43-4b8e-9a51-2f3e4d5c6b7a")
ACCOUNT, DOMAIN, ZONE = uuid5(NS, "account"), uuid5(NS, "domain"), uuid5(NS, "zone")
CUSTOM, SMALL, LARGE = uuid5(NS, "custom"), uuid5(NS, "small"), uuid5(NS, "large")
TEMPLATE = uuid5(NS, "template")
DISK_SMALL, DISK_LARGE = uuid5(NS, "disk-small"), uuid5(NS, "disk-large")
DATA_DISK, IMAGE = uuid5(NS, "data-disk"), uuid5(NS, "image")
GIB = 1024**3


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
                keyboard="",
            )
        )
        return self

    def then(self, kind: type, at: str, compute: dict[str, Any], **extra: Any) -> VmScript:
        if kind is not VirtualMachine.Recovered:  # the only one that names no request
            extra["request_id"] = "r"
        self.events.append(kind(**self._base(at), compute=compute, **extra))
        return self


def timed(events: list[Any], *times: str) -> list[Any]:
    """An aggregate's collected events, each given its instant (Berlin wall-clock time)."""
    assert len(events) == len(times)
    return [replace(e, timestamp=berlin(at)) for e, at in zip(events, times, strict=True)]


def settings_events(zone: str = "Europe/Berlin", at: str = "2026-01-01 00:00") -> list[Any]:
    """The usage time zone, set before any usage (settings apply from their instant)."""
    setting = Configuration(name="usage.aggregation.timezone")
    setting.set(zone)
    return timed(setting.collect_events(), at, at)


def volume_events() -> list[Any]:
    """ROOT disks of both VMs (web's outlives the scenario) and a data disk that grows."""
    web_root = Volume(
        root_volume_id(uuid5(NS, "web")),
        "ROOT-web",
        "ROOT",
        ACCOUNT,
        DOMAIN,
        ZONE,
        20,
        SMALL,
        TEMPLATE,
        uuid5(NS, "web"),
    )
    db_root = Volume(
        root_volume_id(uuid5(NS, "db")),
        "ROOT-db",
        "ROOT",
        ACCOUNT,
        DOMAIN,
        ZONE,
        20,
        SMALL,
        TEMPLATE,
        uuid5(NS, "db"),
    )
    db_root.destroy_with_vm()
    data = Volume(DATA_DISK, "data", "DATADISK", ACCOUNT, DOMAIN, ZONE, 10, DISK_SMALL, None, None)
    data.resize(20, DISK_LARGE, shrink_ok=False)
    data.delete()
    return (
        timed(web_root.collect_events(), "2026-01-10 22:00")
        + timed(db_root.collect_events(), "2026-01-11 08:00", "2026-01-12 06:30")
        + timed(data.collect_events(), "2026-01-11 12:00", "2026-01-12 00:30", "2026-01-12 06:30")
    )


def template_events() -> list[Any]:
    """An image downloaded to the zone on the evening of the 10th, removed on the 12th."""
    spec = TemplateSpec(
        "img",
        "img",
        "http://images.example.org/img.qcow2",
        "KVM",
        "QCOW2",
        os_type_id("Ubuntu 14.04 (64-bit)"),
    )
    image = Template(
        asdict(spec), {"account_id": ACCOUNT, "domain_id": DOMAIN, "domain_path": "/"}, id=IMAGE
    )
    image.request_download(ZONE, "dl-1")
    image.download_completed(zone_id=ZONE, request_id="dl-1", size=8 * GIB, physical=3 * GIB)
    image.delete(ZONE)
    return timed(
        image.collect_events(),
        "2026-01-10 19:00",
        "2026-01-10 19:01",
        "2026-01-10 20:00",
        "2026-01-12 18:00",
    )


def vm_events() -> list[Any]:
    """Every VM event of the scenario, in time order."""
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


def scenario() -> list[Any]:
    """Every event of the scenario (settings, VMs, volumes, image), in time order."""
    events = settings_events() + vm_events() + volume_events() + template_events()
    return sorted(events, key=lambda e: e.timestamp)


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

# (day, usage type, resource name, size in GiB): hours, for volumes and the image.
STORAGE_EXPECTED = {
    ("2026-01-10", 6, "ROOT-web", 20): "2",
    ("2026-01-11", 6, "ROOT-web", 20): "24",
    ("2026-01-12", 6, "ROOT-web", 20): "24",
    ("2026-01-11", 6, "ROOT-db", 20): "16",
    ("2026-01-12", 6, "ROOT-db", 20): "6.5",
    ("2026-01-11", 6, "data", 10): "12",
    ("2026-01-12", 6, "data", 10): ".5",
    ("2026-01-12", 6, "data", 20): "6",
    ("2026-01-10", 7, "img", 3): "4",
    ("2026-01-11", 7, "img", 3): "24",
    ("2026-01-12", 7, "img", 3): "18",
}


def expected_hours() -> dict[tuple[Any, ...], str]:
    """Every hand-computed record: VMs by offering and custom CPUs, storage by size in GiB."""
    custom = {"web"}
    vms = {
        (day, kind, name, str(offering), cpus if name in custom else None): hours
        for (day, kind, name, offering, cpus), hours in EXPECTED.items()
    }
    return {**vms, **STORAGE_EXPECTED}


def observed_hours(items: list[dict[str, Any]]) -> dict[tuple[Any, ...], str]:
    """The same keys, read from records as CloudStack prints them."""
    found = {}
    for item in items:
        day, kind = item["startdate"][:10], item["usagetype"]
        if kind in (1, 2):
            key = (day, kind, item["name"], item["offeringid"], item.get("cpunumber"))
        else:
            name = item.get("name") or {str(IMAGE): "img"}[item["usageid"]]
            key = (day, kind, name, item["size"] // GIB)
        assert key not in found, f"two records for {key}"
        found[key] = item["rawusage"]
    return found


# Network rules: load balancer (11) and port forwarding (12) ------------------------------------

PF_RULE, LB_RULE, FAILED_RULE = uuid5(NS, "pf-ssh"), uuid5(NS, "lb-www"), uuid5(NS, "pf-failed")


def _rule(rule_id: UUID, kind: str, port: int, **values: Any) -> Rule:
    base = Rule(rule_id, kind, uuid5(NS, "ip"), "203.0.113.5", ACCOUNT, DOMAIN, ZONE, "tcp")
    return replace(base, start_port=port, end_port=port, private_start=port, **values)


def rule_events() -> list[Any]:
    """An ssh forwarding rule from the evening of the 10th to the morning of the 12th, a load
    balancer from the morning of the 11th that outlives the scenario, and a forwarding rule
    on the 12th whose apply failed half an hour after it was created."""
    access = HostAccess(uuid5(NS, "host"), "simulator://h1", "root", Secret("pw"), "Simulator")
    target = ApplyTarget(uuid5(NS, "router"), "r-7-VM", access)
    rules = NetworkRules(uuid5(NS, "network"), ZONE, ACCOUNT, DOMAIN)
    ssh = rules.add(_rule(PF_RULE, RuleKind.PORT_FORWARDING, 22, private_end=22))
    rules.request_apply("a", None, target, ((ssh,), ()), {})
    rules.applied("a")
    www = rules.add(_rule(LB_RULE, RuleKind.LOAD_BALANCING, 80, name="www", algorithm="source"))
    rules.request_apply("b", None, target, ((www,), ()), {})
    rules.applied("b")
    rules.request_apply(
        "c", None, target, ((), tuple(rules.revoke(PF_RULE, RuleKind.PORT_FORWARDING))), {}
    )
    rules.applied("c")
    failed = rules.add(_rule(FAILED_RULE, RuleKind.PORT_FORWARDING, 443, private_end=443))
    rules.request_apply("d", None, target, ((failed,), ()), {})
    rules.apply_failed("d", "the router is down")
    return timed(
        rules.collect_events(),
        "2026-01-10 21:00",  # opened
        *("2026-01-10 21:30", "2026-01-10 21:30", "2026-01-10 21:31", "2026-01-10 21:31"),
        *("2026-01-11 06:00", "2026-01-11 06:00", "2026-01-11 06:01", "2026-01-11 06:01"),
        *("2026-01-12 09:00", "2026-01-12 09:00", "2026-01-12 09:45", "2026-01-12 09:45"),
        *("2026-01-12 12:00", "2026-01-12 12:00", "2026-01-12 12:30", "2026-01-12 12:30"),
    )


# (day, usage type, rule): hours, worked out by hand from `rule_events` (Berlin days).
RULE_EXPECTED = {
    ("2026-01-10", 12, str(PF_RULE)): "2.5",
    ("2026-01-11", 12, str(PF_RULE)): "24",
    ("2026-01-12", 12, str(PF_RULE)): "9.75",
    ("2026-01-11", 11, str(LB_RULE)): "18",
    ("2026-01-12", 11, str(LB_RULE)): "24",
    ("2026-01-12", 12, str(FAILED_RULE)): ".5",
}


# Security groups (10) and VPN users (14) -------------------------------------------------------

GROUP, WEB_VM, DB_VM = uuid5(NS, "group-web"), uuid5(NS, "vm-web"), uuid5(NS, "vm-db")
CAROL, DAVE = uuid5(NS, "vpn-carol"), uuid5(NS, "vpn-dave")


def access_events() -> list[Any]:
    """A group that the web VM is in from the evening of the 10th until it is expunged on the
    morning of the 12th, and the db VM from the morning of the 11th on; VPN user carol for two
    and a half hours around midnight of the 10th, and again from the evening of the 12th; dave
    from noon of the 11th on."""
    from domain.security_group import SecurityGroup
    from domain.vpn import VpnUser

    group = SecurityGroup(GROUP, "web", "", ACCOUNT, DOMAIN)
    group.join(WEB_VM, "web", ZONE)
    group.join(DB_VM, "db", ZONE)
    group.leave(WEB_VM)
    carol = VpnUser(CAROL, "carol", Secret("carol-pw"), ACCOUNT, DOMAIN)
    carol.revoke()
    carol.drop()
    carol.add_again(Secret("carol-pw2"))
    dave = VpnUser(DAVE, "dave", Secret("dave-pw"), ACCOUNT, DOMAIN)
    events = timed(
        group.collect_events(),
        *("2026-01-10 20:00", "2026-01-10 21:00", "2026-01-11 10:00", "2026-01-12 06:30"),
    )
    events += timed(
        carol.collect_events(),
        *("2026-01-10 23:15", "2026-01-11 01:45", "2026-01-11 01:45", "2026-01-12 18:00"),
    )
    events += timed(dave.collect_events(), "2026-01-11 12:00")
    return sorted(events, key=lambda e: e.timestamp)


# (day, usage type, VM of the membership or VPN user name): hours, by hand (Berlin days).
ACCESS_EXPECTED = {
    ("2026-01-10", 10, str(WEB_VM)): "3",
    ("2026-01-11", 10, str(WEB_VM)): "24",
    ("2026-01-12", 10, str(WEB_VM)): "6.5",
    ("2026-01-11", 10, str(DB_VM)): "14",
    ("2026-01-12", 10, str(DB_VM)): "24",
    ("2026-01-10", 14, "carol"): ".75",
    ("2026-01-11", 14, "carol"): "1.75",
    ("2026-01-12", 14, "carol"): "6",
    ("2026-01-11", 14, "dave"): "12",
    ("2026-01-12", 14, "dave"): "24",
}
