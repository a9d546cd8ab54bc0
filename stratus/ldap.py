"""An LDAP directory: finding its users and checking their passwords by binding as them.

The servers are tried in the order given; one that cannot be reached (or does not answer within
the timeout) is passed over for the next, as CloudStack's list of provider URLs is. Every value
put into a search filter is escaped, so a user name cannot widen a search.
"""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import ldap3
from ldap3.core.exceptions import (
    LDAPBindError,
    LDAPException,
    LDAPInvalidCredentialsResult,
    LDAPSocketOpenError,
)
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from domain.values import Secret

log = logging.getLogger(__name__)


class DirectoryUnavailable(Exception):
    """No configured LDAP server could be reached or bound to."""


@dataclass(frozen=True)
class DirectorySettings:
    """Where the directory is and how its users look (the `ldap.*` settings)."""

    servers: tuple[tuple[str, int], ...]
    base_dn: str = ""
    bind_principal: str = ""
    bind_password: Secret = field(default=Secret(""))
    user_object: str = "inetOrgPerson"
    username_attribute: str = "uid"
    email_attribute: str = "mail"
    firstname_attribute: str = "givenname"
    lastname_attribute: str = "sn"
    group_object: str = "groupOfUniqueNames"
    group_member_attribute: str = "uniquemember"
    search_group: str = ""
    truststore: str = ""
    timeout: float = 1.0


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the directory holds them; `domain` is the organisational unit they are in."""

    username: str
    email: str
    firstname: str
    lastname: str
    principal: str
    domain: str


class Directory:
    """The LDAP directory of one set of settings."""

    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings

    # Users -------------------------------------------------------------------------------

    def users(self) -> list[DirectoryUser]:
        """Every user of the directory (only members of the search group, when one is set),
        by user name."""
        with self._searching() as connection:
            found = self._search(connection, self._user_filter())
        return sorted(found, key=lambda user: user.username)

    def user(self, username: str) -> DirectoryUser | None:
        """The user of that name, or None when the directory has none."""
        attribute = escape_filter_chars(self.settings.username_attribute)
        with self._searching() as connection:
            found = self._search(
                connection, self._user_filter(f"({attribute}={escape_filter_chars(username)})")
            )
        return found[0] if found else None

    def users_in_group(self, group: str) -> list[DirectoryUser]:
        """The members of the group of that common name, by user name (none for no such
        group)."""
        s = self.settings
        group_filter = (
            f"(&(objectClass={escape_filter_chars(s.group_object)})"
            f"(cn={escape_filter_chars(group)}))"
        )
        members: list[DirectoryUser] = []
        with self._searching() as connection:
            connection.search(
                s.base_dn, group_filter, attributes=[s.group_member_attribute], time_limit=10
            )
            dns = [
                str(dn)
                for entry in connection.response or []
                if entry.get("type") == "searchResEntry"
                for dn in entry["attributes"].get(s.group_member_attribute, [])
            ]
            for dn in dns:
                found = self._search(connection, self._user_filter(), base=dn, one=True)
                members.extend(found)
        return sorted(members, key=lambda user: user.username)

    def authenticate(self, username: str, password: str) -> bool:
        """Whether the directory takes this password for this user: found by name, then bound
        to as them. An empty password never counts (LDAP would take it as an anonymous bind)."""
        if not password:
            return False
        try:
            user = self.user(username)
        except DirectoryUnavailable as error:
            log.warning("LDAP login of %r not checked: %s", username, error)
            return False
        if user is None:
            return False
        try:
            with self._bound(user.principal, Secret(password)):
                return True
        except DirectoryUnavailable:
            return False

    def check_server(self, hostname: str, port: int) -> None:
        """Bind to one server as the bind principal, or DirectoryUnavailable with why."""
        s = self.settings
        connection = self._connection(
            self._server(hostname, port), s.bind_principal, s.bind_password
        )
        try:
            connection.bind()
            if not connection.bound:
                raise DirectoryUnavailable(f"{hostname}:{port} refused the bind principal")
        except LDAPException as error:
            raise DirectoryUnavailable(f"{hostname}:{port}: {error}") from None
        finally:
            connection.unbind()

    # Connections -------------------------------------------------------------------------

    @contextmanager
    def _searching(self) -> Iterator[ldap3.Connection]:
        with self._bound(self.settings.bind_principal, self.settings.bind_password) as connection:
            yield connection

    @contextmanager
    def _bound(self, principal: str, password: Secret) -> Iterator[ldap3.Connection]:
        """A connection bound as `principal` to the first server that answers. A server that
        answers and refuses the credentials ends the attempt (the others hold the same
        directory)."""
        if not self.settings.servers:
            raise DirectoryUnavailable("no LDAP server is configured")
        unreachable = []
        for hostname, port in self.settings.servers:
            connection = self._connection(self._server(hostname, port), principal, password)
            try:
                connection.bind()
            except (LDAPBindError, LDAPInvalidCredentialsResult):
                connection.unbind()
                raise DirectoryUnavailable(f"{hostname}:{port} refused the credentials") from None
            except (LDAPSocketOpenError, LDAPException) as error:
                connection.unbind()
                unreachable.append(f"{hostname}:{port} ({error})")
                continue
            if not connection.bound:
                connection.unbind()
                raise DirectoryUnavailable(f"{hostname}:{port} refused the credentials")
            try:
                yield connection
            finally:
                connection.unbind()
            return
        raise DirectoryUnavailable("no LDAP server answered: " + ", ".join(unreachable))

    def _server(self, hostname: str, port: int) -> ldap3.Server:
        s = self.settings
        tls = None
        if s.truststore:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=s.truststore)
        return ldap3.Server(
            hostname, port=port, use_ssl=bool(tls), tls=tls, connect_timeout=s.timeout
        )

    def _connection(
        self, server: ldap3.Server, principal: str, password: Secret
    ) -> ldap3.Connection:
        return ldap3.Connection(
            server,
            user=principal or None,
            password=password.reveal() or None,
            # whole seconds: the socket option it is set with takes no fraction
            receive_timeout=max(1, math.ceil(self.settings.timeout)),
            raise_exceptions=True,
            auto_referrals=False,
        )

    # Searches ----------------------------------------------------------------------------

    def _user_filter(self, *more: str) -> str:
        s = self.settings
        parts = [f"(objectClass={escape_filter_chars(s.user_object)})", *more]
        if s.search_group:
            parts.append(f"(memberOf={escape_filter_chars(s.search_group)})")
        return f"(&{''.join(parts)})"

    def _search(
        self, connection: ldap3.Connection, query: str, base: str | None = None, one: bool = False
    ) -> list[DirectoryUser]:
        s = self.settings
        wanted = [
            s.username_attribute,
            s.email_attribute,
            s.firstname_attribute,
            s.lastname_attribute,
        ]
        try:
            connection.search(
                base if base is not None else s.base_dn,
                query,
                search_scope=ldap3.BASE if one else ldap3.SUBTREE,
                attributes=wanted,
                time_limit=10,
            )
        except LDAPException as error:
            if one:  # a group naming a member that is gone
                return []
            raise DirectoryUnavailable(f"the LDAP search failed: {error}") from None
        return [
            self._user(entry["dn"], entry["attributes"])
            for entry in connection.response or []
            if entry.get("type") == "searchResEntry"
        ]

    def _user(self, dn: str, attributes: dict[str, object]) -> DirectoryUser:
        s = self.settings

        def first(name: str) -> str:
            value = _attribute(attributes, name)
            if isinstance(value, list):
                return str(value[0]) if value else ""
            return "" if value is None else str(value)

        return DirectoryUser(
            username=first(s.username_attribute),
            email=first(s.email_attribute),
            firstname=first(s.firstname_attribute),
            lastname=first(s.lastname_attribute),
            principal=dn,
            domain=_unit(dn),
        )


def _attribute(attributes: dict[str, object], name: str) -> object:
    """An attribute's value, whatever the case the directory spells its name in."""
    lowered = name.lower()
    return next((value for key, value in attributes.items() if key.lower() == lowered), None)


def _unit(dn: str) -> str:
    """The organisational unit nearest the entry (`ou=people,…` → people), or ''."""
    for attribute, value, _ in parse_dn(dn, escape=False):
        if attribute.lower() == "ou":
            return str(value)
    return ""
