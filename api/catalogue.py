"""The command catalogue as a whole: every declaration held against the shipped 4.3 reference.

`drift()` names each way a declaration departs from 4.3 without a declared reason; `coverage()`
counts what is implemented per command family; `families()` groups 4.3's commands the way its
API packages do, by the noun they act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from api.access import Role
from api.dispatch import ApiCommand
from api.reference import DOMAIN_ADMIN_BIT, USER_BIT, ReferenceCommand, reference


def declared() -> tuple[ApiCommand, ...]:
    """Every command the server answers, in name order."""
    from api.cloudstack import tables

    return tuple(sorted((c for table in tables() for c in table), key=lambda c: c.name))


@cache
def renderers() -> dict[str, Callable[[Any, str], dict[str, Any]]]:
    """How a finished job answers the object it names, by that object's key, from the
    declarations of the async commands that make or change it."""
    found: dict[str, Callable[[Any, str], dict[str, Any]]] = {}
    for command in declared():
        if command.render is not None:
            found.setdefault(command.render_key, command.render)
    return found


def role_of_bits(roles: int) -> Role:
    """The least Stratus role that 4.3's bitmask admits (8 user, 4 domain admin, 1|2 root)."""
    if roles & USER_BIT:
        return Role.USER
    if roles & DOMAIN_ADMIN_BIT:
        return Role.DOMAIN_ADMIN
    return Role.ROOT_ADMIN


# ---- drift ------------------------------------------------------------------------------


def drift(commands: Iterable[ApiCommand] | None = None) -> list[str]:
    """Every undeclared difference between the declarations and the 4.3 reference."""
    ref = reference()
    problems: list[str] = []
    for command in declared() if commands is None else commands:
        known = ref.get(command.name)
        if known is None:
            if not command.extension:
                problems.append(f"{command.name}: not a 4.3 command and not declared an extension")
            continue
        if command.extension:
            problems.append(f"{command.name}: declared an extension but 4.3 has it")
        problems += [f"{command.name}: {text}" for text in _command_drift(command, known)]
    return problems


def _command_drift(command: ApiCommand, known: ReferenceCommand) -> Iterator[str]:
    """A command the reference lists without detail (its role alone) follows 4.3's
    documentation for its parameters and async flag: only the role is held against it."""
    if known.described and command.is_async != known.is_async:
        yield f"async is {command.is_async}, 4.3 says {known.is_async}"
    if command.shape == "async" and not command.is_async:
        yield "answers with a job but is not declared async"
    if command.render is not None and renderers().get(command.render_key) is not command.render:
        yield f"renders {command.render_key or 'its job result'} unlike the other commands"
    expected_role = role_of_bits(known.roles)
    if (command.role != expected_role) != bool(command.role_extension):
        state = "undeclared" if not command.role_extension else "declared but no"
        yield f"{state} role difference ({command.role.name}, 4.3: {expected_role.name})"
    if known.described:
        yield from _param_drift(command, known)


def _param_drift(command: ApiCommand, known: ReferenceCommand) -> Iterator[str]:
    specs = {spec.name: spec for spec in command.specs}
    for name in sorted(set(known.params) - set(specs)):
        yield f"lacks 4.3 parameter {name}"
    for name, spec in specs.items():
        differs = name not in known.params or spec.required != (name in known.required)
        if differs and not spec.extension:
            what = "not a 4.3 parameter" if name not in known.params else "required flag differs"
            yield f"parameter {name}: {what}, and no extension is declared"
        if spec.extension and not differs:
            yield f"parameter {name}: declared an extension but matches 4.3"


# ---- families and coverage --------------------------------------------------------------

# 4.3's API packages, by the noun a command acts on; the first pattern that matches wins.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("Baremetal", "Baremetal"),
    ("Ucs", "UCS"),
    ("Filer|Lun|^Pools?$", "NetApp"),
    (
        "Cisco|Nicira|BigSwitch|F5|Srx|PaloAlto|Netscaler|External|NetworkDevice|TrafficMonitor",
        "Network devices",
    ),
    ("Ldap", "LDAP"),
    ("Project", "Projects"),
    ("AutoScale|Condition|Counter", "Auto scale"),
    ("AffinityGroup", "Affinity groups"),
    ("VMSnapshot", "VM snapshots"),
    ("Snapshot", "Snapshots"),
    ("Vpn", "VPN"),
    ("SecurityGroup", "Security groups"),
    ("LoadBalancer|LB|SslCert", "Load balancers"),
    ("Firewall|PortForwarding|IpForwarding|StaticNat|NetworkACL", "Firewall and NAT"),
    ("VPC|PrivateGateway|StaticRoute", "VPC"),
    ("PublicIp|IpAddress|PortableIp|VlanIpRange|GuestVlan|IpToNic|IpFromNic", "Addresses"),
    ("NetworkOffering", "Network offerings"),
    ("ServiceOffering|DiskOffering", "Offerings"),
    ("Router|SystemVm", "Routers and system VMs"),
    ("Network|Nic|TrafficType|StorageNetworkIpRange", "Networks"),
    ("Template|Iso|OsType|OsCategor", "Templates and ISOs"),
    ("Volume|Stor|ImageStore|S3|Swift", "Storage"),
    ("VirtualMachine|VMPassword|InstanceGroup|SSHKey|VMReservation", "Virtual machines"),
    ("Zone|Pod|Cluster|Host|Hypervisor|Dedicated|Capacity|VmwareDc", "Infrastructure"),
    ("Account|User|Domain|Resource(Limit|Count)|ApiLimit|Region", "Accounts and domains"),
    ("Usage", "Usage"),
    ("Event|Alert|AsyncJob", "Events, alerts and jobs"),
)
OTHER_FAMILY = "System"


def family_of(name: str) -> str:
    """The family of a command, by the noun after its verb."""
    noun = re.sub(r"^[a-z]+", "", name)
    for pattern, family in FAMILIES:
        if re.search(pattern, noun):
            return family
    return OTHER_FAMILY


@dataclass(frozen=True)
class Coverage:
    """How much of one family of 4.3 commands the server answers."""

    family: str
    implemented: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.implemented) + len(self.missing)


def coverage(commands: Iterable[ApiCommand] | None = None) -> list[Coverage]:
    """Implemented and missing 4.3 commands per family, families in name order."""
    names = {c.name for c in (declared() if commands is None else commands)}
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for name in reference():
        done, missing = groups.setdefault(family_of(name), ([], []))
        (done if name in names else missing).append(name)
    return [
        Coverage(family, tuple(done), tuple(missing))
        for family, (done, missing) in sorted(groups.items())
    ]


def coverage_report(commands: Iterable[ApiCommand] | None = None) -> str:
    """`stratus api coverage`: implemented/total per family and the names still missing."""
    rows = coverage(commands)
    lines = []
    for row in rows:
        lines.append(f"{row.family}: {len(row.implemented)}/{row.total}")
        if row.missing:
            lines.append("  missing: " + ", ".join(row.missing))
    done = sum(len(row.implemented) for row in rows)
    lines.append(f"Total: {done}/{sum(row.total for row in rows)}")
    return "\n".join(lines) + "\n"


# ---- audit of families -----------------------------------------------------------------


def all_families() -> tuple[str, ...]:
    """Every family of the 4.3 reference, in name order."""
    return tuple(sorted({family_of(name) for name in reference()}))


def audit(families: Iterable[str] | None = None) -> list[str]:
    """For every 4.3 command of the families: whether it is declared, each 4.3 parameter the
    declaration lacks, each one it refuses by name (a feature not built) and each 4.3 response
    field its answers leave out (`api.response_gaps`), with the reason given."""
    from api.response_gaps import UNBUILT_FIELDS

    wanted = set(all_families() if families is None else families)
    specs = {command.name: command for command in declared()}
    lines: list[str] = []
    for name, known in sorted(reference().items()):
        if family_of(name) not in wanted:
            continue
        command = specs.get(name)
        if command is None:
            lines.append(f"{name}: not built (432)")
            continue
        params = {spec.name: spec for spec in command.specs}
        lines += [f"{name}: lacks parameter {p}" for p in sorted(set(known.params) - set(params))]
        lines += [
            f"{name}: refuses parameter {spec.name} (431): {spec.unsupported}"
            for spec in command.specs
            if spec.unsupported
        ]
        gaps = UNBUILT_FIELDS.get(name, {})
        lines += [f"{name}: answers without {field}: {why}" for field, why in sorted(gaps.items())]
    return lines


def audit_report(families: Iterable[str] = ()) -> str:
    """`stratus api audit [FAMILY...]`: what the families' commands (all, when none is named)
    lack against 4.3."""
    wanted = tuple(families)
    lines = audit(wanted or None)
    head = f"{', '.join(wanted) or 'All families'}: {len(lines)} finding(s)"
    return "\n".join([head, *lines]) + "\n"
