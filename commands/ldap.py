"""Commands on the LDAP servers list (the users they hold become accounts through identity)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commands import Outcome, change_singleton
from domain.ldap import LdapServers


def _change(store: Any, mutate: Callable[[LdapServers], Any]) -> Outcome:
    return change_singleton(store, LdapServers, mutate, what="LDAP")


@dataclass(frozen=True)
class AddLdapServer:
    hostname: str
    port: int


def add_ldap_server(store: Any, command: AddLdapServer) -> Outcome:
    return _change(store, lambda servers: servers.add(command.hostname, command.port))


@dataclass(frozen=True)
class RemoveLdapServer:
    hostname: str


def remove_ldap_server(store: Any, command: RemoveLdapServer) -> Outcome:
    return _change(store, lambda servers: servers.remove(command.hostname))
