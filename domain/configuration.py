"""Configuration: typed, validated settings with a global value and per-scope overrides."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter
from domain.resource_limits import IN_GIB, KINDS

_NAMESPACE = UUID("8d1b1c9e-2f0a-4c55-8e3b-0b6f5f7d9a21")

GLOBAL = "global"
SCOPES = (GLOBAL, "zone", "cluster", "account")


@dataclass(frozen=True)
class Definition:
    """What a setting is: its type, default, limits and where it may be overridden."""

    name: str
    # "int", "float", "bool", "string", "timezone", "cidrs" (a comma-separated CIDR list)
    kind: str
    default: str
    category: str
    description: str
    scopes: tuple[str, ...] = (GLOBAL,)
    minimum: int | None = None
    maximum: int | None = None

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
        if self.kind == "float":
            return self._validate_float(value)
        return value

    def _validate_float(self, value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            raise InvalidParameter(f"Configuration {self.name} must be a number") from None
        if not (math.isfinite(number) and number >= (self.minimum or 0)):
            raise InvalidParameter(f"Configuration {self.name} must be at least {self.minimum}")
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
    return tuple(found)


DEFINITIONS: dict[str, Definition] = {
    d.name: d
    for d in (
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
            "storage.overprovisioning.factor",
            "float",
            "2.0",
            "Storage",
            "How many times its capacity a primary storage pool may be allocated",
            (GLOBAL, "zone"),
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
            "vpc.max.networks",
            "int",
            "3",
            "Network",
            "Maximum number of networks (tiers) per VPC",
            (GLOBAL, "account"),
            minimum=1,
        ),
        *_limit_defaults(),
    )
}


def definition(name: str) -> Definition:
    try:
        return DEFINITIONS[name]
    except KeyError:
        raise InvalidParameter(f"Configuration {name} does not exist") from None


class Configuration(Aggregate):
    """One setting's values: the global one and overrides per zone, cluster or account."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(_NAMESPACE, name)

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, str] = {}

    def set(self, value: str, scope: str = GLOBAL, scope_id: UUID | None = None) -> None:
        spec = definition(self.name)
        if scope not in spec.scopes:
            raise InvalidParameter(f"Configuration {self.name} cannot be set for a {scope}")
        if (scope == GLOBAL) != (scope_id is None):
            raise InvalidParameter("A scope other than global needs the id of what it applies to")
        self._set(name=self.name, value=spec.validate(value), scope=scope, scope_id=scope_id)

    @event("ValueSet")
    def _set(self, name: str, value: str, scope: str, scope_id: UUID | None) -> None:
        self.values[f"{scope}:{scope_id or ''}"] = value
