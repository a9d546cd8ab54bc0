"""The LDAP servers users are looked up in and authenticated against, in the order tried."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("5b0e7a44-3c1d-4f8e-9a26-d81f0c3b7e95")


class LdapServers(Aggregate):
    """Every configured LDAP server, by host name: one aggregate, so a host is never listed
    twice however many operators add it at once. The directory is tried in the order added."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(_NAMESPACE, "ldap-servers")

    @event("Started")
    def __init__(self) -> None:
        self.servers: dict[str, int] = {}

    def add(self, hostname: str, port: int) -> None:
        if not hostname.strip():
            raise InvalidParameter("An LDAP configuration needs a hostname")
        if not 0 < port < 65536:
            raise InvalidParameter(f"Invalid port {port}: an LDAP port is 1 to 65535")
        if hostname in self.servers:
            raise InvalidParameter("Duplicate configuration")
        self._added(hostname=hostname, port=port)

    @event("Added")
    def _added(self, hostname: str, port: int) -> None:
        self.servers[hostname] = port

    def remove(self, hostname: str) -> int:
        """Forget a server; its port is answered back, as 4.3's delete does."""
        if hostname not in self.servers:
            raise InvalidParameter(f"Cannot find configuration with hostname {hostname}")
        port = self.servers[hostname]
        self._removed(hostname=hostname)
        return port

    @event("Removed")
    def _removed(self, hostname: str) -> None:
        del self.servers[hostname]
