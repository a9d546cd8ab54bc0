"""The LDAP directory as this cloud is configured: its servers from the read model, how its
users look from the `ldap.*` settings (the bind password opened from its seal)."""

from __future__ import annotations

from typing import Any

from domain.configuration import DEFINITIONS, GLOBAL
from domain.values import Secret
from projections.configuration import overrides
from projections.ldap import servers
from stratus.ldap import Directory, DirectorySettings
from stratus.store.secrets import SecretBox


def directory(cursor: Any, box: SecretBox) -> Directory | None:
    """The configured directory, or None when no LDAP server is configured (LDAP is off)."""
    found = settings(cursor, box)
    return Directory(found) if found.servers else None


def settings(cursor: Any, box: SecretBox) -> DirectorySettings:
    """The directory's settings, with the servers configured so far (perhaps none)."""
    values = overrides(cursor)

    def setting(name: str) -> str:
        return values.get((name, GLOBAL, ""), DEFINITIONS[name].default)

    def sealed(name: str) -> Secret:
        value = setting(name)
        return Secret(box.open(value) if value else "")

    return DirectorySettings(
        servers=tuple(servers(cursor)),
        base_dn=setting("ldap.basedn"),
        bind_principal=setting("ldap.bind.principal"),
        bind_password=sealed("ldap.bind.password"),
        user_object=setting("ldap.user.object"),
        username_attribute=setting("ldap.username.attribute"),
        email_attribute=setting("ldap.email.attribute"),
        firstname_attribute=setting("ldap.firstname.attribute"),
        lastname_attribute=setting("ldap.lastname.attribute"),
        group_object=setting("ldap.group.object"),
        group_member_attribute=setting("ldap.group.user.uniquemember"),
        search_group=setting("ldap.search.group.principle"),
        truststore=setting("ldap.truststore"),
        timeout=int(setting("ldap.read.timeout")) / 1000,
    )
