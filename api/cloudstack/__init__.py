"""The command tables, one module per API group; `tables()` hands them to the dispatcher."""

from __future__ import annotations


def tables() -> list[tuple]:  # type: ignore[type-arg]
    from api.cloudstack import (
        alerts,
        audit,
        configuration,
        domains,
        hosts,
        identity,
        infrastructure,
        jobs,
        network_offerings,
        networks,
        offerings,
        public_ips,
        router_upgrades,
        routers,
        system,
        system_vms,
        templates,
        usage,
        users,
        vms,
        volumes,
    )

    return [
        domains.COMMANDS,
        identity.COMMANDS,
        users.COMMANDS,
        jobs.COMMANDS,
        configuration.COMMANDS,
        system.COMMANDS,
        infrastructure.COMMANDS,
        hosts.COMMANDS,
        alerts.COMMANDS,
        audit.COMMANDS,
        vms.COMMANDS,
        offerings.COMMANDS,
        templates.COMMANDS,
        volumes.COMMANDS,
        network_offerings.COMMANDS,
        networks.COMMANDS,
        public_ips.COMMANDS,
        usage.COMMANDS,
        routers.COMMANDS,
        router_upgrades.COMMANDS,
        system_vms.COMMANDS,
    ]
