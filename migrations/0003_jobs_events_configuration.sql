-- Async jobs, the audit view behind listEvents, and configuration values.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    domain_path TEXT NOT NULL DEFAULT '/',
    command TEXT NOT NULL,
    status INTEGER NOT NULL,
    instance_type TEXT NOT NULL DEFAULT '',
    instance_id TEXT,
    result TEXT,
    created TEXT NOT NULL,
    completed TEXT
);
CREATE INDEX jobs_account ON jobs (account_id, created);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    type TEXT NOT NULL,
    level TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT NOT NULL,
    account_id TEXT,
    domain_id TEXT,
    domain_path TEXT NOT NULL DEFAULT '/',
    user_id TEXT,
    parent_id TEXT,
    created TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_position ON events (position);
CREATE INDEX events_account ON events (account_id, created);

CREATE TABLE configuration_values (
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_id TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (name, scope, scope_id)
);
