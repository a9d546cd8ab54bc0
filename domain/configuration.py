"""Configuration: typed, validated settings with a global value and per-scope overrides."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter
from domain.kept_settings import kept_settings
from domain.planners import ALGORITHMS
from domain.resource_limits import IN_GIB, KINDS
from domain.values import Secret

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}")
_NAMESPACE = UUID("8d1b1c9e-2f0a-4c55-8e3b-0b6f5f7d9a21")

GLOBAL = "global"
SCOPES = (GLOBAL, "zone", "cluster", "account", "storagepool")


@dataclass(frozen=True)
class Definition:
    """What a setting is: its type, default, limits and where it may be overridden."""

    name: str
    # "int", "float", "fraction" (a float from 0 to 1), "bool", "string", "timezone", "cidrs"
    # (comma-separated CIDRs), "choice"
    # (one of `choices`), "secret" (a password: sealed where it is kept, never shown), "label"
    # (letters, digits and hyphens, as a part of a host name)
    kind: str
    default: str
    category: str
    description: str
    scopes: tuple[str, ...] = (GLOBAL,)
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()  # the values a "choice" setting takes

    def validate(self, value: str) -> str:
        """The value in its canonical text form, or InvalidParameter naming the setting."""
        if self.kind == "int":
            return self._validate_int(value)
        if self.kind == "bool":
            if value.lower() not in ("true", "false"):
                raise InvalidParameter(f"Configuration {self.name} must be true or false")
            return value.lower()
        if self.kind == "timezone":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidParameter(f"{value!r} is not a known time zone") from None
        if self.kind == "cidrs":
            return self._validate_cidrs(value)
        if self.kind in ("float", "fraction"):
            return self._validate_float(value)
        if self.kind == "label" and not _LABEL.fullmatch(value):
            raise InvalidParameter(
                f"Configuration {self.name} must be 1 to 20 letters, digits or hyphens"
            )
        if self.kind == "choice" and value not in self.choices:
            raise InvalidParameter(
                f"Configuration {self.name} must be one of {', '.join(self.choices)}"
            )
        return value

    def _validate_float(self, value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            raise InvalidParameter(f"Configuration {self.name} must be a number") from None
        if not (math.isfinite(number) and number >= (self.minimum or 0)):
            raise InvalidParameter(f"Configuration {self.name} must be at least {self.minimum}")
        if self.kind == "fraction" and number > 1:
            raise InvalidParameter(
                f"Please enter a value between 0 and 1 for the configuration parameter: {self.name}"
            )
        return repr(number)

    def _validate_int(self, value: str) -> str:
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameter(f"Configuration {self.name} must be an integer") from None
        if self.minimum is not None and number < self.minimum:
            raise InvalidParameter(f"Configuration {self.name} must be at least {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise InvalidParameter(f"Configuration {self.name} must be at most {self.maximum}")
        return str(number)

    def _validate_cidrs(self, value: str) -> str:
        """Canonical CIDRs; none may span every address (4.3: 0.0.0.0 is not a valid site)."""
        networks = []
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise InvalidParameter(
                    f"Configuration {self.name} must be a comma-separated list of CIDRs: "
                    f"{entry!r} is not one"
                ) from None
            if network.prefixlen == 0:
                raise InvalidParameter(f"{entry} is not a valid site for {self.name}")
            networks.append(str(network))
        return ",".join(networks)


def _template(hypervisor: str, label: str) -> Definition:
    return Definition(
        f"router.template.{hypervisor}",
        "string",
        f"SystemVM Template ({label})",
        "Advanced",
        f"Name of the default router template on {label}",
        (GLOBAL, "zone"),
    )


def _operations_settings() -> tuple[Definition, ...]:
    """The settings of a CloudStack test environment's start that Stratus acts on (the others
    it sets are kept in `kept_settings.tsv`), with 4.3's defaults."""
    seconds = (
        ("expunge.delay", "86400", "Seconds a destroyed VM waits before it is expunged"),
        ("expunge.interval", "86400", "Seconds between two runs of the expunger"),
        (
            "account.cleanup.interval",
            "86400",
            "Seconds after which what a removed account still owns is tried again",
        ),
    )
    return (
        *(
            Definition(name, "int", default, "Advanced", text, minimum=0)
            for name, default, text in seconds
        ),
        Definition(
            "instance.name",
            "label",
            "VM",
            "Advanced",
            "Name of the deployment instance: the last part of every VM's instance name",
        ),
        Definition(
            "enable.dynamic.scale.vm",
            "bool",
            "false",
            "Advanced",
            "Whether running VMs may be scaled",
            (GLOBAL, "zone"),
        ),
    )


CLOUD_IDENTIFIER = "cloud.identifier"
HIDDEN = "Hidden"  # the cloud's own settings: neither listed nor changed through the API


def _ldap_settings() -> tuple[Definition, ...]:
    """How users are found in the LDAP directory and checked against it (4.3's `ldap.*`)."""
    named = (
        ("ldap.basedn", "string", "", "The base DN under which users and groups are searched"),
        ("ldap.bind.principal", "string", "", "The DN the server binds as to search"),
        ("ldap.user.object", "string", "inetOrgPerson", "The object class of users"),
        ("ldap.username.attribute", "string", "uid", "The attribute holding a user's name"),
        ("ldap.email.attribute", "string", "mail", "The attribute holding a user's email"),
        ("ldap.firstname.attribute", "string", "givenname", "The attribute of the first name"),
        ("ldap.lastname.attribute", "string", "sn", "The attribute of the last name"),
        ("ldap.group.object", "string", "groupOfUniqueNames", "The object class of groups"),
        (
            "ldap.group.user.uniquemember",
            "string",
            "uniquemember",
            "The attribute of a group that lists its members' DNs",
        ),
        (
            "ldap.search.group.principle",
            "string",
            "",
            "When set, the DN of the only group whose members are listed and may log in",
        ),
        (
            "ldap.truststore",
            "string",
            "",
            "When set, a PEM file of the certificate authorities the LDAP servers are checked "
            "against, and the servers are reached over LDAPS",
        ),
    )
    found = [Definition(name, kind, value, "Advanced", text) for name, kind, value, text in named]
    found.append(
        Definition(
            "ldap.read.timeout",
            "int",
            "1000",
            "Advanced",
            "Milliseconds to wait for an LDAP server to connect or answer",
            minimum=1,
            maximum=600000,
        )
    )
    for name, text in (
        ("ldap.bind.password", "The password of the bind principal"),
        ("ldap.truststore.password", "The password of the truststore"),
    ):
        found.append(Definition(name, "secret", "", "Secure", text))
    return tuple(found)


def _limit_defaults() -> tuple[Definition, ...]:
    """The default resource limits of accounts and of domains (`max.account.*`, `max.domain.*`)."""
    found = []
    for kind, spec in KINDS.items():
        unit = " (in GiB)" if kind in IN_GIB else " (in MiB)" if spec.word == "memory" else ""
        for owner, default in (("account", spec.account_default), ("domain", spec.domain_default)):
            found.append(
                Definition(
                    f"max.{owner}.{spec.word}",
                    "int",
                    str(default),
                    f"{owner.capitalize()} Defaults",
                    f"The default maximum of {kind.name.lower().replace('_', ' ')} resources "
                    f"of one {owner}{unit}; -1 for no limit",
                    minimum=-1,
                )
            )
    for kind, spec in KINDS.items():
        if kind.name == "PROJECT":
            continue  # a project cannot hold projects
        unit = " (in GiB)" if kind in IN_GIB else " (in MiB)" if spec.word == "memory" else ""
        found.append(
            Definition(
                f"max.project.{spec.word}",
                "int",
                str(spec.account_default),
                "Project Defaults",
                f"The default maximum of {kind.name.lower().replace('_', ' ')} resources "
                f"of one project{unit}; -1 for no limit",
                minimum=-1,
            )
        )
    return tuple(found)


def _project_settings() -> tuple[Definition, ...]:
    """4.3's project settings (invitations by e-mail are not built, so neither are the
    e-mail sender's and SMTP settings)."""
    return (
        Definition(
            "allow.user.create.projects",
            "bool",
            "true",
            "Project Defaults",
            "If regular user can create a project; true by default",
        ),
        Definition(
            "project.invite.required",
            "bool",
            "false",
            "Project Defaults",
            "If invitation confirmation is required when add account to project. Default "
            "value is false",
        ),
        Definition(
            "project.invite.timeout",
            "int",
            "86400",
            "Project Defaults",
            "Invitation expiration time (in seconds). Default is 1 day - 86400 seconds",
            minimum=1,
        ),
    )


def _kept() -> tuple[Definition, ...]:
    """4.3's settings that are kept and listed without taking effect (`domain.kept_settings`).
    Their numbers are whatever integers 4.3 takes; their fractions (thresholds and weights)
    lie between 0 and 1, as 4.3 checks, and their other floats are not negative."""
    return tuple(
        Definition(
            kept.name,
            kept.kind,
            kept.default,
            kept.category,
            kept.description,
            kept.scopes,
        )
        for kept in kept_settings()
    )


_ACTED_ON = (
    Definition(
        "default.page.size",
        "int",
        "500",
        "Advanced",
        "Default and largest page size of list commands",
        minimum=1,
        maximum=100000,
    ),
    _template("xen", "XenServer"),
    _template("kvm", "KVM"),
    _template("vmware", "vSphere"),
    _template("hyperv", "HyperV"),
    _template("simulator", "Simulator"),
    Definition(
        "minreq.sysvmtemplate.version",
        "string",
        "4.3.0",
        "Advanced",
        "Routers reporting an older version (or none) require an upgrade",
        (GLOBAL, "zone"),
    ),
    Definition(
        "cpu.overprovisioning.factor",
        "float",
        "1",
        "Advanced",
        "How many times its CPU a host may be allocated to guests (a cluster's own value wins "
        "over the global one)",
        (GLOBAL, "cluster"),
        minimum=1,
    ),
    Definition(
        "mem.overprovisioning.factor",
        "float",
        "1",
        "Advanced",
        "How many times its memory a host may be allocated to guests (a cluster's own value "
        "wins over the global one)",
        (GLOBAL, "cluster"),
        minimum=1,
    ),
    Definition(
        "storage.overprovisioning.factor",
        "float",
        "2.0",
        "Storage",
        "How many times its capacity a primary storage pool may be allocated (a pool's own "
        "value wins over its zone's, and the zone's over the global one)",
        (GLOBAL, "zone", "storagepool"),
        minimum=1,
    ),
    Definition(
        "network.router.EnableServiceMonitoring",
        "bool",
        "true",
        "Network",
        "Watch the daemons of virtual routers and restart those that stop",
        (GLOBAL, "zone"),
    ),
    Definition(
        "router.service.monitoring.norestart",
        "string",
        "",
        "Network",
        "Router daemons (comma-separated: dnsmasq, haproxy, ssh, apache2) that are watched "
        "but never restarted",
        (GLOBAL, "zone"),
    ),
    Definition(
        "router.alerts.check.interval",
        "int",
        "180",
        "Advanced",
        "Seconds between two checks of the daemons of every running router",
        minimum=1,
        maximum=86400,
    ),
    Definition(
        "router.check.interval",
        "int",
        "30",
        "Advanced",
        "Seconds between two checks of the site-to-site VPN tunnels of every running VPC "
        "router (0 = off)",
        minimum=0,
        maximum=86400,
    ),
    Definition(
        "router.version.check",
        "bool",
        "true",
        "Advanced",
        "Refuse to program routers older than the minimum version",
        (GLOBAL, "zone"),
    ),
    Definition(
        "usage.stats.job.aggregation.range",
        "int",
        "1440",
        "Usage",
        "Minutes in one usage aggregation period",
        minimum=1,
    ),
    Definition(
        "usage.aggregation.timezone",
        "timezone",
        "GMT",
        "Usage",
        "Time zone in which usage periods are aligned",
    ),
    Definition(
        "integration.api.port",
        "int",
        "0",
        "Advanced",
        "Port of the unauthenticated integration API on 127.0.0.1 (0 = off)",
        minimum=0,
        maximum=65535,
    ),
    Definition(
        "router.stats.interval",
        "int",
        "300",
        "Advanced",
        "Interval (in seconds) to report router statistics (0 = off)",
        minimum=0,
        maximum=86400,
    ),
    Definition(
        "vm.disk.stats.interval",
        "int",
        "0",
        "Advanced",
        "Interval (in seconds) to report vm disk statistics (0 = off)",
        minimum=0,
        maximum=86400,
    ),
    Definition(
        "secstorage.allowed.internal.sites",
        "cidrs",
        "",
        "Advanced",
        "Comma separated list of cidrs internal to the datacenter that can host template "
        "download servers, please note 0.0.0.0 is not a valid site",
    ),
    Definition(
        "allow.public.user.templates",
        "bool",
        "true",
        "Advanced",
        "If false, users will not be able to create public templates.",
    ),
    Definition(
        "max.template.iso.size",
        "int",
        "50",
        "Advanced",
        "The maximum size for a downloaded template or ISO (in GB).",
        minimum=1,
    ),
    Definition(
        "extract.url.expiration.interval",
        "int",
        "14400",
        "Advanced",
        "The life of an extract URL after which it is deleted (in seconds)",
        minimum=1,
    ),
    Definition(
        "router.upgrade.parallelism",
        "int",
        "10",
        "Advanced",
        "How many routers are upgraded at the same time",
        minimum=1,
        maximum=1000,
    ),
    Definition(
        "api.throttling.enabled",
        "bool",
        "false",
        "Advanced",
        "Limit the API requests an account may issue per interval",
    ),
    Definition(
        "api.throttling.interval",
        "int",
        "1",
        "Advanced",
        "Seconds of one API throttling interval",
        minimum=1,
        maximum=86400,
    ),
    Definition(
        "api.throttling.max",
        "int",
        "25",
        "Advanced",
        "API requests an account may issue in one throttling interval",
        minimum=1,
    ),
    Definition(
        "vm.allocation.algorithm",
        "choice",
        "firstfit",
        "Advanced",
        "How user VMs are placed when their offering names no deployment planner: "
        "'random', 'firstfit', 'userdispersing' or 'userconcentratedpodfirst'",
        choices=ALGORITHMS,
    ),
    Definition(
        "network.loadbalancer.haproxy.max.conn",
        "int",
        "4096",
        "Network",
        "The most connections an HAProxy load balancer accepts at once, over all its rules: "
        "the limit a network offering with the Lb service takes when it names none",
        minimum=1,
    ),
    Definition(
        "vpc.max.networks",
        "int",
        "3",
        "Network",
        "Maximum number of networks (tiers) per VPC",
        (GLOBAL, "account"),
        minimum=1,
    ),
    Definition(
        "guest.domain.suffix",
        "string",
        "cloud.internal",
        "Network",
        "Default domain name for VMs inside virtualized networks fronted by a router",
        (GLOBAL, "zone"),
    ),
    *_limit_defaults(),
    *_ldap_settings(),
    *_operations_settings(),
    *_project_settings(),
    Definition(
        CLOUD_IDENTIFIER,
        "string",
        "",
        HIDDEN,
        "The identifier of this cloud, made at its start",
    ),
)
DEFINITIONS: dict[str, Definition] = {d.name: d for d in (*_ACTED_ON, *_kept())}


def definition(name: str) -> Definition:
    try:
        return DEFINITIONS[name]
    except KeyError:
        raise InvalidParameter(f"Configuration {name} does not exist") from None


class Configuration(Aggregate):
    """One setting's values: the global one and overrides per zone, cluster, account or storage
    pool."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(_NAMESPACE, name)

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, str | Secret] = {}

    def set(self, value: str, scope: str = GLOBAL, scope_id: UUID | None = None) -> None:
        spec = definition(self.name)
        if scope not in spec.scopes:
            raise InvalidParameter(f"Configuration {self.name} cannot be set for a {scope}")
        if (scope == GLOBAL) != (scope_id is None):
            raise InvalidParameter("A scope other than global needs the id of what it applies to")
        valid = spec.validate(value)
        kept = Secret(valid) if spec.kind == "secret" and valid else valid
        self._set(name=self.name, value=kept, scope=scope, scope_id=scope_id)

    @event("ValueSet")
    def _set(self, name: str, value: str | Secret, scope: str, scope_id: UUID | None) -> None:
        self.values[f"{scope}:{scope_id or ''}"] = value
