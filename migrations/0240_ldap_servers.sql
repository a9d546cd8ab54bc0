-- The LDAP servers (listLdapConfigurations), in the order they are tried.
CREATE TABLE ldap_servers (
    hostname TEXT PRIMARY KEY,
    port INTEGER NOT NULL,
    position BIGINT NOT NULL
);
