-- Identity read models: the domain tree, accounts and users. Every row carries the domain path
-- of its owner, so a domain administrator's subtree is one prefix match.
CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id TEXT,
    parent_name TEXT,
    path TEXT NOT NULL,
    level INTEGER NOT NULL,
    network_domain TEXT NOT NULL DEFAULT '',
    has_children INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX domains_path ON domains (path);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    domain_path TEXT NOT NULL,
    account_type INTEGER NOT NULL,
    state TEXT NOT NULL,
    network_domain TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_domain ON accounts (domain_path);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    account_id TEXT NOT NULL,
    account_name TEXT NOT NULL,
    account_type INTEGER NOT NULL,
    domain_id TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    domain_path TEXT NOT NULL,
    firstname TEXT NOT NULL DEFAULT '',
    lastname TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    api_key TEXT,
    sealed_secret_key TEXT,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_api_key ON users (api_key);
CREATE INDEX users_login ON users (username, domain_id);
CREATE INDEX users_account ON users (account_id);
