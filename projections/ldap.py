"""The LDAP servers read model (listLdapConfigurations, and the directory logins use)."""

from __future__ import annotations

from typing import Any

from domain.ldap import LdapServers
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

SERVERS: Any = LdapServers  # events made by the library's decorator: type checkers cannot see them


class LdapServersProjection(Projection):
    """One row per LDAP server, with the position of the event that added it (its turn)."""

    name = "ldap_servers"
    summary = "the LDAP servers users are looked up in"
    tables = ("ldap_servers",)

    @on(SERVERS.Added)
    def added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.ldap_servers} (hostname, port, position) VALUES (%s, %s, %s)",
            (e.hostname, e.port, e.originator_version),
        )

    @on(SERVERS.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.ldap_servers} WHERE hostname = %s", (e.hostname,))


def servers(cursor: Cursor) -> list[tuple[str, int]]:
    """The servers in the order they are tried: the order they were added."""
    rows = cursor.execute("SELECT hostname, port FROM ldap_servers ORDER BY position").fetchall()
    return [(row["hostname"], int(row["port"])) for row in rows]


READ_MODELS = (LdapServersProjection,)
